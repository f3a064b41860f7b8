package main

import "context"

// runSink is not built yet: it says so and exits non-zero.
func runSink(context.Context, *invocation) error { return notBuilt("sink") }
