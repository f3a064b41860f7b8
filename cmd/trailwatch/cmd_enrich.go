package main

import "context"

// runEnrich is not built yet: it says so and exits non-zero.
func runEnrich(context.Context, *invocation) error { return notBuilt("enrich") }
