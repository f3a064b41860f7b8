package main

import "context"

// runNotify is not built yet: it says so and exits non-zero.
func runNotify(context.Context, *invocation) error { return notBuilt("notify") }
