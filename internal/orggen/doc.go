// Package orggen generates a realistic AWS organisation's audit logs for
// trailwatch to ingest: organisation-trail CloudTrail delivery objects
// (with optional digest files) and VPC flow log objects, laid out in S3 as
// AWS writes them, with attack scenarios injected on top and a ground
// truth that says which events make up each attack.
//
// It sits before the pipeline: `trailwatch gen` writes into S3 (or a local
// folder), the bucket notifications or a backfill announce the objects,
// and ingest reads them as it would read AWS's own.
//
// # What is generated
//
// One organisation (o-xxxxxxxxxx) of Config.Accounts accounts: a
// management account, a log archive that owns the trail bucket, a
// security tooling account and workload accounts, each with a few enabled
// regions (us-east-1, where global services log, is always one). Inside
// them: IAM users with long-term keys (people and pipelines), console
// users and root, Identity Center (AWSReservedSSO_*) sessions of people,
// instance-profile and Lambda role sessions, AWS Config's service-linked
// role, AWS service principals, a vendor role assumed from outside the
// organisation, and role chains across accounts (pipeline user ->
// deployer role -> TerraformApply in each account; administrator ->
// OrganizationAccountAccessRole; security scanner -> SecurityAuditRole).
// Every session is created by a real AssumeRole, AssumeRoleWithSAML or
// ConsoleLogin event whose credentials are the ones the session then
// uses, so identity chains can be followed through the logs.
//
// Each identity calls a fixed profile of APIs (which is what makes a
// first-seen call detectable), from consistent addresses (people from
// home ISPs and office gateways in their countries, workloads from their
// region's NAT address or through VPC endpoints, pipelines from hosted CI
// ranges, AWS itself by service name) with consistent user agents, at
// volumes that follow a daily curve in each person's time zone. About 2
// to 5% of calls fail (AccessDenied, not-found, throttling).
//
// Each VPC has a flow log, in the default v2 format or a custom order of
// every field up to version 5. Flow logs deliver gzipped text (.log.gz)
// or, as Config.FlowFormat says, Apache Parquet (.log.parquet: a column
// per field in the format's order, typed as AWS types it, nulls for "-",
// dictionary-encoded values in gzip pages), or some flow logs one and the
// rest the other. The format never changes the records: a seed gives the
// same records in the same objects, under the same keys but for the
// extension, whichever format they are written in.
//
// # Determinism
//
// Same Config, same bytes: every random choice comes from a generator
// seeded from Config.Seed and the identity of what is being drawn (an
// account, a session, one delivery file), never from the clock or the
// order in which goroutines run. The default window is therefore a fixed
// day (DefaultStart), not "yesterday". Concurrency does not change the
// output.
//
// # How it runs
//
// New plans the whole run up front (organisation, which identity is
// active in which hour, sessions, scenario events, and how many events
// each delivery file holds). Run then generates and writes the files with
// Config.Concurrency goroutines that it owns and waits for; each renders
// its file's JSON or flow log text by hand into a reused buffer, gzips it
// with a reused writer and hands it to the Sink (a Parquet flow log goes
// through a new Parquet writer, its pages through a reused gzip writer). Memory is bounded by the plan (a few
// hundred bytes per file and per planned event) plus one file's buffers
// per goroutine; digests, when asked for, are built after the log files
// they list.
//
// The generated data carries no real secrets: access keys, session tokens
// and digest signatures are random strings of the right shape, and the
// digests cannot be verified with CloudTrail's public keys.
package orggen
