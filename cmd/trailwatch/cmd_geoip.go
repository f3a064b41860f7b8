package main

import "context"

// runGeoIP is not built yet: it says so and exits non-zero.
func runGeoIP(context.Context, *invocation) error { return notBuilt("geoip") }
