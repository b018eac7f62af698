//go:build !linux

package fvc

import "time"

// threadCPU is not available here; Speed falls back to wall time.
func threadCPU() (time.Duration, bool) { return 0, false }
