package main

import "context"

// runDevbroker is not built yet: it says so and exits non-zero.
func runDevbroker(context.Context, *invocation) error { return notBuilt("devbroker") }
