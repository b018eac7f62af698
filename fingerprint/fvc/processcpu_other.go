//go:build !unix

package fvc

import "time"

// ProcessCPU is unknown off Unix: it returns 0, and CPU figures read 0.
func ProcessCPU() time.Duration { return 0 }
