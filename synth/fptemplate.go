package synth

import (
	"math"
	"math/rand/v2"

	"github.com/ebsp/ebsp/fingerprint"
)

// Impression size in pixels at 500 ppi (16.3 × 21.1 mm), about what a
// single-finger optical sensor of the FVC competitions captures.
const (
	ImpressionWidth  = 320
	ImpressionHeight = 416
)

// Template-level statistics. The minutiae density is chosen so that an
// impression holds about as many minutiae as the FVC 2002/2004 templates in
// the shared data (mean 26-46 per set; see docs/synthetic-data.md); the type
// mix (about 60% endings) is theirs too. Minutiae crowd somewhat near the
// singular points, as Champod et al. and Kovacs-Vajna observed.
const (
	minutiaCell     = 42   // px, cell of the jittered grid that places master minutiae
	minutiaBaseP    = 0.62 // chance that a cell holds a minutia far from singular points
	minutiaNearGain = 0.6  // extra chance near a singular point
	endingShare     = 0.6  // share of ridge endings
	missRate        = 0.14 // impression: a minutia the extractor will not see
	spuriousMean    = 4.5  // impression: false minutiae from noise and creases
	typeFlipRate    = 0.08 // impression: ending seen as bifurcation or back
	posJitter       = 2.75 // impression: px, sd of position error
	angleJitter     = 0.10 // impression: rad, sd of direction error
	borderMargin    = 10   // px kept free along the image border
	contactUsable   = 0.96 // fraction of the contact ellipse where minutiae are reliable
	minutiaMinSpace = 0.15 // jitter keeps candidates this fraction of a cell from its sides
	qualityLo       = 40   // template quality range
	qualityHi       = 95
)

// TemplateMaster returns the minutiae of a master fingerprint on its canvas
// (MasterWidth × MasterHeight): positions on a jittered grid inside the
// silhouette, directions along the orientation field (either way along the
// ridge), types with the ending share above.
func TemplateMaster(m *FingerMaster) fingerprint.Template {
	r := newRand(m.Seed, "finger-master-minutiae", m.Finger)
	t := fingerprint.Template{Width: MasterWidth, Height: MasterHeight, DPI: 500, Quality: 100,
		Minutiae: make([]fingerprint.Minutia, 0, 64)}
	span := 1 - 2*minutiaMinSpace
	for gy := 0.0; gy < MasterHeight; gy += minutiaCell {
		for gx := 0.0; gx < MasterWidth; gx += minutiaCell {
			x := gx + minutiaCell*(minutiaMinSpace+span*r.Float64())
			y := gy + minutiaCell*(minutiaMinSpace+span*r.Float64())
			u := r.Float64()
			if m.shapeDist(x, y) > 0.97 {
				continue
			}
			// The chance is minutiaBaseP plus a non-negative term of at most
			// minutiaNearGain: only draws between the two need the term.
			if u >= minutiaBaseP && u >= minutiaBaseP+minutiaNearGain*m.nearSingularity(x, y) {
				continue
			}
			t.Minutiae = append(t.Minutiae, m.minutiaAt(r, x, y))
		}
	}
	return t
}

// nearSingularity is 1 at a core or delta, falling to 0 about 100 px away.
func (m *FingerMaster) nearSingularity(x, y float64) float64 {
	best := 0.0
	for _, s := range [2][]Point{m.Cores, m.Deltas} {
		for _, p := range s {
			d2 := (x-p.X)*(x-p.X) + (y-p.Y)*(y-p.Y)
			if d2 < 4*4*60*60 { // beyond 4 sd the term is nil
				best = max(best, math.Exp(-d2/(2*60*60)))
			}
		}
	}
	return best
}

// minutiaAt makes a minutia at a point, running along the local ridge.
func (m *FingerMaster) minutiaAt(r *rand.Rand, x, y float64) fingerprint.Minutia {
	a := m.Orientation(x, y)
	if r.IntN(2) == 1 {
		a += math.Pi
	}
	typ := fingerprint.Bifurcation
	if r.Float64() < endingShare {
		typ = fingerprint.Ending
	}
	return fingerprint.Minutia{X: int(math.Round(x)), Y: int(math.Round(y)), Angle: normAngle(a), Type: typ,
		Quality: uint8(60 + r.IntN(41))}
}

// normAngle folds an angle into [0, 2π).
func normAngle(a float64) float64 {
	if a < -8*math.Pi || a > 8*math.Pi {
		a = math.Mod(a, 2*math.Pi)
	}
	for a < 0 {
		a += 2 * math.Pi
	}
	for a >= 2*math.Pi {
		a -= 2 * math.Pi
	}
	return a
}

// TemplateImpression returns the minutiae of impression number impression of
// the master whose minutiae are master (from TemplateMaster): the same
// placement, distortion and contact area as the image of that impression,
// then what a feature extractor does to minutiae: some are missed, a few
// spurious ones appear, positions and directions jitter and types flip.
func TemplateImpression(m *FingerMaster, master *fingerprint.Template, impression uint64) fingerprint.Template {
	// One generator serves the three streams in turn (each is used up
	// before the next starts), which saves allocating three.
	src := new(rand.PCG)
	r := rand.New(src)
	reseed(src, m.Seed, "finger-impression", m.Finger, impression)
	g := newImpressionGeom(r, m, ImpressionWidth, ImpressionHeight, impression)
	regime := ImpressionRegime(impression)
	reseed(src, m.Seed, "finger-impression-look", m.Finger, impression)
	wobble := newImpressionLook(r, regime).wobble
	wob := newWobble(m, impression)
	reseed(src, m.Seed, "finger-impression-minutiae", m.Finger, impression)
	miss, spurious := missRate, spuriousMean
	switch regime {
	case RegimeDry: // broken ridges: more misses and false endings
		miss, spurious = 1.8*missRate, 2*spuriousMean
	case RegimeWet: // bridged valleys: false bifurcations
		miss, spurious = 1.4*missRate, 1.7*spuriousMean
	}
	t := fingerprint.Template{Width: ImpressionWidth, Height: ImpressionHeight, DPI: 500,
		Quality:  qualityLo + r.IntN(qualityHi-qualityLo+1),
		Minutiae: make([]fingerprint.Minutia, 0, len(master.Minutiae)+8)}
	add := func(x, y, a float64, typ fingerprint.MinutiaType, q uint8) {
		// The direction after distortion and placement: map a point a few
		// pixels along the minutia's direction and see where it went.
		// The image shows at w the master at inverse(w) + δ(w), δ the
		// small-scale skin displacement; so a master point v appears at
		// w = forward(v − δ(w)). δ is read at the rigidly placed point (the
		// skin distortion moves it by a few pixels, little against the 36-px
		// scale of δ), which saves a second distortion per minutia.
		w0x, w0y := g.rigid(x, y)
		wx, wy := wob.at(w0x, w0y)
		dx := wobble * (wx - 0.5)
		dy := wobble * (wy - 0.5)
		ix, iy, na := g.forwardDir(x-dx, y-dy, a)
		na += angleJitter * r.NormFloat64()
		ix += posJitter * r.NormFloat64()
		iy += posJitter * r.NormFloat64()
		if ix < borderMargin || iy < borderMargin || ix >= ImpressionWidth-borderMargin || iy >= ImpressionHeight-borderMargin {
			return
		}
		if r.Float64() < typeFlipRate {
			typ = 3 - typ // Ending <-> Bifurcation
		}
		t.Minutiae = append(t.Minutiae, fingerprint.Minutia{X: int(math.Round(ix)), Y: int(math.Round(iy)),
			Angle: normAngle(na), Type: typ, Quality: q})
	}
	for _, mn := range master.Minutiae {
		x, y := float64(mn.X), float64(mn.Y)
		c2 := g.contact2(x, y)
		u := r.Float64()
		if c2 > contactUsable*contactUsable || !m.Inside(x, y) {
			continue
		}
		// Misses grow towards the edge of the contact area, where ridges are
		// faint and broken (within 0.75 of the centre the rate is flat, and
		// the square root is not needed).
		p := miss
		if c2 > 0.75*0.75 {
			p += 0.25 * (math.Sqrt(c2) - 0.75) / 0.25
		}
		if u < p {
			continue
		}
		add(x, y, mn.Angle, mn.Type, mn.Quality)
	}
	for range poisson(r, spurious) {
		// A uniform point in the contact ellipse.
		rho, phi := contactUsable*math.Sqrt(r.Float64()), 2*math.Pi*r.Float64()
		x, y := g.cx+g.ra*rho*math.Cos(phi), g.cy+g.rb*rho*math.Sin(phi)
		if !m.Inside(x, y) {
			continue
		}
		mn := m.minutiaAt(r, x, y)
		add(x, y, mn.Angle, mn.Type, uint8(20+r.IntN(40)))
	}
	return t
}
