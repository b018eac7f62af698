package nn

// Packed is the right-hand matrix of a product (a layer's weights, k×n)
// rearranged for the SIMD kernels: column blocks of 16 (then one of 8),
// each stored as k consecutive rows, so that the kernel reads it
// sequentially. Columns beyond the last full block of 8 stay in B.
type Packed struct {
	K, N   int
	B      []float32 // the k×n matrix, row-major
	panels []float32
	n16    int // columns covered by 16-wide panels
	n8     int // columns covered by panels (16- and 8-wide)
}

// Pack prepares b (k×n, row-major) for MulAdd.
func Pack(k, n int, b []float32) *Packed {
	p := &Packed{K: k, N: n, B: b[:k*n]}
	if !useSIMD {
		return p
	}
	p.n16 = n / 16 * 16
	p.n8 = p.n16
	if n-p.n16 >= 8 {
		p.n8 += 8
	}
	p.panels = make([]float32, 0, k*p.n8)
	for j := 0; j < p.n16; j += 16 {
		for r := range k {
			p.panels = append(p.panels, b[r*n+j:r*n+j+16]...)
		}
	}
	if p.n8 > p.n16 {
		for r := range k {
			p.panels = append(p.panels, b[r*n+p.n16:r*n+p.n16+8]...)
		}
	}
	return p
}

// MulAdd adds a × B to c: a is m×K and c is m×N, both row-major.
func (p *Packed) MulAdd(m int, a, c []float32) {
	k, n := p.K, p.N
	a = a[:m*k]
	c = c[:m*n]
	if !useSIMD || k == 0 {
		Gemm(m, k, n, a, p.B, c)
		return
	}
	i := 0
	for ; i+4 <= m; i += 4 {
		off := 0
		for j := 0; j < p.n16; j += 16 {
			kernel4x16(k, &a[i*k], k, &p.panels[off], &c[i*n+j], n)
			off += 16 * k
		}
		if p.n8 > p.n16 {
			kernel4x8(k, &a[i*k], k, &p.panels[off], &c[i*n+p.n16], n)
		}
		if p.n8 < n {
			for r := i; r < i+4; r++ {
				gemmCols(k, n, p.n8, a[r*k:(r+1)*k], p.B, c[r*n:(r+1)*n])
			}
		}
	}
	for ; i < m; i++ {
		gemmCols(k, n, 0, a[i*k:(i+1)*k], p.B, c[i*n:(i+1)*n])
	}
}

// gemmCols adds row a times columns from..n of b to row c.
func gemmCols(k, n, from int, a, b, c []float32) {
	for p, x := range a {
		if x == 0 {
			continue
		}
		br := b[p*n+from : (p+1)*n]
		cr := c[from:n]
		for j, v := range br {
			cr[j] += x * v
		}
	}
}

// Gemm adds the product of a (m×k, row-major) and b (k×n, row-major) to c
// (m×n, row-major), in portable Go.
//
// It works on four rows of a at a time so that every row of b loaded from
// memory serves four rows of c; the inner loop over n runs along contiguous
// memory of b and c.
func Gemm(m, k, n int, a, b, c []float32) {
	a = a[:m*k]
	b = b[:k*n]
	c = c[:m*n]
	i := 0
	for ; i+4 <= m; i += 4 {
		a0, a1, a2, a3 := a[i*k:(i+1)*k], a[(i+1)*k:(i+2)*k], a[(i+2)*k:(i+3)*k], a[(i+3)*k:(i+4)*k]
		c0, c1, c2, c3 := c[i*n:(i+1)*n], c[(i+1)*n:(i+2)*n], c[(i+2)*n:(i+3)*n], c[(i+3)*n:(i+4)*n]
		for p := range k {
			x0, x1, x2, x3 := a0[p], a1[p], a2[p], a3[p]
			if x0 == 0 && x1 == 0 && x2 == 0 && x3 == 0 {
				continue // ReLU outputs and im2col padding are often zero
			}
			axpy4(x0, x1, x2, x3, b[p*n:(p+1)*n], c0, c1, c2, c3)
		}
	}
	for ; i < m; i++ {
		gemmCols(k, n, 0, a[i*k:(i+1)*k], b, c[i*n:(i+1)*n])
	}
}

// axpy4 adds x0*b to c0, x1*b to c1, x2*b to c2 and x3*b to c3.
func axpy4(x0, x1, x2, x3 float32, b, c0, c1, c2, c3 []float32) {
	n := len(b)
	c0, c1, c2, c3 = c0[:n], c1[:n], c2[:n], c3[:n]
	for j, v := range b {
		c0[j] += x0 * v
		c1[j] += x1 * v
		c2[j] += x2 * v
		c3[j] += x3 * v
	}
}
