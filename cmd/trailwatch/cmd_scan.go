package main

import "context"

// runScan is not built yet: it says so and exits non-zero.
func runScan(context.Context, *invocation) error { return notBuilt("scan") }
