//go:build linux

package fvc

import "syscall"

// PeakRSS returns the most resident memory the process has held, in bytes
// (getrusage(2): ru_maxrss, in kilobytes on Linux), or 0 if it cannot say.
func PeakRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
