package fingerprint_test

import (
	"math/rand/v2"
	"testing"

	"github.com/ebsp/ebsp/fingerprint"
)

// partial keeps the minutiae of t inside the rectangle [x0, x1) × [y0, y1)
// (image coordinates), as a sensor that saw only that part of the finger
// would record.
func partial(t fingerprint.Template, x0, y0, x1, y1 int) fingerprint.Template {
	out := t
	out.Minutiae = nil
	for _, m := range t.Minutiae {
		if m.X >= x0 && m.X < x1 && m.Y >= y0 && m.Y < y1 {
			out.Minutiae = append(out.Minutiae, m)
		}
	}
	return out
}

// TestVerificationPartialPrint compares a partial print (the minutiae of
// one corner of a SecuGen template, rotated, moved and jittered) with the
// whole template it came from, and with the other fingers of the set. The
// global verification must find most of the partial print's minutiae
// under the alignment of the consistent pairs, where the consistent pairs
// alone are a handful; for the other fingers it finds some by chance (a
// probe of 11 minutiae against overlaps of about as many: terms of 0.22
// to 0.55 when this was written, 0.96 for the genuine pair), on average
// less than half as many. Without the stage the term is 0.
func TestVerificationPartialPrint(t *testing.T) {
	_, ts := secugenTemplates(t, "fvc2002/DB1_B")
	rng := rand.New(rand.NewPCG(3, 4))
	whole := ts[0] // 101_1
	var minX, minY, maxX, maxY int = 1 << 30, 1 << 30, 0, 0
	for _, m := range whole.Minutiae {
		minX, minY, maxX, maxY = min(minX, m.X), min(minY, m.Y), max(maxX, m.X), max(maxY, m.Y)
	}
	// The lower left 60% × 60% of the minutiae's extent: about a third of
	// them.
	part := partial(whole, minX, minY+(maxY-minY)*2/5, minX+(maxX-minX)*3/5, maxY+1)
	if n := len(part.Minutiae); n < 8 || 3*n > 2*len(whole.Minutiae) {
		t.Fatalf("partial print of %d minutiae of %d", n, len(whole.Minutiae))
	}
	probe := transform(part, 0.2, 25, -15, 2, 0.08, rng)
	m := fingerprint.NewMatcher(probe)
	gallery := fingerprint.Prepare(whole)
	genuine := m.Compare(gallery)
	term, weight := m.Verified()
	if term < 0.7 || genuine < weight*term {
		t.Errorf("partial print of %d minutiae against its whole template (%d): verification %.3f, score %.3f",
			len(part.Minutiae), len(whole.Minutiae), term, genuine)
	}
	// The same partial print against every other finger of the set.
	worst, sum, n := 0.0, 0.0, 0
	for i := 8; i < len(ts); i++ {
		s := m.Compare(fingerprint.Prepare(ts[i]))
		v, _ := m.Verified()
		worst, sum, n = max(worst, s), sum+v, n+1
	}
	if mean := sum / float64(n); mean >= term/2 || worst >= genuine {
		t.Errorf("partial print: verification %.3f against its own finger, %.3f on average against %d others; score %.3f, others up to %.3f",
			term, mean, n, genuine, worst)
	}
	// A compact gallery template (no pair table), and one prepared
	// with NoVerify (whose grid is made for the comparison), are verified
	// alike; with NoVerify the stage adds exactly its term times its
	// weight, up to the cap of a template of fewer than 12 minutiae (0.025
	// a minutia for the verified score).
	noVerify := fingerprint.MatchOptions{NoVerify: true}
	for name, g := range map[string]*fingerprint.Prepared{"compact": gallery.Compact(), "prepared with NoVerify": fingerprint.PrepareWith(whole, noVerify)} {
		if s := m.Compare(g); s != genuine {
			t.Errorf("%s gallery template: score %v, %v with the option's", name, s, genuine)
		}
	}
	plain := fingerprint.NewMatcherWith(probe, noVerify).Compare(gallery)
	want := plain + weight*term
	if n := len(probe.Minutiae); n < 12 {
		want = min(want, 0.025*float64(n))
	}
	if d := genuine - want; d < -1e-12 || d > 1e-12 {
		t.Errorf("score %v with the stage, %v without, term %v × %v", genuine, plain, term, weight)
	}
}

// TestVerificationSelf: a template against a rigidly moved copy of itself
// pairs every minutia, and the term is exactly 1.
func TestVerificationSelf(t *testing.T) {
	_, ts := secugenTemplates(t, "fvc2002/DB1_B")
	for _, k := range []int{0, 9, 33} {
		moved := transform(ts[k], -0.3, -40, 30, 0, 0, nil)
		m := fingerprint.NewMatcher(moved)
		s := m.Compare(fingerprint.Prepare(ts[k]))
		if term, _ := m.Verified(); term != 1 {
			t.Errorf("template %d against itself moved: verification %.3f (score %.3f)", k, term, s)
		}
		// Pairing reports the term with the score; without the stage, none.
		if p := m.Pairing(fingerprint.Prepare(ts[k])); p.Verified != 1 || p.Score != s {
			t.Errorf("template %d: Pairing's verification %.3f, score %.3f; Compare's 1, %.3f", k, p.Verified, p.Score, s)
		}
		noVerify := fingerprint.MatchOptions{NoVerify: true}
		if p := fingerprint.NewMatcherWith(moved, noVerify).Pairing(fingerprint.Prepare(ts[k])); p.Verified != 0 {
			t.Errorf("template %d without the verification: Pairing's verification %.3f", k, p.Verified)
		}
	}
}
