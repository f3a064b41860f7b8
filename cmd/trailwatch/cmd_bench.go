package main

import "context"

// runBench is not built yet: it says so and exits non-zero.
func runBench(context.Context, *invocation) error { return notBuilt("bench") }
