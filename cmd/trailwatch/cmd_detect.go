package main

import "context"

// runDetect is not built yet: it says so and exits non-zero.
func runDetect(context.Context, *invocation) error { return notBuilt("detect") }
