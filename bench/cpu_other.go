//go:build !unix

package bench

import "time"

// processCPU is unknown off Unix: CPU figures read 0.
func processCPU() time.Duration { return 0 }
