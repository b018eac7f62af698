package fvc

import (
	"runtime"
	"time"
)

// ThreadCPU runs f on one locked OS thread and returns the CPU time that
// thread spent in it, and true. Where the system cannot tell a thread's CPU
// time (threadCPU, Linux only) it returns the wall time and false. CPU time
// is what an evaluation quotes: on a shared machine, wall time grows with
// the other processes' load, the work of one thread does not. Collector
// work done by other threads meanwhile is not counted.
func ThreadCPU(f func()) (time.Duration, bool) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := time.Now()
	c0, ok0 := threadCPU()
	f()
	c1, ok1 := threadCPU()
	if ok0 && ok1 {
		return c1 - c0, true
	}
	return time.Since(start), false
}
