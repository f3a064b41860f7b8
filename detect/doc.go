// Package detect is the detection stage of trailwatch: it consumes the
// enriched topic, runs stateful, windowed rules and anomaly baselines
// (brute force, first-seen behaviour, impossible travel, audit-log
// tampering, log buckets made public, port scans) and produces
// schemas.Detection records to the detections topic.
//
// Its state (windows, counters, first-seen sets, baselines) is kept per
// partition of the enriched topic, whose records are keyed by principal or
// source address, and is checkpointed to the compacted detect-state topic
// in the same transaction as the detections it produces. Windows run on
// event time and close on a watermark with allowed lateness.
//
// The stage is not built yet: `trailwatch detect` says so and exits
// non-zero.
package detect
