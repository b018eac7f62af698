//go:build !unix

package fingerprint

// processCPU is not available here; benchmarks then report 0 CPU time.
func processCPU() float64 { return 0 }
