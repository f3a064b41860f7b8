//go:build linux

package schemas

import (
	"syscall"
	"time"
)

// threadCPUTime returns the CPU time the calling OS thread has used, and
// true. Benchmarks lock their goroutine to a thread and report it next to
// ns/op, which on a shared machine also counts the time spent waiting for
// a core.
func threadCPUTime() (time.Duration, bool) {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
