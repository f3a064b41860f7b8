package deploy

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/trailwatch/trailwatch/internal/config"
)

// There is no Docker engine on the build machines, so compose.yaml cannot
// be run here; these tests check what can be checked without one.

// repoRoot is where compose.yaml sits, relative to this package.
const repoRoot = ".."

// roles are the pipeline roles that must each run as a compose service.
var roles = []string{"ingest", "enrich", "detect", "sink", "notify", "scan"}

type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string                `yaml:"image"`
	Build       *build                `yaml:"build"`
	Command     []string              `yaml:"command"`
	Entrypoint  []string              `yaml:"entrypoint"`
	DependsOn   map[string]dependency `yaml:"depends_on"`
	Ports       []string              `yaml:"ports"`
	Volumes     []string              `yaml:"volumes"`
	Environment map[string]string     `yaml:"environment"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Restart  string   `yaml:"restart"`
	Profiles []string `yaml:"profiles"`
}

type build struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

type dependency struct {
	Condition string `yaml:"condition"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Not strict: top-level extension keys (x-trailwatch) hold the
	// anchors; TestComposeKeys checks the service keys instead.
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("parse compose.yaml: %v", err)
	}
	if len(f.Services) == 0 {
		t.Fatal("compose.yaml has no services")
	}
	return f
}

// knownServiceKeys are the service keys the checks below understand.
var knownServiceKeys = []string{
	"image", "build", "command", "entrypoint", "depends_on", "ports", "volumes", "environment",
	"healthcheck", "restart", "profiles", "ulimits",
}

// TestComposeKeys fails on a service key the other tests do not model (a
// long-syntax port, env_file, configs, ...), so that nothing escapes them.
func TestComposeKeys(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Services map[string]map[string]any `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for name, svc := range raw.Services {
		for key := range svc {
			if !slices.Contains(knownServiceKeys, key) {
				t.Errorf("service %s: key %q is not checked by compose_test.go; model it there", name, key)
			}
		}
	}
}

// trailwatchServices returns the services that run the trailwatch image.
func trailwatchServices(f composeFile) map[string]service {
	out := map[string]service{}
	for name, s := range f.Services {
		if s.Build != nil && s.Build.Dockerfile == "deploy/Dockerfile" {
			out[name] = s
		}
	}
	return out
}

// pinnedImage is repository:tag with a tag that names a release, not a
// moving one.
var pinnedImage = regexp.MustCompile(`^[a-z0-9./_-]+:([A-Za-z0-9._-]+)$`)

func TestComposeImagesPinned(t *testing.T) {
	f := loadCompose(t)
	for name, s := range f.Services {
		switch {
		case s.Build != nil:
			ctx := filepath.Join(repoRoot, s.Build.Context)
			if _, err := os.Stat(filepath.Join(ctx, s.Build.Dockerfile)); err != nil {
				t.Errorf("service %s: build dockerfile: %v", name, err)
			}
		case s.Image == "":
			t.Errorf("service %s: neither image nor build", name)
		default:
			m := pinnedImage.FindStringSubmatch(s.Image)
			if m == nil || m[1] == "latest" || !regexp.MustCompile(`[0-9]`).MatchString(m[1]) {
				t.Errorf("service %s: image %q is not pinned to a release tag", name, s.Image)
			}
		}
	}
}

// TestDockerfilePinned checks the base images of deploy/Dockerfile.
func TestDockerfilePinned(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(string(b), -1)
	if len(froms) == 0 {
		t.Fatal("deploy/Dockerfile has no FROM")
	}
	for _, m := range froms {
		img := m[1]
		if !strings.Contains(img, ":") || strings.HasSuffix(img, ":latest") {
			t.Errorf("deploy/Dockerfile: base image %s is not pinned", img)
		}
	}
	// The Go version of the build stage is go.mod's.
	mod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if goLine == nil || !strings.Contains(string(b), "FROM golang:"+string(goLine[1])+"-") {
		t.Errorf("deploy/Dockerfile does not build with go.mod's Go %s", goLine[1])
	}
}

func TestComposeDependencies(t *testing.T) {
	f := loadCompose(t)
	for name, s := range f.Services {
		for dep, d := range s.DependsOn {
			target, ok := f.Services[dep]
			if !ok {
				t.Errorf("service %s depends on %s, which is not a service", name, dep)
				continue
			}
			switch d.Condition {
			case "service_healthy":
				if target.Healthcheck == nil || len(target.Healthcheck.Test) == 0 {
					t.Errorf("service %s waits for %s to be healthy, which has no healthcheck", name, dep)
				}
			case "service_completed_successfully":
				if target.Restart != "no" {
					t.Errorf("service %s waits for %s to complete, which is not a one-shot job (restart: %q)", name, dep, target.Restart)
				}
			case "service_started":
			default:
				t.Errorf("service %s depends on %s with condition %q", name, dep, d.Condition)
			}
			// A service that always starts must not wait for one that
			// only starts under a profile.
			if len(s.Profiles) == 0 && len(target.Profiles) > 0 {
				t.Errorf("service %s depends on %s, which runs only with profiles %v", name, dep, target.Profiles)
			}
		}
	}
	// No cycles: every service must be startable.
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	var visit func(name string, path []string)
	visit = func(name string, path []string) {
		switch state[name] {
		case 1:
			t.Errorf("depends_on cycle: %s", strings.Join(append(path, name), " -> "))
			return
		case 2:
			return
		}
		state[name] = 1
		for dep := range f.Services[name].DependsOn {
			visit(dep, append(path, name))
		}
		state[name] = 2
	}
	for name := range f.Services {
		visit(name, nil)
	}
}

func TestComposePorts(t *testing.T) {
	f := loadCompose(t)
	seen := map[string]string{}
	for name, s := range f.Services {
		for _, p := range s.Ports {
			// Short syntax HOST_IP:HOST_PORT:CONTAINER_PORT only: the stack
			// uses development credentials, so nothing listens beyond
			// loopback.
			parts := strings.Split(p, ":")
			if len(parts) != 3 || net.ParseIP(parts[0]) == nil || !net.ParseIP(parts[0]).IsLoopback() {
				t.Errorf("service %s: port %q is not 127.0.0.1:HOST:CONTAINER", name, p)
				continue
			}
			if other, dup := seen[parts[1]]; dup {
				t.Errorf("host port %s is published by both %s and %s", parts[1], other, name)
			}
			seen[parts[1]] = name
		}
	}
	// MinIO must keep off 9000, ClickHouse's native port by convention.
	for _, p := range f.Services["minio"].Ports {
		if strings.HasSuffix(p, ":9000") {
			t.Errorf("minio publishes %s", p)
		}
	}
}

// commandNames returns the subcommands in cmd/trailwatch/commands.go's
// explicit list.
func commandNames(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "cmd", "trailwatch", "commands.go"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)var commands = \[\]command\{(.*?)\n\}`).FindSubmatch(b)
	if block == nil {
		t.Fatal("cmd/trailwatch/commands.go: no `var commands = []command{...}` list")
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s*\{"([a-z0-9-]+)",`).FindAllSubmatch(block[1], -1) {
		names = append(names, string(m[1]))
	}
	if len(names) == 0 {
		t.Fatal("cmd/trailwatch/commands.go: the command list is empty")
	}
	return names
}

func TestComposeRolesAndCommands(t *testing.T) {
	f := loadCompose(t)
	known := commandNames(t)
	running := map[string]string{} // subcommand -> service
	for name, s := range trailwatchServices(f) {
		if len(s.Command) == 0 {
			t.Errorf("service %s runs the trailwatch image without a command", name)
			continue
		}
		cmd := s.Command[0]
		if !slices.Contains(known, cmd) {
			t.Errorf("service %s runs `trailwatch %s`, which is not in cmd/trailwatch/commands.go", name, cmd)
		}
		if other, dup := running[cmd]; dup {
			t.Errorf("`trailwatch %s` runs in both %s and %s", cmd, other, name)
		}
		running[cmd] = name
	}
	for _, role := range roles {
		if !slices.Contains(known, role) {
			t.Errorf("role %s is not a trailwatch command", role)
		}
		if _, ok := running[role]; !ok {
			t.Errorf("role %s has no compose service", role)
		}
	}
	for _, job := range []string{"topics", "migrate"} {
		svc, ok := running[job]
		if !ok {
			t.Errorf("no one-shot %s job", job)
			continue
		}
		if f.Services[svc].Restart != "no" {
			t.Errorf("job %s restarts (%q); a one-shot job must not", svc, f.Services[svc].Restart)
		}
	}
}

func TestComposeFilesAndVolumes(t *testing.T) {
	f := loadCompose(t)
	for name, s := range f.Services {
		mounted := map[string]bool{}
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) < 2 {
				t.Errorf("service %s: volume %q has no target", name, v)
				continue
			}
			src := parts[0]
			mounted[parts[1]] = true
			switch {
			case strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../"):
				if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
					t.Errorf("service %s: bind mount source: %v", name, err)
				}
			case strings.HasPrefix(src, "/"):
				t.Errorf("service %s: absolute host path %s ties compose.yaml to one machine", name, src)
			default:
				if _, ok := f.Volumes[src]; !ok {
					t.Errorf("service %s: volume %s is not declared under volumes", name, src)
				}
			}
		}
		// A config file the environment points at must be mounted.
		if cfg := s.Environment["TRAILWATCH_CONFIG"]; cfg != "" && !mounted[cfg] {
			t.Errorf("service %s: TRAILWATCH_CONFIG=%s is not mounted", name, cfg)
		}
	}
}

// TestComposeConfigLoads loads the mounted config file the way every role
// does: strictly, with the defaults, validated.
func TestComposeConfigLoads(t *testing.T) {
	path := filepath.Join("compose", "trailwatch.yaml")
	file := config.Default()
	if err := config.Load(path, &file, nil); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestComposeTopicsMatch: MinIO announces objects on the topic the config
// file's prefix names, which is the one ingest reads.
func TestComposeTopicsMatch(t *testing.T) {
	f := loadCompose(t)
	file := config.Default()
	if err := config.Load(filepath.Join("compose", "trailwatch.yaml"), &file, nil); err != nil {
		t.Fatal(err)
	}
	want := file.Topics.Prefix + "objects"
	var got []string
	for k, v := range f.Services["minio"].Environment {
		if strings.HasPrefix(k, "MINIO_NOTIFY_KAFKA_TOPIC_") {
			got = append(got, v)
		}
	}
	if len(got) != 1 || got[0] != want {
		t.Errorf("minio notifies topics %v, want [%s]", got, want)
	}
	if s := fmt.Sprint(f.Services["minio-setup"].Command); !strings.Contains(s, "arn:minio:sqs::trailwatch:kafka") {
		t.Errorf("minio-setup does not subscribe the buckets to the trailwatch target: %s", s)
	}
}
