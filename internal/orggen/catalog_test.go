package orggen

import (
	"encoding/json"
	"testing"
	"time"
)

// testWorld plans a small run for the unit tests of the pieces.
func testWorld(t *testing.T) *world {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Events, cfg.FlowRecords = 2_000, 100
	g, err := New(cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	return g.w
}

// TestCatalogRenders renders every API of the catalogue, as a success and
// with every kind of error, and checks the record is valid JSON.
func TestCatalogRenders(t *testing.T) {
	w := testWorld(t)
	var caller, target *identity
	for _, id := range w.org.idents {
		if id.kind == kSession && id.parent != nil && target == nil {
			target = id
		}
		if id.kind == kSession && id.saml && caller == nil {
			caller = id
		}
	}
	if caller == nil || target == nil {
		t.Fatal("the test organisation has no SSO session or role chain")
	}
	sess := &session{created: w.start, duration: 3600, key: "ASIAEXAMPLEEXAMPLE00", ip: "73.1.2.3"}
	cw := newCTWriter(w)
	cw.r = newRNG(1)
	for _, a := range w.cat.apis {
		for _, kind := range []errKind{errNone, errDeny, errNotFound, errThrottle} {
			if kind == errNotFound && a.nfCode == "" {
				continue
			}
			s := &spec{at: w.start + 60, acct: caller.acct, region: caller.acct.home, ident: caller, sess: sess, api: a,
				target: target, tsess: sess, errKind: kind}
			b := cw.render(nil, s)
			var v map[string]any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("%s (error kind %d) renders invalid JSON: %v\n%s", a.key, kind, err, b)
			}
		}
	}
}

// TestProfilesAndScenariosNameKnownAPIs checks every API key the tables
// name exists in the catalogue.
func TestProfilesAndScenariosNameKnownAPIs(t *testing.T) {
	cat, err := newCatalog(apiDefs)
	if err != nil {
		t.Fatal(err)
	}
	for name, prof := range profiles {
		for _, aw := range prof {
			if _, err := cat.get(aw.key); err != nil {
				t.Errorf("profile %s: %v", name, err)
			}
		}
	}
	for _, ua := range append(append(append(append(cliAgents, boto3Agents...), goAgents...), terraformAgents...), attackerAgents...) {
		if _, err := compileTemplate(ua); err != nil {
			t.Errorf("user agent %q: %v", ua, err)
		}
	}
}

func TestCompileTemplate(t *testing.T) {
	cases := []struct {
		name, in string
		segments int
		wantErr  bool
	}{
		{"literal", `{"a":1}`, 1, false},
		{"one variable", `{"b":"{{bucket}}"}`, 2, false},
		{"adjacent variables", `{{hex8}}{{hex8}}`, 3, false},
		{"unknown variable", `{{nope}}`, 0, true},
		{"unterminated", `{{bucket`, 0, true},
		{"empty", ``, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := compileTemplate(tc.in)
			if (err != nil) != tc.wantErr || len(tpl) != tc.segments {
				t.Fatalf("got %d segments, %v; want %d, error %v", len(tpl), err, tc.segments, tc.wantErr)
			}
		})
	}
}

func TestNames(t *testing.T) {
	cases := []struct{ in, kebab, trimmed string }{
		{"DescribeInstances", "describe-instances", "DescribeInstances"},
		{"DescribeDBInstances", "describe-db-instances", "DescribeDBInstances"},
		{"ListMFADevices", "list-mfa-devices", "ListMFADevices"},
		{"ListFunctions20150331", "list-functions20150331", "ListFunctions"},
		{"GetFunction20150331v2", "get-function20150331v2", "GetFunction"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := kebab(tc.in); got != tc.kebab {
				t.Errorf("kebab = %q, want %q", got, tc.kebab)
			}
			if got := trimAPIVersion(tc.in); got != tc.trimmed {
				t.Errorf("trimAPIVersion = %q, want %q", got, tc.trimmed)
			}
		})
	}
}

// TestTimeFormats checks the hand-written time appenders against the
// standard library over a spread of instants.
func TestTimeFormats(t *testing.T) {
	r := newRNG(7)
	instants := []int64{0, 951782400 /* 2000-02-29 */, 1780272000, 4102444799}
	for i := 0; i < 2000; i++ {
		instants = append(instants, int64(r.intn(4102444800)))
	}
	for _, u := range instants {
		tt := time.Unix(u, 0).UTC()
		if got, want := string(appendISOTime(nil, u)), tt.Format(time.RFC3339); got != want {
			t.Fatalf("appendISOTime(%d) = %s, want %s", u, got, want)
		}
		if got, want := string(appendKeyTime(nil, u)), tt.Format("20060102T1504Z"); got != want {
			t.Fatalf("appendKeyTime(%d) = %s, want %s", u, got, want)
		}
		if got, want := string(appendSTSTime(nil, u)), tt.Format("Jan 2, 2006, 3:04:05 PM"); got != want {
			t.Fatalf("appendSTSTime(%d) = %s, want %s", u, got, want)
		}
		if got, want := civilOf(u).weekday, int(tt.Weekday()); got != want {
			t.Fatalf("weekday of %d = %d, want %d", u, got, want)
		}
	}
}

func TestAllocate(t *testing.T) {
	cases := []struct {
		name    string
		weights []float64
		total   int
	}{
		{"even", []float64{1, 1, 1, 1}, 10},
		{"skewed", []float64{0.001, 5, 0, 3.2}, 1_000_003},
		{"all zero", []float64{0, 0}, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := allocate(tc.weights, tc.total)
			sum := 0
			for i, n := range got {
				if n < 0 || tc.weights[i] == 0 && n != 0 {
					t.Fatalf("count %d for weight %v", n, tc.weights[i])
				}
				sum += n
			}
			if want := tc.total; sum != want && tc.name != "all zero" {
				t.Fatalf("counts add to %d, want %d", sum, want)
			}
		})
	}
}
