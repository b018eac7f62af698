//go:build !unix

package search

import "time"

// processCPU is unknown here; the benchmark's CPU figure reads 0.
func processCPU() time.Duration { return 0 }
