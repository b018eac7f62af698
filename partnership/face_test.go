package partnership

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/face/pipeline/pipelinetest"
	"github.com/ebsp/ebsp/internal/shareddata"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store"
)

// TestFaceHitReleaseQuotaPurge runs a partner face search between two real
// nodes (mutual TLS on loopback) that enrol and search face photos with
// ebsp's recogniser: a GB-enrolled face met at the US border is a step-1
// hit and, once GB's examiner confirms, a step-2 release of allow-listed
// fields; a stranger is a no-hit whose embedding leaves no trace at GB;
// the agreement's face quota refuses the search past it.
func TestFaceHitReleaseQuotaPurge(t *testing.T) {
	ctx := context.Background()
	photos := shareddata.Dir(t, "faces/frl_london_subset")
	photo := func(name string) node.SampleInput {
		b, err := os.ReadFile(filepath.Join(photos, "images", name+".jpg"))
		if err != nil {
			t.Fatal(err)
		}
		return node.SampleInput{Modality: biometric.Face, Format: "jpeg", Data: b}
	}
	rec := engine.FacePhotos{Pipeline: pipelinetest.Load(t)}
	dir := t.TempDir()
	p, err := Start(ctx, Options{Dir: dir, Hub: "US", Partners: []string{"GB"},
		Agreement: func(a *exchange.Agreement) {
			a.Modalities = append(a.Modalities, biometric.Face)
			a.Searches[exchange.FaceSearch] = exchange.SearchRule{CandidateCap: exchange.DefaultCandidateCap(exchange.FaceSearch), DailyQuota: 2}
		},
		Node: func(state string, cfg *node.Config, engines map[biometric.Modality]engine.Engine) {
			engines[biometric.Face] = rec
			// Fixed thresholds, which the operator vouches for: the
			// built-in face tail is not calibrated (docs/face.md). A
			// distance of 0.4 for a hit, dlib's 0.6 for review.
			cfg.Thresholds = map[biometric.Modality]node.Thresholds{biometric.Face: {Hit: 0.6, Review: 0.4}}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	us, gb := p.Members["US"], p.Members["GB"]
	for _, id := range []string{"001", "012", "043"} {
		_, err := gb.Operator.Enroll(ctx, &node.EnrolRequest{
			Identity:   node.IdentityInput{ID: "GB-" + id, Names: []string{"Gbface " + id}, DateOfBirth: "1990-01-02", Nationality: []string{"GBR"}, CaseRef: "GB-CASE-" + id},
			Provenance: store.Provenance{LegalBasis: "test"}, Samples: []node.SampleInput{photo(id + "_03")}})
		if err != nil {
			t.Fatal(err)
		}
	}
	search := func(s node.SampleInput) (*exchange.Step1Result, error) {
		return us.Operator.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: "GB", Purpose: "border_screening",
			LegalBasis: "test", Officer: "officer-1", Samples: []node.SampleInput{s}})
	}
	// Step 1: the smiling photo of a GB-enrolled person.
	res, err := search(photo("012_08"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "hit" || res.Reference == "" || res.CandidateCount != 1 {
		t.Fatalf("step 1: %+v", res)
	}
	// A stranger: no hit, and GB keeps nothing of the probe.
	stranger := photo("030_08")
	res2, err := search(stranger)
	if err != nil || res2.Outcome != "no_hit" {
		t.Fatalf("stranger: %+v %v", res2, err)
	}
	emb, _, err := rec.Template(&stranger, 0)
	if err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(filepath.Join(dir, "GB"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, emb[:64]) {
			t.Errorf("no-hit probe's embedding found in %s", path)
		}
		return nil
	})
	// The agreement allows two face searches a day.
	var ae *node.APIError
	if _, err := search(photo("001_08")); !errors.As(err, &ae) || ae.Status != 429 {
		t.Errorf("third face search of the day: %v", err)
	}
	// Step 2: GB's examiner confirms, the US gets the allow-listed fields.
	dc, err := us.Operator.RequestDisclosure(ctx, &node.ExchangeDisclosureRequest{Partner: "GB", Reference: res.Reference, Officer: "officer-1",
		Fields: []string{"names", "case_reference"}})
	if err != nil {
		t.Fatal(err)
	}
	cases, err := gb.Examiner.Cases(ctx)
	if err != nil || len(cases) != 1 || len(cases[0].Candidates) == 0 || cases[0].Candidates[0] != "GB-012" {
		t.Fatalf("GB queue: %+v %v", cases, err)
	}
	if err := gb.Examiner.Decide(ctx, cases[0].Case, true, "GB-012"); err != nil {
		t.Fatal(err)
	}
	st, err := us.Operator.Disclosure(ctx, "GB", dc.Case)
	if err != nil || st.Release == nil {
		t.Fatalf("after confirmation: %+v %v", st, err)
	}
	if got := fmt.Sprint(st.Release.Fields); st.Release.Fields["names"] != "Gbface 012" || len(st.Release.Fields) != 2 {
		t.Errorf("released %s", got)
	}
}
