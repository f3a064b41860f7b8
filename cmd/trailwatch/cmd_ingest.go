package main

import "context"

// runIngest is not built yet: it says so and exits non-zero.
func runIngest(context.Context, *invocation) error { return notBuilt("ingest") }
