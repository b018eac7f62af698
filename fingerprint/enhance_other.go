//go:build !amd64

package fingerprint

const enhSSE = false

func enhConv4SSE(dst, v *float32, off *int32, w *float32, n int, c float32) { panic("unreachable") }
