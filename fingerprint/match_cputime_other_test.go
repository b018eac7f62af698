//go:build !linux

package fingerprint_test

import "time"

func threadCPU() (time.Duration, bool) { return 0, false }
