package ingest

import (
	"testing"
	"time"
)

func TestBackfillDayFolders(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		days   dayFolders
		folder string
	}{
		{plainDays, "2026/03/01/"},
		{hiveDays, "year=2026/month=03/day=01/"},
	} {
		if got := tc.days.folder(day); got != tc.folder {
			t.Errorf("folder(%d) = %q, want %q", tc.days, got, tc.folder)
		}
		// What a listing of the folder returns parses back to its day.
		for _, rest := range []string{tc.folder, tc.folder + "f.log.gz", tc.folder + "10/f.log.gz", tc.folder + "hour=10/f.log.gz"} {
			if got, ok := tc.days.day(rest); !ok || !got.Equal(day) {
				t.Errorf("day(%d, %q) = %s, %v, want %s", tc.days, rest, got, ok, day)
			}
		}
	}
	for _, tc := range []struct {
		days dayFolders
		rest string
	}{
		{plainDays, "2026/03/01"},
		{plainDays, "2026/3/01/"},
		{plainDays, "2026/02/30/"},
		{plainDays, "year=2026/month=03/day=01/"},
		{plainDays, ""},
		{hiveDays, "2026/03/01/"},
		{hiveDays, "year=2026/month=03/day=01"},
		{hiveDays, "year=2026/month=13/day=01/"},
		{hiveDays, "year=2026/day=01/month=03/"},
		{hiveDays, "year=2026/month=03/"},
		{hiveDays, "year=26/month=03/day=01/"},
	} {
		if got, ok := tc.days.day(tc.rest); ok {
			t.Errorf("day(%d, %q) = %s, want no day", tc.days, tc.rest, got)
		}
	}
}

func TestAccountDirServiceRoot(t *testing.T) {
	for _, tc := range []struct {
		name         string
		dir          accountDir
		svc          string
		root, region string
		ok           bool
	}{
		{"organisation trail", accountDir{prefix: "AWSLogs/o-abcdefghij/111122223333/", layout: layoutOrg}, svcCloudTrail,
			"AWSLogs/o-abcdefghij/111122223333/CloudTrail/", "", true},
		{"no flow logs under an organisation", accountDir{prefix: "AWSLogs/o-abcdefghij/111122223333/", layout: layoutOrg}, svcVPCFlowLogs, "", "", false},
		{"account flow logs", accountDir{prefix: "AWSLogs/111122223333/", layout: layoutAccount}, svcVPCFlowLogs,
			"AWSLogs/111122223333/vpcflowlogs/", "", true},
		{"hive flow logs", accountDir{prefix: "p/AWSLogs/aws-account-id=111122223333/", layout: layoutHive}, svcVPCFlowLogs,
			"p/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/", "aws-region=", true},
		{"no trail in the hive layout", accountDir{prefix: "AWSLogs/aws-account-id=111122223333/", layout: layoutHive}, svcCloudTrail, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, region, ok := tc.dir.serviceRoot(tc.svc)
			if ok != tc.ok || ok && (root != tc.root || region != tc.region) {
				t.Errorf("serviceRoot(%s) = %q, %q, %v; want %q, %q, %v", tc.svc, root, region, ok, tc.root, tc.region, tc.ok)
			}
		})
	}
}
