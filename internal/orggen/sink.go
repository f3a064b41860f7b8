package orggen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// Sink receives the generated objects.
//
// Put is called from several goroutines at once (Config.Concurrency of
// them). body is only valid during the call: the generator reuses the
// buffer for its next object, so a Sink that keeps the bytes must copy
// them. An error from Put is final: the run stops and returns it.
type Sink interface {
	Put(ctx context.Context, bucket, key string, body []byte) error
}

// concurrencyHint is implemented by sinks that know how many objects are
// best written at once (Config.Concurrency 0 asks the sink).
type concurrencyHint interface {
	DefaultConcurrency() int
}

// DirSink writes objects to a local folder as <Dir>/<bucket>/<key>, the
// layout an S3 sync of the buckets would give.
type DirSink struct {
	// Dir is the output folder; it is created when missing.
	Dir  string
	made sync.Map // folders already created
}

var _ Sink = (*DirSink)(nil)

// NewDirSink returns a sink writing under dir.
func NewDirSink(dir string) *DirSink { return &DirSink{Dir: dir} }

// Put writes body to <Dir>/<bucket>/<key>.
func (d *DirSink) Put(ctx context.Context, bucket, key string, body []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := filepath.Join(d.Dir, bucket, filepath.FromSlash(key))
	dir := filepath.Dir(p)
	if _, ok := d.made.Load(dir); !ok {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create folder %s: %w", dir, err)
		}
		d.made.Store(dir, true)
	}
	if err := os.WriteFile(p, body, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// DefaultConcurrency is one writer per CPU: local writes are CPU-bound
// (generation and gzip).
func (d *DirSink) DefaultConcurrency() int { return runtime.GOMAXPROCS(0) }
