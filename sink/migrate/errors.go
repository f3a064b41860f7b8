package migrate

import "errors"

// ErrChecksumMismatch means a version recorded in schema_migrations was
// applied from a different file than this binary carries: a migration was
// edited after release, or two trailwatch builds disagree. The schema is
// then unknown; migrate stops rather than guess. Fix by restoring the
// released file and adding a new version for the change.
var ErrChecksumMismatch = errors.New("migration checksum mismatch")
