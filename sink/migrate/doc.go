// Package migrate applies trailwatch's ClickHouse schema: the versioned
// migrations in schemas/migrations, compiled into the binary. It runs
// before the sink starts (`trailwatch migrate`, a one-shot job in
// compose.yaml) and is the only code that changes the schema.
//
// Guarantees, without transactions or locks (ClickHouse has neither):
//
//   - Idempotent. Every statement of every migration is idempotent by rule
//     (see schemas.Migration), so applying a migration that is already
//     applied, in full or in part, changes nothing. A run that fails half
//     way is finished by the next run.
//   - Ordered. A worker applies versions strictly in order and records a
//     version in schema_migrations only after all of its statements
//     succeeded, so a recorded version implies every earlier one is in
//     place.
//   - Safe to run from several workers at once. Two workers may apply the
//     same migration at the same time; the statements converge (CREATE ...
//     IF NOT EXISTS waits on ClickHouse's per-table DDL guard, the second
//     sees the table) and both record the version. schema_migrations is a
//     ReplacingMergeTree keyed by version, and every read groups by
//     version, so the duplicate rows are harmless.
//   - Checked after. Once done, a worker reads schema_migrations again and
//     fails unless every version it knows is recorded with its own
//     checksum, which catches a migration file edited after release and
//     two binaries that disagree about a version.
//
// Versions in the database that this binary does not know (a newer
// trailwatch migrated first) are reported and left alone: an older worker
// may keep running against a newer schema, because migrations only add.
package migrate
