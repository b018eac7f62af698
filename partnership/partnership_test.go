package partnership

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store"
	"github.com/ebsp/ebsp/synth"
	"golang.org/x/mod/sumdb/note"
)

func personSamples(t testing.TB, p int, k uint64) []node.SampleInput {
	s, err := SyntheticSamples(99, p, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHitConfirmReleaseAndPurge runs the exchange between two real nodes
// (real gallery and matcher, SQLite stores, mutual TLS on loopback): a hit
// is confirmed by the partner's examiner and only allow-listed fields come
// back; a no-hit probe leaves no trace in the partner's data directory; and
// the partner's log verifies against the checkpoints the requester kept.
func TestHitConfirmReleaseAndPurge(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p, err := Start(ctx, Options{Dir: dir, Hub: "US", Partners: []string{"GB"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	us, gb := p.Members["US"], p.Members["GB"]
	for i := range 30 {
		_, _, err := EnrolRetaking(ctx, gb.Operator, &node.EnrolRequest{
			Identity:   node.IdentityInput{ID: fmt.Sprintf("GB-%03d", i), Names: []string{fmt.Sprintf("Gbperson %d", i)}, DateOfBirth: "1990-01-02", Nationality: []string{"GBR"}, CaseRef: fmt.Sprintf("GB-CASE-%d", i)},
			Provenance: store.Provenance{LegalBasis: "test"}, Samples: personSamples(t, i, 1),
			Flags: []node.FlagInput{{Category: "wanted"}}}, func(r int) ([]node.SampleInput, error) {
			return personSamples(t, i, RetakeImpression(1, r)), nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	search := func(samples []node.SampleInput) (*exchange.Step1Result, error) {
		return us.Operator.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: "GB", Purpose: "border_screening",
			LegalBasis: "test", Officer: "officer-1", Samples: samples})
	}
	// A GB-enrolled person met at the US border: hit, an opaque reference.
	res, err := search(personSamples(t, 7, 2))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "hit" || res.Reference == "" || res.CandidateCount < 1 {
		t.Fatalf("step 1: %+v", res)
	}
	// Someone GB never enrolled: no hit, and no trace of the probe at GB.
	stranger := personSamples(t, 500, 2)
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
		for _, s := range stranger {
			// The minutiae block of the record: everything after the header.
			if bytes.Contains(b, s.Data[28:60]) {
				t.Errorf("no-hit probe's minutiae found in %s", path)
			}
		}
		return nil
	})

	// Step 2: asking for more than the allow-list is refused; asking for
	// it, the GB examiner confirms, the US gets the allow-listed fields.
	var ae *node.APIError
	_, err = us.Operator.RequestDisclosure(ctx, &node.ExchangeDisclosureRequest{Partner: "GB", Reference: res.Reference, Officer: "officer-1",
		Fields: []string{"names", "flags"}})
	if !errors.As(err, &ae) || ae.Status != 403 {
		t.Errorf("request beyond the allow-list: %v", err)
	}
	dc, err := us.Operator.RequestDisclosure(ctx, &node.ExchangeDisclosureRequest{Partner: "GB", Reference: res.Reference, Officer: "officer-1",
		Fields: []string{"names", "date_of_birth", "nationality", "case_reference"}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := us.Operator.Disclosure(ctx, "GB", dc.Case)
	if err != nil || st.Release != nil {
		t.Fatalf("before the examiner: %+v %v", st, err)
	}
	cases, err := gb.Examiner.Cases(ctx)
	if err != nil || len(cases) != 1 {
		t.Fatalf("GB queue: %v %v", cases, err)
	}
	if cases[0].Candidates[0] != "GB-007" {
		t.Fatalf("candidates %v, want GB-007 first", cases[0].Candidates)
	}
	// A searcher cannot decide; the examiner can.
	if err := gb.Operator.Decide(ctx, cases[0].Case, true, "GB-007"); !errors.As(err, &ae) || ae.Status != 403 {
		t.Errorf("operator decided: %v", err)
	}
	// A candidate not in the case, or an unknown case, is the examiner's
	// mistake: 404 with its own code, not a 500.
	if err := gb.Examiner.Decide(ctx, cases[0].Case, true, "GB-999"); !errors.As(err, &ae) || ae.Status != 404 || ae.Code != node.CodeNotCandidate {
		t.Errorf("confirmed a candidate not in the case: %v", err)
	}
	if err := gb.Examiner.Decide(ctx, "no-such-case", false, ""); !errors.As(err, &ae) || ae.Status != 404 || ae.Code != node.CodeUnknownCase {
		t.Errorf("decided an unknown case: %v", err)
	}
	if err := gb.Examiner.Decide(ctx, cases[0].Case, true, "GB-007"); err != nil {
		t.Fatal(err)
	}
	st, err = us.Operator.Disclosure(ctx, "GB", dc.Case)
	if err != nil || st.Release == nil {
		t.Fatalf("after confirmation: %+v %v", st, err)
	}
	if st.Release.Fields["names"] != "Gbperson 7" || st.Release.Fields["case_reference"] != "GB-CASE-7" {
		t.Errorf("released %v", st.Release.Fields)
	}
	if len(st.Release.Fields) != 4 || !st.Release.Handling.NoOnwardTransfer {
		t.Errorf("release %+v: want the 4 asked fields with handling tags", st.Release)
	}

	// The GB log verifies against what the US node was shown.
	v, err := note.NewVerifier(gb.LogPubKey)
	if err != nil {
		t.Fatal(err)
	}
	var kept []audit.SignedCheckpoint
	for i, c := range us.Node.PartnerCheckpoints("GB") {
		kept = append(kept, audit.SignedCheckpoint{Source: fmt.Sprintf("US-%d", i), Signed: c})
	}
	if len(kept) == 0 {
		t.Fatal("the US node kept no checkpoint of the GB log")
	}
	rep := audit.Verify(gb.Log.Leaves(), v, kept)
	if !rep.OK() {
		t.Fatalf("GB log does not verify: %v", rep.Problems)
	}
	if rep.Leaves < 4 {
		t.Errorf("GB log has %d leaves", rep.Leaves)
	}
	for _, l := range gb.Log.Leaves() {
		if strings.Contains(string(l), "Gbperson") {
			t.Error("a log leaf holds a name")
		}
	}
}

// TestExchangeErrorCodes: an examiner's decision on an unknown case, or
// confirming someone who is not a candidate, and an action on an unknown
// agreement answer 404 with their own codes; a decision the case no
// longer allows answers 409 case_state; reinstating says "reinstated".
func TestExchangeErrorCodes(t *testing.T) {
	ctx := context.Background()
	p, us, gb := startUSGB(t, 2)
	defer p.Close()
	res, err := us.Operator.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: "GB", Purpose: "border_screening",
		LegalBasis: "test", Officer: "officer-1", Samples: personSamples(t, 1, 2)})
	if err != nil || res.Outcome != "hit" {
		t.Fatalf("step 1: %+v %v", res, err)
	}
	dc, err := us.Operator.RequestDisclosure(ctx, &node.ExchangeDisclosureRequest{Partner: "GB", Reference: res.Reference, Officer: "officer-1"})
	if err != nil {
		t.Fatal(err)
	}
	wantCode := func(what string, err error, status int, code string) {
		t.Helper()
		var ae *node.APIError
		if !errors.As(err, &ae) || ae.Status != status || ae.Code != code {
			t.Errorf("%s: %v, want %d %s", what, err, status, code)
		}
	}
	wantCode("unknown case", gb.Examiner.Decide(ctx, "0123456789abcdef01234567", true, "GB-1"), 404, node.CodeUnknownCase)
	wantCode("not a candidate", gb.Examiner.Decide(ctx, dc.Case, true, "GB-999"), 404, node.CodeNotCandidate)
	if err := gb.Examiner.Decide(ctx, dc.Case, false, ""); err != nil {
		t.Fatal(err)
	}
	wantCode("decided twice", gb.Examiner.Decide(ctx, dc.Case, true, "GB-1"), 409, node.CodeCaseState)
	_, err = gb.Admin.Agreement(ctx, "NO-SUCH", "suspend")
	wantCode("unknown agreement", err, 404, node.CodeUnknownAgreement)
	for action, want := range map[string]string{"suspend": "suspended", "reinstate": "reinstated"} {
		if st, err := gb.Admin.Agreement(ctx, p.Agreements[0].ID, action); err != nil || st != want {
			t.Errorf("%s: %q %v, want %q", action, st, err, want)
		}
	}
}

// smallSamples are person p's fingers of SyntheticSamples cut to n minutiae
// each, below a node's minutiae gate when n is small.
func smallSamples(t *testing.T, p, n int) []node.SampleInput {
	t.Helper()
	var out []node.SampleInput
	for f, pos := range IndexFingers {
		m := synth.NewFingerMaster(99, uint64(2*p+f))
		master := synth.TemplateMaster(m)
		tmpl := synth.TemplateImpression(m, &master, 1)
		tmpl.Minutiae = tmpl.Minutiae[:n]
		rec, err := iso19794.MinutiaeRecordFromTemplate(tmpl, iso19794.ISO19794_2_2005, pos)
		if err != nil {
			t.Fatal(err)
		}
		b, err := rec.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, node.SampleInput{Modality: biometric.Finger, Position: pos, Format: "iso19794-2", Data: b})
	}
	return out
}

// TestEnrolRetaking: a finger the node's minutiae gate refuses (the
// refusal names the sample) is captured again, that finger only, until
// the node accepts it, at most MaxRetakes times a finger; a finger never
// accepted is left out unless it is the last; any other refusal is
// returned at once.
func TestEnrolRetaking(t *testing.T) {
	ctx := t.Context()
	m, err := StartNational(ctx, Options{Dir: t.TempDir()}, "US")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	req := func(id string, s []node.SampleInput) *node.EnrolRequest {
		return &node.EnrolRequest{Identity: node.IdentityInput{ID: id}, Provenance: store.Provenance{LegalBasis: "test"}, Samples: s}
	}
	// The right index is refused twice, then taken well; the left index
	// was good from the start and is never taken again.
	var asked []int
	first := append(smallSamples(t, 1, 5)[:1], personSamples(t, 1, 1)[1])
	resp, r, err := EnrolRetaking(ctx, m.Operator, req("R1", first), func(r int) ([]node.SampleInput, error) {
		asked = append(asked, r)
		if r < 2 {
			return append(smallSamples(t, 1, 6)[:1], smallSamples(t, 1, 6)[1]), nil
		}
		return append(personSamples(t, 1, RetakeImpression(1, r))[:1], smallSamples(t, 1, 6)[1]), nil
	})
	if err != nil || resp == nil || resp.IdentityID != "R1" || r != 2 || len(asked) != 2 || asked[0] != 1 || asked[1] != 2 || len(resp.Samples) != 2 {
		t.Fatalf("one finger refused twice, then good: %+v %v, %d retakes (asked %v); want R1 enrolled with both fingers after 2", resp, err, r, asked)
	}
	// Neither finger ever good: each is retaken MaxRetakes times, the
	// first then left out, and the last one's refusal is the answer.
	_, r, err = EnrolRetaking(ctx, m.Operator, req("R2", smallSamples(t, 2, 5)), func(int) ([]node.SampleInput, error) {
		return smallSamples(t, 2, 5), nil
	})
	var ae *node.APIError
	if !errors.As(err, &ae) || ae.Code != node.CodeTooFewMinutiae || ae.Sample == nil || *ae.Sample != 0 || r != 2*MaxRetakes {
		t.Errorf("never a good capture: %v after %d retakes; want %s of sample 0 after %d", err, r, node.CodeTooFewMinutiae, 2*MaxRetakes)
	}
	// One finger never yields enough minutiae: after its last retake the
	// person is enrolled with the other.
	s := append(smallSamples(t, 5, 5)[:1], personSamples(t, 5, 1)[1])
	resp, r, err = EnrolRetaking(ctx, m.Operator, req("R5", s), func(r int) ([]node.SampleInput, error) {
		return append(smallSamples(t, 5, 5)[:1], personSamples(t, 5, RetakeImpression(1, r))[1]), nil
	})
	if err != nil || resp == nil || resp.IdentityID != "R5" || r != MaxRetakes || len(resp.Samples) != 1 {
		t.Fatalf("one finger never good: %+v %v after %d retakes; want R5 enrolled with the other finger after %d", resp, err, r, MaxRetakes)
	}
	// Both fingers bad in the first capture, each good at its second
	// retake: four retakes, both fingers enrolled (the capture that failed
	// the 1M-finger PoC: two refusals in one capture).
	resp, r, err = EnrolRetaking(ctx, m.Operator, req("R6", smallSamples(t, 6, 5)), func(r int) ([]node.SampleInput, error) {
		if r < 2 {
			return smallSamples(t, 6, 5), nil
		}
		return personSamples(t, 6, RetakeImpression(1, r)), nil
	})
	if err != nil || resp == nil || r != 4 || len(resp.Samples) != 2 {
		t.Fatalf("both fingers bad at first: %+v %v after %d retakes; want both enrolled after 4", resp, err, r)
	}
	bad := []node.SampleInput{{Modality: biometric.Finger, Position: biometric.RightIndex, Format: "iso19794-2", Data: []byte("not a minutiae record")}}
	_, r, err = EnrolRetaking(ctx, m.Operator, req("R3", bad), func(int) ([]node.SampleInput, error) {
		t.Error("retook a capture the node did not refuse for its minutiae")
		return nil, nil
	})
	if !errors.As(err, &ae) || ae.Code != node.CodeBadSample || r != 0 {
		t.Errorf("an unreadable record: %v after %d retakes; want %s at once", err, r, node.CodeBadSample)
	}
}
