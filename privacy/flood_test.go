package privacy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// replyNoise returns the standard deviation, in bits, of the non-constant
// coefficients of the plaintext the requester decrypts: every slot holds
// the count, so the exact message is a constant polynomial and everything
// else is noise the requester sees.
func replyNoise(t *testing.T, req *Party, reply *Reply) float64 {
	t.Helper()
	p := req.params
	ct := ckks.NewCiphertext(p.CKKS, 1, 0)
	ct.Value[0].CopyLvl(0, reply.C0)
	ct.Value[1].CopyLvl(0, reply.C1)
	pt := rlwe.NewDecryptor(p.CKKS, req.sk).DecryptNew(ct)
	rq := p.CKKS.RingQ().AtLevel(0)
	rq.INTT(pt.Value, pt.Value)
	q := p.CKKS.Q()[0]
	var s float64
	for _, c := range pt.Value.Coeffs[0][1:] {
		x := float64(c)
		if c > q/2 {
			x = -float64(q - c)
		}
		s += x * x
	}
	return math.Log2(math.Sqrt(s / float64(p.CKKS.N()-1)))
}

// TestFlooding measures the evaluation noise the requester would see
// without flooding and checks the flooding drowns it by the margin
// docs/privacy.md states. EBSP_PRIVACY_LOGN=15 runs it with the deployment
// ring degree (slow).
func TestFlooding(t *testing.T) {
	if underRace {
		t.Skip("slow under -race; no concurrency of its own")
	}
	logN := 12
	if os.Getenv("EBSP_PRIVACY_LOGN") == "15" {
		logN = 15
	}
	// Both composites: the symmetric one (0.5) and a lopsided one (0.87).
	for _, th := range []float64{0.5, 0.87} {
		t.Run(fmt.Sprint(th), func(t *testing.T) { testFlooding(t, logN, th) })
	}
}

func testFlooding(t *testing.T, logN int, th float64) {
	p, err := NewParams(logN, 128, th)
	if err != nil {
		t.Fatal(err)
	}
	p.FloodSigma = 1 // the share's fresh noise only
	req, resp := testParties(t, p)
	r := rand.New(rand.NewPCG(11, 12))
	probe := normalised(randomUnit(r, p.Dim))
	vecs := make([][]float32, p.Slots())
	for i := range vecs {
		vecs[i] = randomUnit(r, p.Dim)
	}
	vecs[3] = near(r, probe, (1+th)/2)
	g, err := NewGallery(p.Dim, vecs)
	if err != nil {
		t.Fatal(err)
	}
	reply, pr := search(t, req, resp, g, probe)
	bare := replyNoise(t, req, reply)
	resp.params.FloodSigma = defaultFloodSigma
	reply, err = resp.Search(g, pr)
	if err != nil {
		t.Fatal(err)
	}
	flooded := replyNoise(t, req, reply)
	got, err := req.Count(reply)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ring 2^%d: evaluation noise 2^%.1f, flooded 2^%.1f (flooding σ 2^%.0f): %.1f bits; count %.4f",
		logN, bare, flooded, math.Log2(defaultFloodSigma), flooded-bare, got)
	if math.Round(got) != 1 {
		t.Errorf("flooded count %.4f, want 1", got)
	}
	if flooded-bare < 8 {
		t.Errorf("flooding exceeds the evaluation noise by only %.1f bits", flooded-bare)
	}
}
