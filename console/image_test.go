package console

import (
	"bytes"
	"context"
	"image/png"
	"net/url"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store"
	"github.com/ebsp/ebsp/synth"
)

// fingerPNG renders impression k of synthetic finger f as a PNG sample.
func fingerPNG(t *testing.T, f, k uint64, pos biometric.FingerPosition) node.SampleInput {
	var b bytes.Buffer
	if err := png.Encode(&b, synth.RenderMaster(synth.NewFingerMaster(7, f)).Impression(k)); err != nil {
		t.Fatal(err)
	}
	return node.SampleInput{Modality: biometric.Finger, Position: pos, Format: "png", Data: b.Bytes()}
}

// When the gallery holds the image a template came from, the examiner
// sees it under the gallery's minutiae, inline (the page's CSP allows
// data: images and nothing else from outside the console).
func TestCaseViewShowsGalleryImage(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and extracts fingerprint images")
	}
	x := newPair(t, false)
	ctx := context.Background()
	if _, err := x.gb.Operator.Enroll(ctx, &node.EnrolRequest{Identity: node.IdentityInput{ID: "GB-IMG", Names: []string{"Imaged Person"}},
		Provenance: store.Provenance{LegalBasis: "test"}, Samples: []node.SampleInput{fingerPNG(t, 1, 1, biometric.RightIndex)}}); err != nil {
		t.Fatal(err)
	}
	res, err := x.us.Operator.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: "GB", Purpose: "border_screening",
		LegalBasis: "test", Officer: "officer-1", Samples: []node.SampleInput{fingerPNG(t, 1, 2, biometric.RightIndex)}})
	if err != nil || res.Outcome != "hit" {
		t.Fatalf("step 1 with an image: %+v %v", res, err)
	}
	dc, err := x.us.Operator.RequestDisclosure(ctx, &node.ExchangeDisclosureRequest{Partner: "GB", Reference: res.Reference, Officer: "officer-1"})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowserless(t, x.gb)
	b.signin(x.gb.Tokens["GB-examiner"])
	st, h, body := b.get("/console/examiner/cases/" + url.PathEscape(dc.Case))
	if st != 200 || !strings.Contains(body, "GB-IMG") {
		t.Fatalf("case view: %d", st)
	}
	if n := strings.Count(body, `<image href="data:image/png;base64,`); n != 1 {
		t.Errorf("%d gallery images in the case view, want 1 (the probe comes as minutiae only)", n)
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "img-src 'self' data:") {
		t.Errorf("CSP %q", h.Get("Content-Security-Policy"))
	}
}
