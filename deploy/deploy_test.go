package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestIngestIAMPolicy checks that deploy/iam/ingest.json is valid policy
// JSON and allows every AWS call the ingest code makes, and nothing that
// writes.
func TestIngestIAMPolicy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("iam", "ingest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Version   string
		Statement []struct {
			Effect string
			Action []string
		}
	}
	if err := json.Unmarshal(b, &policy); err != nil {
		t.Fatalf("ingest.json: %v", err)
	}
	if policy.Version != "2012-10-17" {
		t.Errorf("policy version %q", policy.Version)
	}
	var allowed []string
	for _, s := range policy.Statement {
		if s.Effect != "Allow" {
			t.Errorf("unexpected effect %q", s.Effect)
		}
		allowed = append(allowed, s.Action...)
	}
	// The calls the ingest package makes, found in its source.
	calls := map[string]string{
		"GetObject": "s3:GetObject", "ListObjectsV2": "s3:ListBucket",
		"ReceiveMessage": "sqs:ReceiveMessage", "DeleteMessage": "sqs:DeleteMessage",
		"ChangeMessageVisibility": "sqs:ChangeMessageVisibility", "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibilityBatch",
		"GetQueueUrl": "sqs:GetQueueUrl",
	}
	src := ingestSource(t)
	for call, action := range calls {
		if !regexp.MustCompile(`\.` + call + `\(`).MatchString(src) {
			continue
		}
		if !slices.Contains(allowed, action) {
			t.Errorf("ingest calls %s but the policy does not allow %s", call, action)
		}
	}
	for _, a := range allowed {
		for _, w := range []string{"Put", "Delete", "Create", "Update"} {
			if strings.HasPrefix(a, "s3:"+w) {
				t.Errorf("the read-only ingest policy allows %s", a)
			}
		}
	}
}

// ingestSource returns the ingest package's non-test Go source.
func ingestSource(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "ingest", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sb.Write(b)
	}
	return sb.String()
}

// TestKubernetesIngest checks the ingest StatefulSet: it runs the ingest
// command and probes the admin server's real endpoints.
func TestKubernetesIngest(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("kubernetes", "ingest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var sts struct {
		Kind string
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Args           []string
						ReadinessProbe struct {
							HTTPGet struct{ Path string } `yaml:"httpGet"`
						} `yaml:"readinessProbe"`
						LivenessProbe struct {
							HTTPGet struct{ Path string } `yaml:"httpGet"`
						} `yaml:"livenessProbe"`
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &sts); err != nil {
		t.Fatalf("ingest.yaml: %v", err)
	}
	// A StatefulSet keeps pod names, hence transactional ids, stable.
	if sts.Kind != "StatefulSet" || len(sts.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("kind %q with %d containers", sts.Kind, len(sts.Spec.Template.Spec.Containers))
	}
	c := sts.Spec.Template.Spec.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "ingest" || !commandExists(t, c.Args[0]) {
		t.Errorf("container args %v do not run the ingest command", c.Args)
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("probes %q and %q, want /readyz and /healthz", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}
}

func commandExists(t *testing.T, name string) bool {
	b, err := os.ReadFile(filepath.Join(repoRoot, "cmd", "trailwatch", "commands.go"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), `{"`+name+`", `)
}

// TestAlertRules checks that the alert rules parse and name only metrics
// the code registers.
func TestAlertRules(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("alerts", "trailwatch.rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert string
				Expr  string
			}
		}
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("rules: %v", err)
	}
	registered := registeredMetrics(t)
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("group %s: a rule without alert name or expression", g.Name)
			}
			for _, m := range regexp.MustCompile(`trailwatch_[a-z0-9_]+`).FindAllString(r.Expr, -1) {
				if !registered[m] {
					t.Errorf("alert %s uses %s, which no code registers", r.Alert, m)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no rules")
	}
}

// registeredMetrics finds the metric names declared in the project's
// non-test Go source.
func registeredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	re := regexp.MustCompile(`Name:\s*"(trailwatch_[a-z0-9_]+)"`)
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".state" || d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
