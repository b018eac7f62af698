//go:build unix

package fvc

import (
	"syscall"
	"time"
)

// ProcessCPU returns the user and system CPU time the whole process has
// used. It is the clock for work spread over goroutines, which ThreadCPU,
// timing one thread, would undercount; like ThreadCPU, it grows with the
// work done, not with other processes' load.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
