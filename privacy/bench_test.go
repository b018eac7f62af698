package privacy

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSearch times one encrypted search of one full block (32768
// entries) with the deployment parameters: the responder's Search alone.
// ebsp bench privacy measures whole queries at any gallery size.
func BenchmarkSearch(b *testing.B) {
	p, err := DefaultParams(0.5)
	if err != nil {
		b.Fatal(err)
	}
	req, resp := testParties(b, p)
	r := rand.New(rand.NewPCG(1, 1))
	vecs := make([][]float32, p.Slots())
	for i := range vecs {
		vecs[i] = randomUnit(r, p.Dim)
	}
	g, err := NewGallery(p.Dim, vecs)
	if err != nil {
		b.Fatal(err)
	}
	pr, err := req.EncryptProbe(randomUnit(r, p.Dim))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := resp.Search(g, pr); err != nil {
			b.Fatal(err)
		}
	}
}
