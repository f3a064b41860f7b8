// Package sink is the last stage of trailwatch: it lands events and
// detections in ClickHouse, where analysts query them with SQL, and routes
// detections to the pager.
//
// Writes are idempotent: the events and detections tables are
// ReplacingMergeTree keyed by event_id and detection id (schemas/migrations),
// so a batch written twice after a crash leaves one row per record.
//
// Built so far: the ClickHouse connection settings (ClickHouseConfig) and,
// in package sink/migrate, the schema migrations `trailwatch migrate`
// applies. The writer and the pager router are not built yet.
package sink
