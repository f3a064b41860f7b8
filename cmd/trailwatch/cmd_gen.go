package main

import "context"

// runGen is not built yet: it says so and exits non-zero.
func runGen(context.Context, *invocation) error { return notBuilt("gen") }
