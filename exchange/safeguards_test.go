package exchange

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebsp/ebsp/audit"
)

var bg = context.Background()

// Purpose binding: a purpose the agreement does not permit, or one outside
// the closed list, is refused before any search, and the refusal is logged.
func TestSafeguardPurposeBinding(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(3, 1))
	people := p.enrol(rng, 3, "GBR")
	for _, purpose := range []Purpose{Visa, "marketing", ""} {
		req := border(probeOf(t, people[0]))
		req.Purpose = purpose
		_, err := p.client.Step1(bg, req)
		rf := refusalReason(t, err)
		if rf.Reason != ReasonPurpose || rf.Status != http.StatusForbidden {
			t.Fatalf("purpose %q: %+v", purpose, rf)
		}
	}
	if n := p.gallery.searches.Load(); n != 0 {
		t.Fatalf("%d searches ran for refused purposes", n)
	}
	ls := p.leaves(t)
	if len(ls) != 3 || ls[0].Kind != audit.KindRefusal || ls[0].Reason != ReasonPurpose || ls[0].Partner != "US" {
		t.Fatalf("refusals not logged: %+v", ls)
	}
	// A permitted purpose goes through.
	if _, err := p.client.Step1(bg, border(probeOf(t, people[0]))); err != nil {
		t.Fatal(err)
	}
}

// Hit/no-hit first: no step-1 reply carries a score, an identity id or a
// biographic field; its body has only the hit/no-hit keys.
func TestSafeguardHitNoHitFirst(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(4, 1))
	people := p.enrol(rng, 4, "GBR")
	hc := p.rawClient(p.us.TLS)
	sealer := NewSealer(p.us, p.clock.Now)
	for i, probe := range []Probe{probeOf(t, people[1]), freshProbe(rng)} {
		fingers, _ := encodeProbe(probe)
		raw, _, err := sealer.Seal(MsgStep1Request, p.agreement.ID, Address{"GB", "gb-node"}, Step1Request{
			Purpose: BorderScreening, LegalBasis: "basis", Officer: "o-1", SearchType: Tenprint, Fingers: fingers})
		if err != nil {
			t.Fatal(err)
		}
		status, _, body := p.post(t, hc, PathStep1, raw)
		if status != http.StatusOK {
			t.Fatalf("probe %d: status %d %s", i, status, body)
		}
		var env Envelope
		json.Unmarshal(body, &env)
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(env.Body, &keys); err != nil {
			t.Fatal(err)
		}
		for k := range keys {
			if !slices.Contains([]string{"in_reply_to", "outcome", "reference", "candidate_count", "reference_until", "audit"}, k) {
				t.Errorf("step-1 reply has key %q", k)
			}
		}
		var rep Step1Reply
		json.Unmarshal(env.Body, &rep)
		want := []string{"hit", "no_hit"}[i]
		if rep.Outcome != want {
			t.Fatalf("probe %d: outcome %q, want %q", i, rep.Outcome, want)
		}
		// Nothing about any gallery person anywhere in the reply bytes,
		// including the audit leaf it proves.
		all := string(body) + string(env.Body) + string(rep.Audit.Leaf)
		for _, person := range people {
			for _, v := range append([]string{person.id}, valuesOf(person.fields)...) {
				if strings.Contains(all, v) {
					t.Errorf("step-1 reply contains %q", v)
				}
			}
		}
		if strings.Contains(strings.ToLower(string(env.Body)), "score") {
			t.Error("step-1 reply mentions a score")
		}
	}
}

func valuesOf(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Human gate: nothing is released, and the store is not even read, until
// an authenticated examiner confirms; a rejection releases nothing.
func TestSafeguardHumanGateBeforeRelease(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(5, 1))
	people := p.enrol(rng, 3, "GBR")
	res, err := p.client.Step1(bg, border(probeOf(t, people[0])))
	if err != nil {
		t.Fatal(err)
	}
	caseID, deadline, err := p.client.RequestDisclosure(bg, res.Reference, nil, "cbp-officer-42")
	if err != nil {
		t.Fatal(err)
	}
	if got := deadline.Sub(p.clock.Now()); got != 48*time.Hour {
		t.Fatalf("step-2 deadline %v, want the default 48h", got)
	}
	st, rel, err := p.client.Status(bg, caseID)
	if err != nil || st != StatusQueued || rel != nil {
		t.Fatalf("before the examiner: %s %+v %v", st, rel, err)
	}
	if p.gallery.discl.Load() != 0 {
		t.Fatal("store read before an examiner confirmed")
	}
	if _, err := p.resp.Queue(examinerID, "wrong"); !errors.Is(err, ErrNotExaminer) {
		t.Fatalf("queue with a wrong secret: %v", err)
	}
	if err := p.resp.Decide(bg, "intruder", examinerSecret, caseID, true, people[0].id); !errors.Is(err, ErrNotExaminer) {
		t.Fatalf("decision by an unknown examiner: %v", err)
	}
	if err := p.resp.Decide(bg, examinerID, examinerSecret, caseID, true, "gb-id-999999"); err == nil {
		t.Fatal("confirmed an identity that is not a candidate")
	}
	p.confirmFirst(t, caseID)
	st, rel, err = p.client.Status(bg, caseID)
	if err != nil || st != StatusReleased || rel.Fields["names"] != people[0].fields["names"] {
		t.Fatalf("after confirmation: %s %+v %v", st, rel, err)
	}
	// Delivered once; the responder keeps no copy.
	st, rel, err = p.client.Status(bg, caseID)
	if err != nil || st != StatusDelivered || rel != nil {
		t.Fatalf("second poll: %s %+v %v", st, rel, err)
	}

	// Rejection: nothing released, the store not read.
	before := p.gallery.discl.Load()
	res, _ = p.client.Step1(bg, border(probeOf(t, people[1])))
	caseID, _, _ = p.client.RequestDisclosure(bg, res.Reference, nil, "cbp-officer-42")
	if err := p.resp.Decide(bg, examinerID, examinerSecret, caseID, false, ""); err != nil {
		t.Fatal(err)
	}
	st, rel, err = p.client.Status(bg, caseID)
	if err != nil || st != StatusRejected || rel != nil || p.gallery.discl.Load() != before {
		t.Fatalf("after rejection: %s %+v %v", st, rel, err)
	}
	var kinds []string
	for _, l := range p.leaves(t) {
		if l.Kind == audit.KindExaminer {
			kinds = append(kinds, l.Outcome+":"+l.Actor)
		}
	}
	if !slices.Equal(kinds, []string{"confirmed:" + examinerID, "rejected:" + examinerID}) {
		t.Fatalf("examiner actions logged: %v", kinds)
	}
}

// Minimisation: only allow-listed fields that were asked for leave, even
// when the store returns more; asking for a field off the list is refused.
func TestSafeguardMinimisationToAllowList(t *testing.T) {
	p := newPartnership(t, func(a *Agreement) { a.Disclosure = []string{"names", "nationality", "case_reference"} })
	rng := rand.New(rand.NewPCG(6, 1))
	people := p.enrol(rng, 2, "GBR")
	res, _ := p.client.Step1(bg, border(probeOf(t, people[0])))
	if _, _, err := p.client.RequestDisclosure(bg, res.Reference, []string{"names", "date_of_birth"}, "o-1"); refusalReason(t, err).Reason != ReasonFieldNotPermitted {
		t.Fatalf("date_of_birth (off this allow-list): %v", err)
	}
	if _, _, err := p.client.RequestDisclosure(bg, res.Reference, []string{"address"}, "o-1"); refusalReason(t, err).Reason != ReasonFieldNotPermitted {
		t.Fatalf("address: %v", err)
	}
	caseID, _, err := p.client.RequestDisclosure(bg, res.Reference, []string{"names", "case_reference"}, "o-1")
	if err != nil {
		t.Fatal(err)
	}
	p.confirmFirst(t, caseID)
	_, rel, err := p.client.Status(bg, caseID)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0)
	for k := range rel.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"case_reference", "names"}) {
		t.Fatalf("released fields %v, want exactly case_reference and names", keys)
	}
	for _, l := range p.leaves(t) {
		if l.Kind == audit.KindRelease && !slices.Equal(l.Fields, []string{"case_reference", "names"}) {
			t.Fatalf("release leaf fields %v", l.Fields)
		}
	}
}

// Candidate cap: a latent search hitting 12 identities reports 10, a
// tenprint search 1, and the examiner sees no more than that.
func TestSafeguardCandidateCap(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(7, 1))
	people := p.enrol(rng, 1, "GBR")
	for i := 0; i < 11; i++ { // eleven more people with the same finger
		twin := *people[0]
		twin.id = "gb-twin-" + strconv.Itoa(i)
		p.gallery.add(&twin)
	}
	for _, c := range []struct {
		typ  SearchType
		want int
	}{{Latent, 10}, {Tenprint, 1}} {
		req := border(probeOf(t, people[0]))
		req.SearchType = c.typ
		res, err := p.client.Step1(bg, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.CandidateCount != c.want {
			t.Fatalf("%s: %d candidates, want %d", c.typ, res.CandidateCount, c.want)
		}
		caseID, _, err := p.client.RequestDisclosure(bg, res.Reference, nil, "o-1")
		if err != nil {
			t.Fatal(err)
		}
		q, _ := p.resp.Queue(examinerID, examinerSecret)
		for _, ec := range q {
			if ec.Case == caseID && len(ec.Candidates) != c.want {
				t.Fatalf("%s: examiner sees %d candidates", c.typ, len(ec.Candidates))
			}
		}
	}
}

// Quotas: request N+1 of the day is refused with Retry-After until
// midnight UTC; the next day it goes through.
func TestSafeguardQuotaRetryAfter(t *testing.T) {
	p := newPartnership(t, func(a *Agreement) { a.Searches[Tenprint] = SearchRule{DailyQuota: 3} })
	rng := rand.New(rand.NewPCG(8, 1))
	for i := 0; i < 3; i++ {
		if _, err := p.client.Step1(bg, border(freshProbe(rng))); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	_, err := p.client.Step1(bg, border(freshProbe(rng)))
	rf := refusalReason(t, err)
	// The clock is at 10:00 UTC: 14 hours to midnight.
	if rf.Reason != ReasonQuota || rf.Status != http.StatusTooManyRequests || rf.RetryAfter != 14*time.Hour {
		t.Fatalf("request 4: %+v", rf)
	}
	// The raw HTTP reply carries the header.
	fingers, _ := encodeProbe(freshProbe(rng))
	raw, _, _ := NewSealer(p.us, p.clock.Now).Seal(MsgStep1Request, p.agreement.ID, Address{"GB", "gb-node"},
		Step1Request{Purpose: BorderScreening, LegalBasis: "b", Officer: "o", SearchType: Tenprint, Fingers: fingers})
	status, hdr, _ := p.post(t, p.rawClient(p.us.TLS), PathStep1, raw)
	if status != http.StatusTooManyRequests || hdr.Get("Retry-After") != strconv.Itoa(14*3600) {
		t.Fatalf("HTTP %d Retry-After %q", status, hdr.Get("Retry-After"))
	}
	// Latent searches have their own quota.
	req := border(freshProbe(rng))
	req.SearchType = Latent
	if _, err := p.client.Step1(bg, req); err != nil {
		t.Fatalf("latent after tenprint quota: %v", err)
	}
	p.clock.Advance(14 * time.Hour)
	if _, err := p.client.Step1(bg, border(freshProbe(rng))); err != nil {
		t.Fatalf("next day: %v", err)
	}
}

// Purge: after a no-hit, nothing of the probe is left: no case, nothing in
// the data directory (audit log, checkpoint), nothing in the operational
// logs, in any encoding the probe travelled in.
func TestSafeguardQueryAndPurge(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(9, 1))
	p.enrol(rng, 20, "GBR")
	probe := freshProbe(rng)
	rec := isoBytes(probe.Fingers[0].Template, probe.Fingers[0].Position)
	tmplJSON, _ := json.Marshal(probe.Fingers[0].Template)
	minutiaJSON, _ := json.Marshal(probe.Fingers[0].Template.Minutiae[:3])
	needles := map[string][]byte{
		"ISO record":               rec,
		"ISO minutiae block":       rec[len(rec)-6*10-2 : len(rec)-2],
		"base64 ISO record":        []byte(base64.StdEncoding.EncodeToString(rec)),
		"base64 of minutiae block": []byte(base64.StdEncoding.EncodeToString(rec[42:102])), // 42: aligned to base64's 3-byte groups
		"template JSON":            tmplJSON,
		"minutiae JSON":            minutiaJSON,
	}
	res, err := p.client.Step1(bg, border(probe))
	if err != nil || res.Outcome != "no_hit" {
		t.Fatalf("%+v %v", res, err)
	}
	if p.resp.Pending() != 0 {
		t.Fatal("a no-hit left a case")
	}
	if _, _, err := p.log.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	var scanned int
	filepath.Walk(filepath.Dir(p.logDir), func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		scanned++
		for name, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s of the probe found in %s", name, path)
			}
		}
		return nil
	})
	if scanned < 2 {
		t.Fatalf("scanned %d files; the data directory should hold the log and its checkpoint", scanned)
	}
	logs := p.logs.Bytes()
	if len(logs) == 0 {
		t.Fatal("no operational log captured")
	}
	for name, n := range needles {
		if bytes.Contains(logs, n) {
			t.Errorf("%s of the probe found in the operational log", name)
		}
	}
	// The scan can fail: the needles are found where the probe is.
	fingers, _ := encodeProbe(probe)
	wire, _ := json.Marshal(fingers)
	for _, name := range []string{"base64 ISO record", "base64 of minutiae block"} {
		if !bytes.Contains(wire, needles[name]) {
			t.Fatalf("self-check: %s not found in the wire form", name)
		}
	}
}

// No silent enrolment: searching never adds to the gallery, and a probe
// that did not match still does not match the second time.
func TestSafeguardNoSilentEnrolment(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(10, 1))
	people := p.enrol(rng, 5, "GBR")
	probe := freshProbe(rng)
	before := p.gallery.size()
	for i := 0; i < 2; i++ {
		res, err := p.client.Step1(bg, border(probe))
		if err != nil || res.Outcome != "no_hit" {
			t.Fatalf("search %d of an unknown probe: %+v %v", i, res, err)
		}
	}
	res, _ := p.client.Step1(bg, border(probeOf(t, people[0])))
	caseID, _, _ := p.client.RequestDisclosure(bg, res.Reference, nil, "o-1")
	p.confirmFirst(t, caseID)
	p.client.Status(bg, caseID)
	if p.gallery.size() != before {
		t.Fatalf("gallery grew from %d to %d", before, p.gallery.size())
	}
}

// Seriousness threshold: serious_crime needs an offence carrying at least
// the agreed maximum sentence.
func TestSafeguardSeriousnessThreshold(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(11, 1))
	req := border(freshProbe(rng))
	req.Purpose = SeriousCrime
	for _, years := range []int{0, 2} {
		req.OffenceMaxYears = years
		_, err := p.client.Step1(bg, req)
		if rf := refusalReason(t, err); rf.Reason != ReasonSeriousness {
			t.Fatalf("%d years: %+v", years, rf)
		}
	}
	req.OffenceMaxYears = 3
	if _, err := p.client.Step1(bg, req); err != nil {
		t.Fatalf("3 years: %v", err)
	}
	// The threshold binds serious_crime only.
	req = border(freshProbe(rng))
	if _, err := p.client.Step1(bg, req); err != nil {
		t.Fatal(err)
	}
}

// Handling tags: every release carries no_onward_transfer and a destroy-by
// date, logged with it; the receiver destroys the data at that date.
func TestSafeguardHandlingTagsOnEveryRelease(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(12, 1))
	people := p.enrol(rng, 3, "GBR")
	var cases []string
	for _, person := range people {
		res, _ := p.client.Step1(bg, border(probeOf(t, person)))
		caseID, _, _ := p.client.RequestDisclosure(bg, res.Reference, nil, "o-1")
		p.confirmFirst(t, caseID)
		_, rel, err := p.client.Status(bg, caseID)
		if err != nil {
			t.Fatal(err)
		}
		h := rel.Handling
		if !h.NoOnwardTransfer || !h.DestroyBy.Equal(p.clock.Now().Add(30*24*time.Hour)) || h.Agreement != p.agreement.ID || h.Purpose != BorderScreening {
			t.Fatalf("handling %+v", h)
		}
		cases = append(cases, caseID)
	}
	n := 0
	for _, l := range p.leaves(t) {
		if l.Kind == audit.KindRelease {
			n++
			if !slices.Contains(l.Handling, "no_onward_transfer") || !strings.HasPrefix(l.Handling[0], "destroy_by=") {
				t.Fatalf("release leaf handling %v", l.Handling)
			}
		}
	}
	if n != 3 || p.client.Received().Len() != 3 {
		t.Fatalf("%d release leaves, %d received", n, p.client.Received().Len())
	}
	if d := p.client.Received().Sweep(p.clock.Now().Add(29 * 24 * time.Hour)); d != 0 {
		t.Fatalf("destroyed %d before destroy-by", d)
	}
	if d := p.client.Received().Sweep(p.clock.Now().Add(30 * 24 * time.Hour)); d != 3 {
		t.Fatalf("destroyed %d at destroy-by, want 3", d)
	}
	if _, ok := p.client.Received().Get(cases[0]); ok {
		t.Fatal("record still held after destroy-by")
	}
}

// Retention and deadlines: advancing the clock expires unanswered
// requests (nothing released) and deletes records past retention; both are
// logged.
func TestSafeguardRetentionClockAdvance(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(13, 1))
	people := p.enrol(rng, 3, "GBR")
	res0, _ := p.client.Step1(bg, border(probeOf(t, people[0]))) // reference never used
	res1, _ := p.client.Step1(bg, border(probeOf(t, people[1])))
	case1, _, _ := p.client.RequestDisclosure(bg, res1.Reference, nil, "o-1") // never decided
	res2, _ := p.client.Step1(bg, border(probeOf(t, people[2])))
	case2, _, _ := p.client.RequestDisclosure(bg, res2.Reference, nil, "o-1")
	p.confirmFirst(t, case2) // released, never fetched

	p.clock.Advance(48*time.Hour + time.Second)
	sw, err := p.resp.Sweep()
	if err != nil {
		t.Fatal(err)
	}
	if sw.Expired != 2 || sw.Deleted != 0 {
		t.Fatalf("after 48h: %+v, want 2 expired", sw)
	}
	if err := p.resp.Decide(bg, examinerID, examinerSecret, case1, true, people[1].id); err == nil {
		t.Fatal("confirmed after the deadline")
	}
	st, rel, err := p.client.Status(bg, case1)
	if err != nil || st != StatusExpired || rel != nil {
		t.Fatalf("expired case: %s %+v %v", st, rel, err)
	}
	if _, _, err := p.client.RequestDisclosure(bg, res0.Reference, nil, "o-1"); refusalReason(t, err).Reason != ReasonReferenceUsed && refusalReason(t, err).Reason != ReasonReferenceExpired {
		t.Fatalf("expired reference: %v", err)
	}

	p.clock.Advance(90 * 24 * time.Hour)
	sw, err = p.resp.Sweep()
	if err != nil {
		t.Fatal(err)
	}
	if sw.Deleted != 3 || p.resp.Pending() != 0 {
		t.Fatalf("after retention: %+v, %d cases held", sw, p.resp.Pending())
	}
	if _, _, err := p.client.Status(bg, case2); refusalReason(t, err).Reason != ReasonUnknownCase {
		t.Fatalf("deleted case: %v", err)
	}
	var expiries, retention int
	for _, l := range p.leaves(t) {
		switch l.Kind {
		case audit.KindExpiry:
			expiries++
		case audit.KindRetention:
			retention += l.Count
		}
	}
	if expiries != 2 || retention != 3 {
		t.Fatalf("logged %d expiries and %d deletions", expiries, retention)
	}
}

// Tamper evidence: the checkpoints the client kept verify the responder's
// log; a modified leaf is then detected; and a responder that rewrites its
// log is caught on the client's next request.
func TestSafeguardTamperEvidence(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(14, 1))
	people := p.enrol(rng, 3, "GBR")
	for i := 0; i < 4; i++ {
		if _, err := p.client.Step1(bg, border(freshProbe(rng))); err != nil {
			t.Fatal(err)
		}
	}
	p.client.Step1(bg, border(probeOf(t, people[0])))
	var kept []audit.SignedCheckpoint
	for i, cp := range p.client.Checkpoints() {
		kept = append(kept, audit.SignedCheckpoint{Source: "client-" + strconv.Itoa(i), Signed: cp})
	}
	if len(kept) != 5 {
		t.Fatalf("client kept %d checkpoints, want 5", len(kept))
	}
	v := p.agreement.Parties[1].LogVerifier()
	if r := audit.Verify(p.log.Leaves(), v, kept); !r.OK() {
		t.Fatalf("intact: %v", r.Problems)
	}
	// The same from files, as `ebsp audit verify --log DIR --checkpoints DIR` reads them.
	cpDir := filepath.Join(t.TempDir(), "kept")
	if err := p.client.SaveCheckpoints(cpDir); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(cpDir)
	var fromFiles []audit.SignedCheckpoint
	for _, f := range files {
		b, _ := os.ReadFile(filepath.Join(cpDir, f.Name()))
		fromFiles = append(fromFiles, audit.SignedCheckpoint{Source: f.Name(), Signed: b})
	}
	exp, err := audit.LoadExport(p.logDir)
	if err != nil {
		t.Fatal(err)
	}
	if r := audit.Verify(exp.Leaves, v, fromFiles); !r.OK() || len(r.Checkpoints) != 5 {
		t.Fatalf("from files: %+v", r)
	}
	leaves := p.log.Leaves()
	l, _ := audit.DecodeLeaf(leaves[3])
	l.Outcome = audit.OutcomeHit
	leaves[3], _ = l.Encode()
	if r := audit.Verify(leaves, v, kept); r.OK() {
		t.Fatal("modified leaf not detected")
	}

	// Between exchanges the client keeps watching the log.
	p.resp.Sweep()
	p.resp.Suspend(p.agreement.ID, "gb-dpo-1") // one more leaf
	p.resp.Reinstate(p.agreement.ID, "gb-dpo-1")
	if n, err := p.client.Refresh(bg); err != nil || n != p.log.Size() {
		t.Fatalf("refresh: size %d, %v (log has %d)", n, err, p.log.Size())
	}

	// The responder swaps in a rewritten log (same key, history changed).
	forged, err := audit.Open(filepath.Join(t.TempDir(), "forged"), p.gb.LogSigner)
	if err != nil {
		t.Fatal(err)
	}
	defer forged.Close()
	for i := 0; i < 12; i++ {
		forged.Append(audit.Leaf{Time: p.clock.Now(), Kind: audit.KindRequest, Partner: "US"})
	}
	p.resp.log = forged
	evidence := t.TempDir()
	p.client.evidenceDir = evidence
	if _, err := p.client.Refresh(bg); err == nil || !strings.Contains(err.Error(), "fork") {
		t.Fatalf("refresh accepted a rewritten log: %v", err)
	}
	_, err = p.client.Step1(bg, border(freshProbe(rng)))
	var fork *LogForkError
	if !errors.As(err, &fork) || !strings.Contains(err.Error(), ReasonLogFork) {
		t.Fatalf("rewritten log: %v, want a LogForkError", err)
	}
	// The evidence: two checkpoints signed by the partner's log key that
	// no consistency proof joins, kept in memory and on disk.
	held, err1 := audit.OpenCheckpoint([]byte(fork.Held), p.agreement.Partner("US").LogVerifier())
	shown, err2 := audit.OpenCheckpoint([]byte(fork.Shown), p.agreement.Partner("US").LogVerifier())
	if err1 != nil || err2 != nil || held.Size != p.log.Size() || shown.Size == held.Size && shown.Hash == held.Hash {
		t.Fatalf("fork evidence: held %+v (%v), shown %+v (%v)", held, err1, shown, err2)
	}
	forkFiles, _ := filepath.Glob(filepath.Join(evidence, "GB-log-fork-*.json"))
	if len(p.client.Forks()) != 2 || len(forkFiles) != 2 || fork.File == "" {
		t.Fatalf("%d forks kept, %d evidence files (%v), want 2 and 2", len(p.client.Forks()), len(forkFiles), forkFiles)
	}
}

// No automated adverse decision: no reply type has a field, and no
// outcome or status value is, an admit/deny style verdict.
func TestSafeguardNoAutomatedAdverseDecision(t *testing.T) {
	for _, v := range []any{Step1Reply{}, Step2Reply{}, StatusReply{}, RefusalReply{}, Release{}, HandlingTags{}, AuditProof{}} {
		b, _ := json.Marshal(v)
		var m map[string]any
		json.Unmarshal(b, &m)
		for k := range m {
			if adverse(k) {
				t.Errorf("%T has field %q", v, k)
			}
		}
	}
	for _, s := range []string{audit.OutcomeHit, audit.OutcomeNoHit, StatusQueued, StatusReleased, StatusDelivered, StatusRejected, StatusExpired, StatusWithdrawn} {
		if adverse(s) {
			t.Errorf("outcome %q", s)
		}
	}
	// And in the source: no string literal of the package says admit or deny.
	for _, lit := range stringLiterals(t) {
		if adverse(lit) {
			t.Errorf("string literal %q in the exchange package", lit)
		}
	}
}

func adverse(s string) bool {
	s = strings.ToLower(s)
	for _, w := range []string{"admit", "deny", "denied", "allow_entry", "refuse_entry", "inadmissible", "reject_entry", "verdict"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
