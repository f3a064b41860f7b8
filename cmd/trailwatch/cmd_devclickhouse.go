package main

import "context"

// runDevclickhouse is not built yet: it says so and exits non-zero.
func runDevclickhouse(context.Context, *invocation) error { return notBuilt("devclickhouse") }
