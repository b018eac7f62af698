package synth

import (
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/dna"
	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/iris"
)

// Captures are the biometric samples taken at one encounter, as templates.
type Captures struct {
	Fingers     []FingerCapture `json:"fingers,omitempty"`
	Face        *face.Embedding `json:"-"`
	FaceQuality float64         `json:"face_quality,omitempty"`
	Irises      []IrisCapture   `json:"-"`
	DNA         *dna.Profile    `json:"dna,omitempty"`
}

// FingerCapture is one finger's minutiae template.
type FingerCapture struct {
	Position biometric.FingerPosition `json:"position"`
	Template fingerprint.Template     `json:"template"`
}

// IrisCapture is one eye's iris code.
type IrisCapture struct {
	Eye     int // 0 right, 1 left
	Code    *iris.Code
	Quality float64
}

// generators are the modality generators of a population, made once.
type generators struct {
	face *FaceGenerator
	iris *IrisGenerator
	dna  DNAModel
}

func newGenerators(seed uint64) *generators {
	return &generators{
		face: NewFaceGenerator(seed, DefaultFaceModel()),
		iris: NewIrisGenerator(seed, DefaultIrisModel()),
		dna:  DefaultDNAModel(),
	}
}

// Captures makes the samples of encounter e of person per: minutiae
// templates of the scenario's fingers (impression number e.Capture of each
// finger's master), a face template, iris codes and a DNA profile as the
// scenario asks. The same person and encounter always give the same
// samples. It is safe for concurrent use.
func (p *Population) Captures(per *Person, e *Encounter) Captures {
	g := p.g
	seed := p.Scenario.Seed
	id := uint64(per.Index)
	var c Captures
	for _, pos := range p.Scenario.Biometrics.Fingers {
		m := NewFingerMaster(seed, fingerKey(per.Index, pos))
		mt := TemplateMaster(m)
		c.Fingers = append(c.Fingers, FingerCapture{Position: pos, Template: TemplateImpression(m, &mt, e.Capture)})
	}
	if p.Scenario.Biometrics.Face {
		start, _ := time.Parse(time.DateOnly, p.Scenario.Start)
		when, _ := time.Parse(time.DateOnly, e.Date)
		years := when.Sub(start).Hours() / 24 / 365.25
		q := g.face.Quality(id, e.Capture)
		t := g.face.Embedding(g.face.Identity(id), id, e.Capture, q, years)
		c.Face, c.FaceQuality = &t, q
	}
	if p.Scenario.Biometrics.Irises {
		for eye := range 2 {
			q := g.iris.Quality(id, eye, e.Capture)
			c.Irises = append(c.Irises, IrisCapture{Eye: eye, Quality: q,
				Code: g.iris.Capture(g.iris.TrueCode(id, eye), id, eye, e.Capture, q)})
		}
	}
	if e.DNA {
		truth := DNAProfile(seed, id, per.Sex, g.dna)
		s := DNASample(seed, id, e.Capture, &truth, g.dna)
		c.DNA = &s
	}
	return c
}
