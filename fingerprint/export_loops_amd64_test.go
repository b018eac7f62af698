//go:build amd64

package fingerprint

// WithoutAVX512 runs f with the comparison's AVX-512 loops off, as on a
// processor without them (the POPCNT and Go loops run), and restores them
// after, for BenchmarkMatcher1NWithoutAVX512. It reports whether they had
// been on: without them there is nothing to compare against.
func WithoutAVX512(f func()) bool {
	had, hadCompat := useAVX512, useCompatAVX512
	useAVX512, useCompatAVX512 = false, false
	defer func() { useAVX512, useCompatAVX512 = had, hadCompat }()
	f()
	return had
}
