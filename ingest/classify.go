package ingest

import (
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/schemas"
)

// KeyInfo is what an S3 key says about the log object it names.
type KeyInfo struct {
	// Kind is the object's kind; schemas.ObjectUnknown when the key
	// follows none of the layouts ClassifyKey knows, and then every other
	// field is empty.
	Kind schemas.ObjectKind
	// AccountID is the 12-digit account that produced the log.
	AccountID string
	// Region is the region the log covers (for a digest, the region of
	// the log files it signs).
	Region string
	// OrgID is the AWS Organizations id (o-...) of an organisation
	// trail's key, "" for a single-account trail or a flow log.
	OrgID string
	// Time is the UTC time stamped in the file name: the end of the
	// delivery period, to the minute (to the second for digests). A key
	// recognised only by its folders carries the folders' date (and hour)
	// instead.
	Time time.Time
}

// Service names as they appear in log folders and file names.
const (
	svcCloudTrail        = "CloudTrail"
	svcCloudTrailDigest  = "CloudTrail-Digest"
	svcCloudTrailInsight = "CloudTrail-Insight"
	svcVPCFlowLogs       = "vpcflowlogs"
)

// ClassifyKey tells what log an S3 key holds, from the layouts AWS
// delivers to:
//
//	[prefix/]AWSLogs/[o-orgid/]<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<random>.json.gz
//	[prefix/]AWSLogs/[o-orgid/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-Digest_<region>_<trail>_<home region>_<YYYYMMDDTHHMMSSZ>[_backfill].json.gz
//	[prefix/]AWSLogs/[o-orgid/]<account>/CloudTrail-Insight/<region>/YYYY/MM/DD/<account>_CloudTrail-Insight_<region>_<YYYYMMDDTHHMMZ>_<random>.json.gz
//	[prefix/]AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/[HH/]<account>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHMMZ>_<hash>.log.gz (or .log.parquet)
//	[prefix/]AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=YYYY/month=MM/day=DD/[hour=HH/]<same file name>
//
// The file name is authoritative: a file named like a delivery file is
// classified wherever it sits (copies without the AWSLogs folders, such as
// `<region>/YYYY/MM/DD/<file>`, are common), and account, region and time
// come from it. The folders only add the organisation id, and classify a
// key whose file name was changed but whose folders are AWS's (Time is
// then the folders' date). Anything else is schemas.ObjectUnknown.
//
// key must be decoded (not URL-encoded). ClassifyKey does not allocate:
// the strings in KeyInfo share key's memory.
func ClassifyKey(key string) KeyInfo {
	i := strings.LastIndexByte(key, '/')
	dir, name := key[:i+1], key[i+1:] // i == -1: no folders
	if info, ok := classifyFileName(name); ok {
		if p, ok := parseLogDir(dir); ok && p.account == info.AccountID {
			info.OrgID = p.org
		}
		return info
	}
	if p, ok := parseLogDir(dir); ok {
		if kind := p.kindOf(name); kind != schemas.ObjectUnknown {
			return KeyInfo{Kind: kind, AccountID: p.account, Region: p.region, OrgID: p.org, Time: p.date}
		}
	}
	return KeyInfo{Kind: schemas.ObjectUnknown}
}

// classifyFileName parses a delivery file name (no folders).
func classifyFileName(name string) (KeyInfo, bool) {
	account, rest, ok := strings.Cut(name, "_")
	if !ok || !isAccountID(account) {
		return KeyInfo{}, false
	}
	svc, rest, ok := strings.Cut(rest, "_")
	if !ok {
		return KeyInfo{}, false
	}
	region, rest, ok := strings.Cut(rest, "_")
	if !ok || !isRegion(region) {
		return KeyInfo{}, false
	}
	info := KeyInfo{AccountID: account, Region: region}
	switch svc {
	case svcCloudTrail, svcCloudTrailInsight:
		// <stamp>_<random>.json.gz
		base, ok := trimJSONExt(rest)
		if !ok {
			return KeyInfo{}, false
		}
		stamp, random, ok := strings.Cut(base, "_")
		if !ok || random == "" {
			return KeyInfo{}, false
		}
		if info.Time, ok = parseStamp(stamp); !ok {
			return KeyInfo{}, false
		}
		info.Kind = schemas.ObjectCloudTrail
		if svc == svcCloudTrailInsight {
			info.Kind = schemas.ObjectCloudTrailInsights
		}
		return info, true
	case svcCloudTrailDigest:
		// <trail>_<home region>_<stamp>[_backfill].json.gz; trail names
		// may hold underscores, so parse from the end.
		base, ok := trimJSONExt(rest)
		if !ok {
			return KeyInfo{}, false
		}
		base = strings.TrimSuffix(base, "_backfill")
		i := strings.LastIndexByte(base, '_')
		if i < 0 {
			return KeyInfo{}, false
		}
		if info.Time, ok = parseStamp(base[i+1:]); !ok {
			return KeyInfo{}, false
		}
		j := strings.LastIndexByte(base[:i], '_')
		if j <= 0 || !isRegion(base[j+1:i]) {
			return KeyInfo{}, false
		}
		info.Kind = schemas.ObjectCloudTrailDigest
		return info, true
	case svcVPCFlowLogs:
		// <fl-id>_<stamp>_<hash>.log.gz or .log.parquet
		kind, base := flowKind(rest)
		if kind == schemas.ObjectUnknown {
			return KeyInfo{}, false
		}
		flowLog, rest, ok := strings.Cut(base, "_")
		if !ok || !strings.HasPrefix(flowLog, "fl-") || len(flowLog) == len("fl-") {
			return KeyInfo{}, false
		}
		stamp, hash, ok := strings.Cut(rest, "_")
		if !ok || hash == "" {
			return KeyInfo{}, false
		}
		if info.Time, ok = parseStamp(stamp); !ok {
			return KeyInfo{}, false
		}
		info.Kind = kind
		return info, true
	}
	return KeyInfo{}, false
}

// trimJSONExt strips the extension CloudTrail files carry: .json.gz, or
// .json for a copy someone decompressed (the decoder sniffs gzip, so both
// read the same).
func trimJSONExt(s string) (string, bool) {
	if b, ok := strings.CutSuffix(s, ".json.gz"); ok {
		return b, true
	}
	return strings.CutSuffix(s, ".json")
}

// flowKind tells a text flow log (.log.gz, or .log once decompressed) from
// a Parquet one (.parquet, normally .log.parquet) and strips the
// extension.
func flowKind(s string) (schemas.ObjectKind, string) {
	if b, ok := strings.CutSuffix(s, ".parquet"); ok {
		return schemas.ObjectVPCFlowParquet, strings.TrimSuffix(b, ".log")
	}
	if b, ok := strings.CutSuffix(s, ".log.gz"); ok {
		return schemas.ObjectVPCFlow, b
	}
	if b, ok := strings.CutSuffix(s, ".log"); ok {
		return schemas.ObjectVPCFlow, b
	}
	return schemas.ObjectUnknown, s
}

// logDir is what the AWSLogs folders of a key say.
type logDir struct {
	org, account, service, region string
	// date is the folders' date (and hour, when partitioned by hour).
	date time.Time
}

// kindOf classifies a file named name in the folder d describes: the
// service folder gives the kind when the extension agrees with it.
func (d logDir) kindOf(name string) schemas.ObjectKind {
	switch d.service {
	case svcCloudTrail, svcCloudTrailDigest, svcCloudTrailInsight:
		if base, ok := trimJSONExt(name); !ok || base == "" {
			return schemas.ObjectUnknown
		}
		switch d.service {
		case svcCloudTrailDigest:
			return schemas.ObjectCloudTrailDigest
		case svcCloudTrailInsight:
			return schemas.ObjectCloudTrailInsights
		}
		return schemas.ObjectCloudTrail
	case svcVPCFlowLogs:
		if kind, base := flowKind(name); base != "" {
			return kind
		}
	}
	return schemas.ObjectUnknown
}

// parseLogDir parses the folders of a key (dir ends with '/' or is empty)
// from its AWSLogs/ segment to the end, in the plain or the
// Hive-compatible layout. An AWSLogs segment that does not parse does not
// stop the search for a later one (a prefix may itself be called AWSLogs).
func parseLogDir(dir string) (logDir, bool) {
	const marker = "AWSLogs/"
	for off := 0; ; {
		i := strings.Index(dir[off:], marker)
		if i < 0 {
			return logDir{}, false
		}
		i += off
		off = i + len(marker)
		if i > 0 && dir[i-1] != '/' {
			continue
		}
		if d, ok := parseLogFolders(dir[off:]); ok {
			return d, true
		}
	}
}

// parseLogFolders parses what follows AWSLogs/: it must be exactly the
// account, service, region and date folders (and an optional hour).
func parseLogFolders(s string) (logDir, bool) {
	var d logDir
	seg, s, ok := nextSegment(s)
	if !ok {
		return d, false
	}
	if v, hive := strings.CutPrefix(seg, "aws-account-id="); hive {
		return parseHiveFolders(v, s)
	}
	if isOrgID(seg) {
		d.org = seg
		if seg, s, ok = nextSegment(s); !ok {
			return d, false
		}
	}
	if !isAccountID(seg) {
		return d, false
	}
	d.account = seg
	if d.service, s, ok = nextSegment(s); !ok || !isService(d.service) {
		return d, false
	}
	if d.region, s, ok = nextSegment(s); !ok || !isRegion(d.region) {
		return d, false
	}
	var parts [4]string
	n := 0
	for ; n < len(parts) && s != ""; n++ {
		if parts[n], s, ok = nextSegment(s); !ok {
			return d, false
		}
	}
	if s != "" || n < 3 {
		return d, false
	}
	d.date, ok = folderDate(parts[:n])
	return d, ok
}

// parseHiveFolders parses the Hive-compatible layout after
// aws-account-id=: aws-service=, aws-region=, year=, month=, day= and an
// optional hour=.
func parseHiveFolders(account, s string) (logDir, bool) {
	d := logDir{account: account}
	if !isAccountID(account) {
		return d, false
	}
	var ok bool
	if d.service, s, ok = hiveSegment(s, "aws-service="); !ok || !isService(d.service) {
		return d, false
	}
	if d.region, s, ok = hiveSegment(s, "aws-region="); !ok || !isRegion(d.region) {
		return d, false
	}
	var parts [4]string
	n := 0
	for _, name := range [...]string{"year=", "month=", "day="} {
		if parts[n], s, ok = hiveSegment(s, name); !ok {
			return d, false
		}
		n++
	}
	if s != "" {
		if parts[n], s, ok = hiveSegment(s, "hour="); !ok || s != "" {
			return d, false
		}
		n++
	}
	d.date, ok = folderDate(parts[:n])
	return d, ok
}

// hiveSegment takes the next folder of s, which must be name=value.
func hiveSegment(s, name string) (value, rest string, ok bool) {
	seg, rest, ok := nextSegment(s)
	if !ok {
		return "", "", false
	}
	value, ok = strings.CutPrefix(seg, name)
	return value, rest, ok
}

// nextSegment splits the first folder off s ("a/b/" gives "a", "b/"). It
// fails when s has no '/' or the folder is empty.
func nextSegment(s string) (seg, rest string, ok bool) {
	i := strings.IndexByte(s, '/')
	if i <= 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// folderDate turns YYYY, MM, DD and an optional HH folder into a time.
func folderDate(parts []string) (time.Time, bool) {
	widths := [...]int{4, 2, 2, 2}
	var v [4]int
	for i, p := range parts {
		n, ok := digits(p, widths[i])
		if !ok {
			return time.Time{}, false
		}
		v[i] = n
	}
	return makeTime(v[0], v[1], v[2], v[3], 0, 0)
}

// isService reports whether s names a log folder ClassifyKey knows.
func isService(s string) bool {
	switch s {
	case svcCloudTrail, svcCloudTrailDigest, svcCloudTrailInsight, svcVPCFlowLogs:
		return true
	}
	return false
}

// isAccountID reports whether s is a 12-digit AWS account id.
func isAccountID(s string) bool {
	_, ok := digits(s, 12)
	return ok
}

// isOrgID reports whether s is an AWS Organizations id: o- and 10 to 32
// lowercase letters or digits.
func isOrgID(s string) bool {
	rest, ok := strings.CutPrefix(s, "o-")
	if !ok || len(rest) < 10 || len(rest) > 32 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// isRegion reports whether s looks like an AWS region code: lowercase
// words joined by '-' and ending in a number, at least three parts
// (us-east-1, us-gov-west-1, cn-north-1, eusc-de-east-1).
func isRegion(s string) bool {
	if len(s) < 6 || len(s) > 32 {
		return false
	}
	parts, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '-' {
			continue
		}
		word := s[start:i]
		if word == "" {
			return false
		}
		last := i == len(s)
		for j := 0; j < len(word); j++ {
			c := word[j]
			if last && (c < '0' || c > '9') || !last && (c < 'a' || c > 'z') {
				return false
			}
		}
		parts++
		start = i + 1
	}
	return parts >= 3
}

// parseStamp parses the time stamps of delivery file names:
// YYYYMMDDTHHMMZ, or YYYYMMDDTHHMMSSZ for digests.
func parseStamp(s string) (time.Time, bool) {
	if (len(s) != 14 && len(s) != 16) || s[8] != 'T' || s[len(s)-1] != 'Z' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4], 4)
	month, ok2 := digits(s[4:6], 2)
	day, ok3 := digits(s[6:8], 2)
	hour, ok4 := digits(s[9:11], 2)
	minute, ok5 := digits(s[11:13], 2)
	second, ok6 := 0, true
	if len(s) == 16 {
		second, ok6 = digits(s[13:15], 2)
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	return makeTime(year, month, day, hour, minute, second)
}

// makeTime builds a UTC time, rejecting out-of-range fields rather than
// letting time.Date normalise them (20210231 is not March 3rd).
func makeTime(year, month, day, hour, minute, second int) (time.Time, bool) {
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, false
	}
	return t, true
}

// digits parses s as exactly n decimal digits.
func digits(s string, n int) (int, bool) {
	if len(s) != n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}
