package ingest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestParseFilesParquet parses a folder holding a Parquet flow log and the
// same records as text: both print the same events but for their ids and
// objects. A Parquet file piped in is refused with a reason.
func TestParseFilesParquet(t *testing.T) {
	dir := t.TempDir()
	text := flowGoldenCase{name: "v5-custom"}.input(t)
	name := "111122223333_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20260302T1015Z_0a1b2c3d"
	if err := os.WriteFile(filepath.Join(dir, name+".log"), text, 0o644); err != nil {
		t.Fatal(err)
	}
	pq := flowTextToParquet(t, text, flowParquetWriting{})
	if err := os.WriteFile(filepath.Join(dir, name+".log.parquet"), pq, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	opts := ParseOptions{Limits: DefaultLimits(), Raw: true, Now: time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)}
	failed, err := ParseFiles([]string{dir}, nil, &out, &errs, opts)
	if err != nil || failed != 0 {
		t.Fatalf("failed %d, err %v, stderr %s", failed, err, errs.String())
	}
	byFile := map[string][]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		byFile[filepath.Ext(m["object"].(string))] = append(byFile[filepath.Ext(m["object"].(string))], m)
	}
	fromText, fromParquet := byFile[".log"], byFile[".parquet"]
	if len(fromText) != 4 || len(fromParquet) != 4 {
		t.Fatalf("%d text and %d Parquet events, want 4 of each", len(fromText), len(fromParquet))
	}
	for i := range fromText {
		for _, k := range []string{"event_id", "object"} {
			delete(fromText[i], k)
			delete(fromParquet[i], k)
		}
		a, _ := json.Marshal(fromText[i])
		b, _ := json.Marshal(fromParquet[i])
		if !bytes.Equal(a, b) {
			t.Errorf("event %d: text %s, Parquet %s", i, a, b)
		}
	}

	errs.Reset()
	failed, err = ParseFiles([]string{"-"}, bytes.NewReader(pq), &out, &errs, opts)
	if err != nil || failed != 1 || !strings.Contains(errs.String(), "Parquet") {
		t.Errorf("Parquet on standard input: failed %d, err %v, stderr %q", failed, err, errs.String())
	}
}
