// Package posture scans an AWS organisation for audit-log coverage gaps
// (accounts or regions without trails, flow logs or Config) and for
// exposed log stores (public or unencrypted buckets, unencrypted or
// unretained log groups), writes its findings to ClickHouse, and
// remediates them on request.
//
// The scanner is not built yet: `trailwatch scan` says so and exits
// non-zero.
package posture
