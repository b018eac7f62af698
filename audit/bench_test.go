package audit

import (
	"math/rand/v2"
	"testing"
)

// benchLog is a log of n leaves in a temporary directory.
func benchLog(b *testing.B, n int) *Log {
	b.Helper()
	s, _ := testKeys(b, "ebsp.test/bench/audit")
	l, err := Open(b.TempDir(), s)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	batch := make([]Leaf, 0, 1000)
	for i := 0; i < n; {
		batch = batch[:0]
		for ; len(batch) < cap(batch) && i < n; i++ {
			batch = append(batch, leafN(i))
		}
		if _, err := l.Append(batch...); err != nil {
			b.Fatal(err)
		}
	}
	return l
}

// BenchmarkInclusionProof times inclusion proofs of random leaves in a
// log of 300,000 leaves (ebsp bench audit times them at 10 million).
func BenchmarkInclusionProof(b *testing.B) {
	l := benchLog(b, 300000)
	n := l.Size()
	r := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for b.Loop() {
		if _, err := l.InclusionProof(r.Int64N(n), n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConsistencyProof times consistency proofs from random sizes to
// the whole log of 300,000 leaves.
func BenchmarkConsistencyProof(b *testing.B) {
	l := benchLog(b, 300000)
	n := l.Size()
	r := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for b.Loop() {
		if _, err := l.ConsistencyProof(1+r.Int64N(n-1), n); err != nil {
			b.Fatal(err)
		}
	}
}
