package fingerprint

// enhSSE selects enhConv4SSE: SSE is part of every amd64 processor.
const enhSSE = true

// enhConv4SSE is enhConv4's loop with the four pixels in one SSE
// register: each lane forms its sum with the scalar loop's operations in
// the scalar loop's order (no fused multiply-add), so the results are the
// same to the bit. v points at the first pixel; off and w hold n offsets
// and weights, every v[±off .. ±off+3] inside the plane.
//
//go:noescape
func enhConv4SSE(dst, v *float32, off *int32, w *float32, n int, c float32)

// exGaussRow5SSE and exGaussCol5SSE are the loops of exGaussRow5 and
// exGaussCol5 for the first n pixels (a positive multiple of 4), four
// pixels a register, each lane the scalar loop's operations in its order.
//
//go:noescape
func exGaussRow5SSE(out, pad *float32, n int, k *[5]float32)

//go:noescape
func exGaussCol5SSE(out, r0, r1, r2, r3, r4 *float32, n int, k *[5]float32)

// exAddScaledSSE is exAddScaled's loop for the first n pixels (a positive
// multiple of 4).
//
//go:noescape
func exAddScaledSSE(dst, src *float32, n int, wt float32)
