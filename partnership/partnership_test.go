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
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store"
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
		_, err := gb.Operator.Enroll(ctx, &node.EnrolRequest{
			Identity:   node.IdentityInput{ID: fmt.Sprintf("GB-%03d", i), Names: []string{fmt.Sprintf("Gbperson %d", i)}, DateOfBirth: "1990-01-02", Nationality: []string{"GBR"}, CaseRef: fmt.Sprintf("GB-CASE-%d", i)},
			Provenance: store.Provenance{LegalBasis: "test"}, Samples: personSamples(t, i, 1),
			Flags: []node.FlagInput{{Category: "wanted"}}})
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
