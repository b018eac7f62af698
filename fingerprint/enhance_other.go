//go:build !amd64

package fingerprint

const enhSSE = false

func enhConv4SSE(dst, v *float32, off *int32, w *float32, n int, c float32) { panic("unreachable") }

func exGaussRow5SSE(out, pad *float32, n int, k *[5]float32) { panic("unreachable") }

func exGaussCol5SSE(out, r0, r1, r2, r3, r4 *float32, n int, k *[5]float32) { panic("unreachable") }

func exAddScaledSSE(dst, src *float32, n int, wt float32) { panic("unreachable") }
