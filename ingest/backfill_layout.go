package ingest

import (
	"fmt"
	"strings"
	"time"
)

// The key layouts a backfill lists, as indices into backfillLayouts (for
// the per-layout counters).
const (
	layoutOrg = iota
	layoutAccount
	layoutHive
)

// backfillLayouts names the layouts by index.
var backfillLayouts = [...]string{layoutOrg: LayoutOrganization, layoutAccount: LayoutAccount, layoutHive: LayoutHive}

// The folder names of the Hive-compatible layout are name=value.
const (
	hiveAccount = "aws-account-id="
	hiveService = "aws-service="
	hiveRegion  = "aws-region="
)

// accountDir is one account's folder, where service folders are looked
// for.
type accountDir struct {
	bucket string
	// prefix ends with the account folder and '/'.
	prefix string
	// layout is layoutOrg, layoutAccount or layoutHive.
	layout int
}

// serviceRoot returns the folder holding svc's region folders under the
// account, and what region folder names start with before the region;
// ok is false when the layout never holds svc.
func (a accountDir) serviceRoot(svc string) (root, regionPrefix string, ok bool) {
	switch a.layout {
	case layoutHive:
		// AWS offers the Hive-compatible layout for flow logs only.
		return a.prefix + hiveService + svc + "/", hiveRegion, svc == svcVPCFlowLogs
	case layoutOrg:
		// VPC flow logs are delivered per account, never under an
		// organisation's folder.
		return a.prefix + svc + "/", "", svc != svcVPCFlowLogs
	}
	return a.prefix + svc + "/", "", true
}

// dayFolders says how a source names its day folders.
type dayFolders uint8

const (
	// plainDays are YYYY/MM/DD/ (the organisation and account layouts).
	plainDays dayFolders = iota + 1
	// hiveDays are year=YYYY/month=MM/day=DD/.
	hiveDays
)

// daysOf returns how sources of a layout name their day folders.
func daysOf(layout int) dayFolders {
	if layout == layoutHive {
		return hiveDays
	}
	return plainDays
}

// folder returns the day folder of day, ending with '/'. Hour folders,
// when a flow log is partitioned by hour, sit under it.
func (f dayFolders) folder(day time.Time) string {
	if f == hiveDays {
		return fmt.Sprintf("year=%04d/month=%02d/day=%02d/", day.Year(), int(day.Month()), day.Day())
	}
	return day.Format("2006/01/02/")
}

// day parses the day folder rest starts with (what follows a source's
// region folder), and reports whether it is one.
func (f dayFolders) day(rest string) (time.Time, bool) {
	var parts [3]string
	if f == hiveDays {
		var ok bool
		for i, name := range [...]string{"year=", "month=", "day="} {
			if parts[i], rest, ok = hiveSegment(rest, name); !ok {
				return time.Time{}, false
			}
		}
		return folderDate(parts[:])
	}
	for i := range parts {
		seg, next, ok := strings.Cut(rest, "/")
		if !ok {
			return time.Time{}, false
		}
		parts[i], rest = seg, next
	}
	return folderDate(parts[:])
}
