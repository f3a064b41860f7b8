package main

import "context"

// runMigrate is not built yet: it says so and exits non-zero.
func runMigrate(context.Context, *invocation) error { return notBuilt("migrate") }
