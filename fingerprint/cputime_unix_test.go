//go:build unix

package fingerprint

import "syscall"

// processCPU returns the CPU time the process has used (user + system) in
// seconds, so that benchmarks can report CPU time per operation, which a
// busy shared machine does not inflate the way it inflates wall time.
func processCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
