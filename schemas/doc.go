// Package schemas is the contract between trailwatch's stages: the normalised
// event and detection records, the object-announcement and dead-letter
// records, topic names, partition-key functions, the versioned wire codec
// and the ClickHouse DDL with its hunting query pack.
//
// Every stage imports schemas and nothing in schemas does I/O, so the
// contract can be read, tested and fuzzed on its own. A change to a record
// that an older worker cannot read bumps the wire version (see codec.go);
// workers of both versions then run side by side while a topic drains.
package schemas
