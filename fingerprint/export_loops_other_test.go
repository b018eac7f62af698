//go:build !amd64

package fingerprint

// WithoutAVX512 runs f; without amd64 there are no AVX-512 loops to turn
// off, and it reports false.
func WithoutAVX512(f func()) bool {
	f()
	return false
}
