package partnership

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/privacy"
	"github.com/ebsp/ebsp/store"
	"github.com/ebsp/ebsp/synth"
)

// TestEncryptedFaceSearchNodes runs the encrypted face search between two
// real nodes (their APIs, stores and partner endpoints over mutual TLS):
// the US admin runs the key setup through the node API, a face enrolled
// at GB is an encrypted hit whose step 2 GB's examiner confirms, and a
// stranger's encrypted probe leaves nothing of its embedding in GB's data
// directory or logs. It uses ring 2^12 (insecure test parameters) to stay
// quick; package exchange's TestEncryptedFaceSearch runs 2^15.
func TestEncryptedFaceSearchNodes(t *testing.T) {
	ctx := context.Background()
	train := synth.NewFaceGenerator(182, synth.DefaultFaceModel())
	var tv [][]float32
	for i := range 400 {
		id := uint64(i)
		tv = append(tv, train.Capture(train.Identity(id), id, 0, train.Quality(id, 0), 0))
	}
	proj, err := privacy.LearnProjection(tv, 128)
	if err != nil {
		t.Fatal(err)
	}
	projBytes, _ := proj.MarshalBinary()
	gen := synth.NewFaceGenerator(28, synth.DefaultFaceModel())
	sample := func(id, capture uint64) node.SampleInput {
		e := gen.Embedding(gen.Identity(id), id, capture, gen.Quality(id, capture), 0)
		return node.SampleInput{Modality: biometric.Face, Format: "face-embedding", Data: e.Bytes()}
	}
	var logs bytes.Buffer
	dir := t.TempDir()
	p, err := Start(ctx, Options{Dir: dir, Hub: "US", Partners: []string{"GB"}, Log: &logs,
		Agreement: func(a *exchange.Agreement) {
			a.Modalities = append(a.Modalities, biometric.Face)
			a.Searches[exchange.FaceSearch] = exchange.SearchRule{DailyQuota: 10}
			a.EncryptedSearch = &exchange.EncryptedSearch{Modalities: []biometric.Modality{biometric.Face}, Threshold: 0.6,
				Projection: projBytes, LogN: 12, InsecureTestParameters: true}
		},
		Node: func(state string, cfg *node.Config, engines map[biometric.Modality]engine.Engine) {
			engines[biometric.Face] = engine.Face{}
			// Fixed thresholds on 1 − distance for the clear search of
			// step 2 (the synthetic faces' impostors lie above 0.45).
			cfg.Thresholds = map[biometric.Modality]node.Thresholds{biometric.Face: {Hit: 0.55, Review: 0.5}}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	us, gb := p.Members["US"], p.Members["GB"]
	for i := range 40 {
		id := uint64(i)
		if _, err := gb.Operator.Enroll(ctx, &node.EnrolRequest{
			Identity:   node.IdentityInput{ID: fmt.Sprintf("GB-F%03d", i), Names: []string{fmt.Sprintf("Face %03d", i)}, DateOfBirth: "1990-01-02", Nationality: []string{"GBR"}},
			Provenance: store.Provenance{LegalBasis: "test"}, Samples: []node.SampleInput{sample(id, 0)}}); err != nil {
			t.Fatal(err)
		}
	}
	search := func(s node.SampleInput) (*exchange.Step1Result, error) {
		return us.Operator.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: "GB", Purpose: "border_screening",
			LegalBasis: "test", Officer: "officer-1", Samples: []node.SampleInput{s}})
	}
	// Before the key setup the US node cannot search.
	if _, err := search(sample(7, 1)); err == nil {
		t.Fatal("encrypted search before the key setup succeeded")
	}
	agreement := p.Agreements[0].ID
	// The setup takes longer than the client's default minute under -race.
	admin := *us.Admin
	admin.HTTP = &http.Client{Transport: us.Admin.HTTP.Transport, Timeout: 10 * time.Minute}
	if st, err := admin.Agreement(ctx, agreement, "keysetup"); err != nil || st != "keys_ready" {
		t.Fatalf("key setup: %q %v", st, err)
	}
	for _, state := range []string{"US", "GB"} {
		if _, err := os.Stat(filepath.Join(dir, state, "exchange-keys", agreement+".party")); err != nil {
			t.Errorf("%s keeps no key material: %v", state, err)
		}
	}
	res, err := search(sample(7, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Encrypted || res.Outcome != "hit" || res.CandidateCount != 1 {
		t.Fatalf("mated encrypted search: %+v", res)
	}
	stranger := sample(5000, 1)
	res2, err := search(stranger)
	if err != nil || res2.Outcome != "no_hit" {
		t.Fatalf("stranger: %+v %v", res2, err)
	}
	filepath.WalkDir(filepath.Join(dir, "GB"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, stranger.Data[:64]) {
			t.Errorf("the stranger's embedding found in %s", path)
		}
		return nil
	})
	if bytes.Contains(logs.Bytes(), stranger.Data[:64]) {
		t.Error("the stranger's embedding found in the nodes' logs")
	}
	dc, err := us.Operator.RequestDisclosure(ctx, &node.ExchangeDisclosureRequest{Partner: "GB", Reference: res.Reference, Officer: "officer-1",
		Fields: []string{"names"}})
	if err != nil {
		t.Fatal(err)
	}
	cases, err := gb.Examiner.Cases(ctx)
	if err != nil || len(cases) != 1 || len(cases[0].Candidates) == 0 || cases[0].Candidates[0] != "GB-F007" {
		t.Fatalf("GB queue: %+v %v", cases, err)
	}
	if err := gb.Examiner.Decide(ctx, cases[0].Case, true, "GB-F007"); err != nil {
		t.Fatal(err)
	}
	st, err := us.Operator.Disclosure(ctx, "GB", dc.Case)
	if err != nil || st.Release == nil || st.Release.Fields["names"] != "Face 007" {
		t.Fatalf("after confirmation: %+v %v", st, err)
	}
}
