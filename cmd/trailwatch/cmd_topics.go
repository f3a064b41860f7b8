package main

import "context"

// runTopics is not built yet: it says so and exits non-zero.
func runTopics(context.Context, *invocation) error { return notBuilt("topics") }
