package main

import "context"

// runParse is not built yet: it says so and exits non-zero.
func runParse(context.Context, *invocation) error { return notBuilt("parse") }
