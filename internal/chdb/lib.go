package chdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"unsafe"

	"github.com/ebitengine/purego"
)

// LibVersion is the version of the npm package @chdb/lib-linux-x64-gnu
// that trailwatch is tested with and that deploy/local/chdb.sh installs.
// The npm "latest" (26.5) rejects --listen_host, so the version is pinned.
const LibVersion = "26.7.3-stable.1"

// EnvLib names the environment variable that overrides the library path.
const EnvLib = "TRAILWATCH_CHDB_LIB"

// DefaultLibPath returns where deploy/local/chdb.sh installs libchdb.so:
// $TRAILWATCH_CHDB_LIB when set, else
// ${TRAILWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/trailwatch}/chdb/<LibVersion>/libchdb.so.
// getenv is os.Getenv outside tests.
func DefaultLibPath(getenv func(string) string) string {
	if p := getenv(EnvLib); p != "" {
		return p
	}
	cache := getenv("TRAILWATCH_CACHE_DIR")
	if cache == "" {
		base := getenv("XDG_CACHE_HOME")
		if base == "" {
			base = filepath.Join(getenv("HOME"), ".cache")
		}
		cache = filepath.Join(base, "trailwatch")
	}
	return filepath.Join(cache, "chdb", LibVersion, "libchdb.so")
}

// Library is a loaded libchdb.so. It is never unloaded: the engine keeps
// global state and threads for the life of the process.
type Library struct {
	path string

	// The C functions, bound by purego (signatures from chDB's chdb.h).
	queryCmdline  func(argc int32, argv **byte) uintptr // chdb_result *chdb_query_cmdline(int, char **)
	resultError   func(res uintptr) *byte               // const char *chdb_result_error(chdb_result *)
	destroyResult func(res uintptr)                     // void chdb_destroy_query_result(chdb_result *)
}

// Open loads the library at path and binds the functions trailwatch calls.
func Open(path string) (*Library, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("load %s: %w (install it with `bash deploy/local/chdb.sh`, or point --lib or %s at it)", path, err, EnvLib)
		}
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	l := &Library{path: path}
	// Check every symbol first: RegisterLibFunc panics on a missing one,
	// and a wrong library should be an error, not a crash.
	for _, name := range []string{"chdb_query_cmdline", "chdb_result_error", "chdb_destroy_query_result"} {
		if _, err := purego.Dlsym(h, name); err != nil {
			return nil, fmt.Errorf("load %s: symbol %s: %w (is it libchdb %s?)", path, name, err, LibVersion)
		}
	}
	purego.RegisterLibFunc(&l.queryCmdline, h, "chdb_query_cmdline")
	purego.RegisterLibFunc(&l.resultError, h, "chdb_result_error")
	purego.RegisterLibFunc(&l.destroyResult, h, "chdb_destroy_query_result")
	return l, nil
}

// Path returns the file the library was loaded from.
func (l *Library) Path() string { return l.path }

// RunCmdline runs clickhouse-local with the command line args (args[0] is
// the program name, "clickhouse") and blocks until it returns. It returns
// the error text the library reports, or nil. clickhouse-local writes most
// query errors to the process's stderr itself and reports success anyway,
// so a nil error does not prove that every query succeeded.
func (l *Library) RunCmdline(args []string) error {
	// argv lives in Go memory for the whole call: the heap does not move,
	// and KeepAlive keeps it reachable until the engine returns.
	bufs := make([][]byte, len(args))
	argv := make([]*byte, len(args)+1)
	for i, a := range args {
		bufs[i] = append([]byte(a), 0)
		argv[i] = &bufs[i][0]
	}
	res := l.queryCmdline(int32(len(args)), &argv[0])
	runtime.KeepAlive(bufs)
	runtime.KeepAlive(argv)
	if res == 0 {
		return errors.New("chdb_query_cmdline returned no result")
	}
	defer l.destroyResult(res)
	if msg := goString(l.resultError(res)); msg != "" {
		return errors.New(msg)
	}
	return nil
}

// goString copies a NUL-terminated C string.
func goString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}
