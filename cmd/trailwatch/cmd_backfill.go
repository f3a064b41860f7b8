package main

import "context"

// runBackfill is not built yet: it says so and exits non-zero.
func runBackfill(context.Context, *invocation) error { return notBuilt("backfill") }
