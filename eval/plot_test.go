package eval

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// TestDistributionSVG checks that the figure is well-formed XML with one
// polyline per sample and the names in the legend, the same bytes for the
// same samples, and that it refuses what it cannot draw.
func TestDistributionSVG(t *testing.T) {
	a := Sample{Name: "real <5 sets>", Values: []float64{0.1, 0.2, 0.2, 0.3, 0.9}}
	b := Sample{Name: "synthetic", Values: []float64{0.15, 0.25, 0.35}}
	for _, o := range []PlotOptions{{}, {Survival: true}, {From: 0, To: 2}} {
		var w1, w2 bytes.Buffer
		if err := DistributionSVG(&w1, "title & more", "score", []Sample{a, b}, o); err != nil {
			t.Fatal(err)
		}
		if err := DistributionSVG(&w2, "title & more", "score", []Sample{a, b}, o); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w1.Bytes(), w2.Bytes()) {
			t.Fatal("same samples, different bytes")
		}
		d := xml.NewDecoder(bytes.NewReader(w1.Bytes()))
		lines := 0
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%+v: not well-formed: %v", o, err)
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
				lines++
			}
		}
		if lines != 2 {
			t.Errorf("%+v: %d polylines, want 2", o, lines)
		}
		if !strings.Contains(w1.String(), "real &lt;5 sets&gt; (n = 5)") {
			t.Errorf("%+v: legend missing or unescaped", o)
		}
	}
	if err := DistributionSVG(io.Discard, "t", "x", nil, PlotOptions{}); err == nil {
		t.Error("no samples: no error")
	}
	if err := DistributionSVG(io.Discard, "t", "x", []Sample{{Name: "e"}}, PlotOptions{}); err == nil {
		t.Error("an empty sample: no error")
	}
	if err := DistributionSVG(io.Discard, "t", "x", []Sample{a, a, a, a, a}, PlotOptions{}); err == nil {
		t.Error("five samples: no error")
	}
}
