package exchange

import (
	"crypto/sha256"
	"testing"
)

// TestInboundRound: a key-setup round is received chunk by chunk into a
// buffer made at its first chunk (a session that only started holds no
// round-sized memory), only at the next offset, within its exact size,
// and checked against its digest.
func TestInboundRound(t *testing.T) {
	msg := make([]byte, 10)
	for i := range msg {
		msg[i] = byte(i)
	}
	sum := sha256.Sum256(msg)
	in := inbound{size: len(msg)}
	put := func(off int, data []byte, digest []byte) (bool, *Refusal) {
		return in.put(&KeySetupRequest{Round: 1, Offset: int64(off), Digest: digest, Data: data})
	}
	if in.buf != nil {
		t.Fatal("buffer made before the first chunk")
	}
	if done, rf := put(3, msg[3:6], sum[:]); done || rf != nil || in.buf != nil {
		t.Fatalf("a chunk at the wrong offset: done %v, %v, buffer %d bytes", done, rf, len(in.buf))
	}
	if _, rf := put(0, make([]byte, 11), sum[:]); rf == nil || in.buf != nil {
		t.Fatalf("a chunk longer than the round: %v, buffer %d bytes", rf, len(in.buf))
	}
	if done, rf := put(0, msg[:6], sum[:]); done || rf != nil || len(in.buf) != len(msg) || in.got != 6 {
		t.Fatalf("first chunk: done %v, %v, got %d", done, rf, in.got)
	}
	if _, rf := put(6, msg[6:], make([]byte, sha256.Size)); rf == nil {
		t.Fatal("the digest changed within the round")
	}
	if done, rf := put(6, msg[6:], sum[:]); !done || rf != nil {
		t.Fatalf("last chunk: done %v, %v", done, rf)
	}
	// A round whose bytes do not match the digest starts over.
	in = inbound{size: len(msg)}
	bad := sha256.Sum256([]byte("other"))
	if done, rf := put(0, msg, bad[:]); done || rf == nil || in.got != 0 {
		t.Fatalf("a round against another digest: done %v, %v, got %d", done, rf, in.got)
	}
}
