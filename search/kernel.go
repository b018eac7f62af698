package search

// The int8 dot-product kernel of the first stage. A gallery's vectors lie
// end to end in one []int8, so a scan reads memory in order and the loop
// is the whole cost: on amd64 with AVX2 it runs in assembly
// (kernel_amd64.s), elsewhere in the portable loop below, unrolled by
// eight with four accumulators so that the compiler keeps them in
// registers and the multiplications of one step do not wait for each
// other.

// DotInt8 returns the dot product of two equally long int8 vectors (the
// shorter length is used if they differ).
func DotInt8(a, b []int8) int32 {
	n := min(len(a), len(b))
	if n >= 32 && useAVX2 {
		k := n &^ 31
		s := dotInt8AVX2(&a[0], &b[0], k)
		return s + dotInt8Go(a[k:n], b[k:n])
	}
	return dotInt8Go(a[:n], b[:n])
}

func dotInt8Go(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x, y := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += int32(x[0])*int32(y[0]) + int32(x[4])*int32(y[4])
		s1 += int32(x[1])*int32(y[1]) + int32(x[5])*int32(y[5])
		s2 += int32(x[2])*int32(y[2]) + int32(x[6])*int32(y[6])
		s3 += int32(x[3])*int32(y[3]) + int32(x[7])*int32(y[7])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}

// ScanInt8 computes out[i] = DotInt8(vecs[i*dim:(i+1)*dim], probe) for each
// of the len(out) vectors of vecs. It panics if vecs is shorter than
// len(out)·dim or probe shorter than dim.
func ScanInt8(vecs []int8, dim int, probe []int8, out []int32) {
	_ = vecs[len(out)*dim-1]
	probe = probe[:dim]
	if useAVX2 && dim%64 == 0 && len(out) > 0 {
		scanInt8AVX2(&vecs[0], dim, &widen(probe)[0], &out[0], len(out))
		return
	}
	for i := range out {
		out[i] = dotInt8Go(vecs[i*dim:(i+1)*dim], probe)
	}
}

// ScanInt8Batch is ScanInt8 for several probes at once: out[p][i] is the
// dot product of vector i with probes[p]. Each gallery vector is read from
// memory once for all the probes, so a batch of B probes costs little more
// than one while the scan is bound by memory bandwidth.
func ScanInt8Batch(vecs []int8, dim int, probes [][]int8, out [][]int32) {
	if len(probes) == 0 {
		return
	}
	n := len(out[0])
	// Blocks of vectors small enough to stay in the first-level cache
	// while every probe passes over them.
	block := max(1, 16384/max(dim, 1))
	for lo := 0; lo < n; lo += block {
		hi := min(n, lo+block)
		for p, pr := range probes {
			ScanInt8(vecs[lo*dim:hi*dim], dim, pr, out[p][lo:hi])
		}
	}
}

// widen returns the probe as int16, the form the AVX2 loop multiplies by.
func widen(p []int8) []int16 {
	w := make([]int16, len(p))
	for i, x := range p {
		w[i] = int16(x)
	}
	return w
}
