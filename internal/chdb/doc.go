// Package chdb runs the ClickHouse engine of the local development stack.
//
// The engine is libchdb.so, the ClickHouse 26.7 engine packaged as a shared
// library by the chDB project (npm @chdb/lib-linux-x64-gnu, installed by
// deploy/local/chdb.sh). It is loaded with purego, so trailwatch still builds
// without cgo, and started through its C entry point chdb_query_cmdline as
// clickhouse-local with the native and HTTP listeners switched on. The
// result serves both protocols to clickhouse-go and to analysts' tools
// like a clickhouse-server, with two differences that matter: there is no
// system.query_log and no replication. Production runs clickhouse-server;
// this package is for `trailwatch devclickhouse`, tests and demos only.
//
// Ownership: Serve runs the engine on one goroutine that sits in the C call
// for the engine's whole life; the call cannot be interrupted from Go, only
// asked to return (Serve cancels the engine's serving query). Serve waits
// for that goroutine unless it gives up on the engine: a start that times
// out or is interrupted, or a stop that takes longer than
// Config.StopTimeout (a client still connected). It then returns and leaves
// the engine to the process exit, which is what its caller does next; the
// data on disk is consistent at any point (see Serve).
package chdb
