package ingest

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas"
)

// classifyCases feeds TestClassifyKey and BenchmarkClassifyKey.
var classifyCases = []struct {
	name string
	key  string
	want KeyInfo
}{
	{
		name: "account trail",
		key:  "AWSLogs/111122223333/CloudTrail/us-east-2/2024/03/05/111122223333_CloudTrail_us-east-2_20240305T1405Z_3G5oQqRk1xCvN0bD.json.gz",
		want: KeyInfo{Kind: schemas.ObjectCloudTrail, AccountID: "111122223333", Region: "us-east-2", Time: at(2024, 3, 5, 14, 5, 0)},
	},
	{
		name: "org trail with prefix",
		key:  "org/trail/AWSLogs/o-exampleorgid1/111122223333/CloudTrail/eu-west-1/2024/03/05/111122223333_CloudTrail_eu-west-1_20240305T2355Z_abcDEF123.json.gz",
		want: KeyInfo{Kind: schemas.ObjectCloudTrail, AccountID: "111122223333", Region: "eu-west-1", OrgID: "o-exampleorgid1", Time: at(2024, 3, 5, 23, 55, 0)},
	},
	{
		name: "org id ignored when folders name another account",
		key:  "AWSLogs/o-exampleorgid1/444455556666/CloudTrail/eu-west-1/2024/03/05/111122223333_CloudTrail_eu-west-1_20240305T2355Z_abc.json.gz",
		want: KeyInfo{Kind: schemas.ObjectCloudTrail, AccountID: "111122223333", Region: "eu-west-1", Time: at(2024, 3, 5, 23, 55, 0)},
	},
	{
		name: "GovCloud region",
		key:  "AWSLogs/111122223333/CloudTrail/us-gov-west-1/2024/01/31/111122223333_CloudTrail_us-gov-west-1_20240131T0000Z_x.json.gz",
		want: KeyInfo{Kind: schemas.ObjectCloudTrail, AccountID: "111122223333", Region: "us-gov-west-1", Time: at(2024, 1, 31, 0, 0, 0)},
	},
	{
		name: "bare file name as in the ransomware dataset",
		key:  "us-east-2/2021/07/29/342082656213_CloudTrail_us-east-2_20210729T2355Z_1lQFb8HU3K2s72AX.json.gz",
		want: KeyInfo{Kind: schemas.ObjectCloudTrail, AccountID: "342082656213", Region: "us-east-2", Time: at(2021, 7, 29, 23, 55, 0)},
	},
	{
		name: "file name alone",
		key:  "342082656213_CloudTrail_ap-northeast-1_20210730T0000Z_khQmkAQdMJkAhkxd.json.gz",
		want: KeyInfo{Kind: schemas.ObjectCloudTrail, AccountID: "342082656213", Region: "ap-northeast-1", Time: at(2021, 7, 30, 0, 0, 0)},
	},
	{
		name: "decompressed copy",
		key:  "342082656213_CloudTrail_ap-northeast-1_20210730T0000Z_khQmkAQdMJkAhkxd.json",
		want: KeyInfo{Kind: schemas.ObjectCloudTrail, AccountID: "342082656213", Region: "ap-northeast-1", Time: at(2021, 7, 30, 0, 0, 0)},
	},
	{
		name: "digest",
		key:  "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",
		want: KeyInfo{Kind: schemas.ObjectCloudTrailDigest, AccountID: "111122223333", Region: "us-east-2", Time: at(2015, 8, 17, 15, 1, 31)},
	},
	{
		name: "org digest, trail name with underscores, backfill",
		key:  "AWSLogs/o-aa111bb222/111122223333/CloudTrail-Digest/ca-central-1/2024/02/29/111122223333_CloudTrail-Digest_ca-central-1_org_trail_1_us-east-1_20240229T235959Z_backfill.json.gz",
		want: KeyInfo{Kind: schemas.ObjectCloudTrailDigest, AccountID: "111122223333", Region: "ca-central-1", OrgID: "o-aa111bb222", Time: at(2024, 2, 29, 23, 59, 59)},
	},
	{
		name: "insights",
		key:  "o-fxozgwu6rc/AWSLogs/o-fxozgwu6rc/123456789015/CloudTrail-Insight/ca-central-1/2020/09/23/123456789015_CloudTrail-Insight_ca-central-1_20200923T0516Z_KL5e9VCV2SS7IqzB.json.gz",
		want: KeyInfo{Kind: schemas.ObjectCloudTrailInsights, AccountID: "123456789015", Region: "ca-central-1", OrgID: "o-fxozgwu6rc", Time: at(2020, 9, 23, 5, 16, 0)},
	},
	{
		name: "flow log text",
		key:  "flow/AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz",
		want: KeyInfo{Kind: schemas.ObjectVPCFlow, AccountID: "123456789012", Region: "us-east-1", Time: at(2018, 6, 20, 16, 20, 0)},
	},
	{
		name: "flow log parquet, hourly partitions",
		key:  "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/16/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.parquet",
		want: KeyInfo{Kind: schemas.ObjectVPCFlowParquet, AccountID: "123456789012", Region: "us-east-1", Time: at(2018, 6, 20, 16, 20, 0)},
	},
	{
		name: "flow log Hive-compatible partitions",
		key:  "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-central-1/year=2024/month=12/day=31/hour=23/123456789012_vpcflowlogs_eu-central-1_fl-0a1b2c3d4e5f6a7b8_20241231T2355Z_0f1e2d3c.log.parquet",
		want: KeyInfo{Kind: schemas.ObjectVPCFlowParquet, AccountID: "123456789012", Region: "eu-central-1", Time: at(2024, 12, 31, 23, 55, 0)},
	},
	{
		name: "renamed file in AWS folders",
		key:  "AWSLogs/111122223333/CloudTrail/us-west-2/2024/03/05/reuploaded.json.gz",
		want: KeyInfo{Kind: schemas.ObjectCloudTrail, AccountID: "111122223333", Region: "us-west-2", Time: at(2024, 3, 5, 0, 0, 0)},
	},
	{
		name: "renamed flow log in Hive folders",
		key:  "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-central-1/year=2024/month=12/day=31/flows.log.gz",
		want: KeyInfo{Kind: schemas.ObjectVPCFlow, AccountID: "123456789012", Region: "eu-central-1", Time: at(2024, 12, 31, 0, 0, 0)},
	},
	{
		name: "prefix that is itself AWSLogs",
		key:  "AWSLogs/AWSLogs/111122223333/CloudTrail/us-west-2/2024/03/05/x.json.gz",
		want: KeyInfo{Kind: schemas.ObjectCloudTrail, AccountID: "111122223333", Region: "us-west-2", Time: at(2024, 3, 5, 0, 0, 0)},
	},
	{name: "ELB log", key: "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/01/01/123456789012_elasticloadbalancing_us-east-1_app.my-lb.1234_20240101T0000Z_10.0.0.1_abc.log.gz", want: unknown()},
	{name: "CloudTrail folder but not JSON", key: "AWSLogs/111122223333/CloudTrail/us-west-2/2024/03/05/notes.txt", want: unknown()},
	{name: "CloudTrail-Digest folder, bare extension", key: "AWSLogs/111122223333/CloudTrail-Digest/us-west-2/2024/03/05/.json.gz", want: unknown()},
	{name: "flow folder but not a log", key: "AWSLogs/111122223333/vpcflowlogs/us-west-2/2024/03/05/readme.md", want: unknown()},
	{name: "short account", key: "11112222333_CloudTrail_us-east-1_20240305T1405Z_x.json.gz", want: unknown()},
	{name: "bad region", key: "111122223333_CloudTrail_useast1_20240305T1405Z_x.json.gz", want: unknown()},
	{name: "31st of February", key: "111122223333_CloudTrail_us-east-1_20240231T1405Z_x.json.gz", want: unknown()},
	{name: "hour 24", key: "111122223333_CloudTrail_us-east-1_20240301T2405Z_x.json.gz", want: unknown()},
	{name: "no random part", key: "111122223333_CloudTrail_us-east-1_20240301T1405Z.json.gz", want: unknown()},
	{name: "flow log without fl- id", key: "123456789012_vpcflowlogs_us-east-1_1234abcd_20180620T1620Z_fe123456.log.gz", want: unknown()},
	{name: "folders with an extra level", key: "AWSLogs/111122223333/CloudTrail/us-west-2/2024/03/05/16/30/x.json.gz", want: unknown()},
	{name: "folders with an impossible date", key: "AWSLogs/111122223333/CloudTrail/us-west-2/2024/13/05/x.json.gz", want: unknown()},
	{name: "uploads", key: "uploads/report.csv", want: unknown()},
	{name: "empty", key: "", want: unknown()},
}

func at(year int, month time.Month, day, hour, minute, second int) time.Time {
	return time.Date(year, month, day, hour, minute, second, 0, time.UTC)
}

func unknown() KeyInfo { return KeyInfo{Kind: schemas.ObjectUnknown} }

func TestClassifyKey(t *testing.T) {
	for _, tc := range classifyCases {
		t.Run(tc.name, func(t *testing.T) {
			got := ClassifyKey(tc.key)
			if got != tc.want {
				t.Errorf("ClassifyKey(%q)\n got %+v\nwant %+v", tc.key, got, tc.want)
			}
		})
	}
}

func TestClassifyKeyDoesNotAllocate(t *testing.T) {
	for _, tc := range classifyCases {
		if n := testing.AllocsPerRun(20, func() { ClassifyKey(tc.key) }); n != 0 {
			t.Errorf("%s: %v allocations, want 0", tc.name, n)
		}
	}
}

// TestClassifyKeyDataset classifies every file of the shared CloudTrail
// dataset (laid out <region>/YYYY/MM/DD/<file>, without AWSLogs/): each
// must be CloudTrail, with the region of its folder.
func TestClassifyKeyDataset(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "datasets", "cloudtrail-sans-s3-ransomware")
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasSuffix(key, ".json.gz") {
			return nil
		}
		n++
		info := ClassifyKey(key)
		region, _, _ := strings.Cut(key, "/")
		if info.Kind != schemas.ObjectCloudTrail || info.Region != region || info.AccountID == "" || info.Time.IsZero() {
			t.Errorf("ClassifyKey(%q) = %+v", key, info)
		}
		return nil
	})
	if n == 0 {
		t.Skipf("dataset not found under %s (%v)", root, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("classified %d dataset keys", n)
}

func BenchmarkClassifyKey(b *testing.B) {
	for _, tc := range classifyCases {
		if tc.want.Kind == schemas.ObjectUnknown && tc.key == "" {
			continue
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ClassifyKey(tc.key)
			}
		})
	}
}

// FuzzClassifyKey checks that ClassifyKey never panics and that whatever
// it recognises is well formed.
func FuzzClassifyKey(f *testing.F) {
	for _, tc := range classifyCases {
		f.Add(tc.key)
	}
	f.Fuzz(func(t *testing.T, key string) {
		info := ClassifyKey(key)
		if info.Kind == schemas.ObjectUnknown {
			if info != unknown() {
				t.Fatalf("unknown kind with fields set: %+v", info)
			}
			return
		}
		if !isObjectKind(info.Kind) {
			t.Fatalf("kind %q", info.Kind)
		}
		if !isAccountID(info.AccountID) || !isRegion(info.Region) {
			t.Fatalf("bad account or region: %+v", info)
		}
		if info.OrgID != "" && !isOrgID(info.OrgID) {
			t.Fatalf("bad org id: %+v", info)
		}
		if info.Time.IsZero() || info.Time.Location() != time.UTC {
			t.Fatalf("bad time: %+v", info)
		}
		for _, s := range []string{info.AccountID, info.Region, info.OrgID} {
			if !strings.Contains(key, s) {
				t.Fatalf("%q is not part of the key", s)
			}
		}
	})
}
