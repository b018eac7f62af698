package exchange

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebsp/ebsp/audit"
)

// sourceFiles parses the package's non-test Go files.
func sourceFiles(t *testing.T) []*ast.File {
	t.Helper()
	fset := token.NewFileSet()
	paths, _ := filepath.Glob("*.go")
	var out []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	if len(out) < 5 {
		t.Fatalf("found only %d source files", len(out))
	}
	return out
}

func stringLiterals(t *testing.T) []string {
	var out []string
	for _, f := range sourceFiles(t) {
		ast.Inspect(f, func(n ast.Node) bool {
			if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
				if s, err := strconv.Unquote(bl.Value); err == nil {
					out = append(out, s)
				}
			}
			return true
		})
	}
	return out
}

// mentionsNationality reports whether an expression names nationality in
// an identifier, selector or string.
func mentionsNationality(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Ident:
			found = found || strings.Contains(strings.ToLower(x.Name), "nationalit")
		case *ast.BasicLit:
			found = found || strings.Contains(strings.ToLower(x.Value), "nationalit")
		}
		return !found
	})
	return found
}

// Equal treatment: no branch of the exchange depends on nationality (no
// if, switch or case condition mentions it), and two galleries that differ
// only in their people's nationality give the same replies.
func TestSafeguardEqualTreatment(t *testing.T) {
	for _, f := range sourceFiles(t) {
		ast.Inspect(f, func(n ast.Node) bool {
			var cond []ast.Node
			switch x := n.(type) {
			case *ast.IfStmt:
				cond = append(cond, x.Cond)
			case *ast.SwitchStmt:
				if x.Tag != nil {
					cond = append(cond, x.Tag)
				}
			case *ast.CaseClause:
				for _, e := range x.List {
					cond = append(cond, e)
				}
			case *ast.IndexExpr: // a map lookup keyed by nationality is a branch too
				cond = append(cond, x.Index)
			}
			for _, c := range cond {
				if mentionsNationality(c) {
					t.Errorf("branch on nationality at %v", c.Pos())
				}
			}
			return true
		})
	}

	outcomes := func(nat string) []string {
		p := newPartnership(t, nil)
		rng := rand.New(rand.NewPCG(20, 1)) // same seed: same people, same probes
		people := p.enrol(rng, 6, nat)
		var out []string
		for i, person := range people {
			probe := probeOf(t, person)
			if i%2 == 1 {
				probe = freshProbe(rng)
			}
			res, err := p.client.Step1(bg, border(probe))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, res.Outcome+"/"+strconv.Itoa(res.CandidateCount))
			if res.Outcome == "hit" {
				caseID, _, err := p.client.RequestDisclosure(bg, res.Reference, []string{"names", "case_reference"}, "o-1")
				if err != nil {
					t.Fatal(err)
				}
				p.confirmFirst(t, caseID)
				st, rel, err := p.client.Status(bg, caseID)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, st+"/"+strconv.Itoa(len(rel.Fields)))
			}
		}
		return out
	}
	a, b := outcomes("GBR"), outcomes("SYR")
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("outcomes differ by nationality:\n%v\n%v", a, b)
	}
}

// Revocation: a suspended agreement refuses requests at once, withdraws
// open cases (nothing can be released), and the requester destroys what it
// received under it regardless of destroy-by.
func TestSafeguardRevocation(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(21, 1))
	people := p.enrol(rng, 3, "GBR")
	res, _ := p.client.Step1(bg, border(probeOf(t, people[0])))
	done, _, _ := p.client.RequestDisclosure(bg, res.Reference, nil, "o-1")
	p.confirmFirst(t, done)
	if _, _, err := p.client.Status(bg, done); err != nil {
		t.Fatal(err)
	}
	res, _ = p.client.Step1(bg, border(probeOf(t, people[1])))
	open, _, _ := p.client.RequestDisclosure(bg, res.Reference, nil, "o-1")
	if p.client.Received().Len() != 1 {
		t.Fatal("setup: no received record")
	}

	if err := p.resp.Suspend(p.agreement.ID, "gb-dpo-1"); err != nil {
		t.Fatal(err)
	}
	if err := p.resp.Decide(bg, examinerID, examinerSecret, open, true, people[1].id); err == nil {
		t.Fatal("released under a suspended agreement")
	}
	_, err := p.client.Step1(bg, border(probeOf(t, people[2])))
	if rf := refusalReason(t, err); rf.Reason != ReasonSuspended || rf.Status != http.StatusForbidden {
		t.Fatalf("request under suspended agreement: %+v", rf)
	}
	// The signed refusal made the client suspend its side and destroy.
	if p.client.Received().Len() != 0 {
		t.Fatal("received data kept after revocation")
	}
	if _, err := p.client.Step1(bg, border(probeOf(t, people[2]))); refusalReason(t, err).Reason != ReasonSuspended {
		t.Fatalf("client still sends: %v", err)
	}
	var suspended bool
	for _, l := range p.leaves(t) {
		if l.Kind == audit.KindAgreement && l.Outcome == audit.OutcomeSuspended && l.Count == 1 {
			suspended = true
		}
	}
	if !suspended {
		t.Fatal("suspension (withdrawing 1 case) not logged")
	}
}

// Statistics: the oversight counts computed from the responder's log
// match what happened.
func TestSafeguardStatistics(t *testing.T) {
	p := newPartnership(t, func(a *Agreement) { a.Searches[Tenprint] = SearchRule{DailyQuota: 6} })
	rng := rand.New(rand.NewPCG(22, 1))
	people := p.enrol(rng, 3, "GBR")
	for i := 0; i < 2; i++ {
		p.client.Step1(bg, border(freshProbe(rng))) // 2 no-hits
	}
	var cases []string
	for _, person := range people { // 3 hits
		res, _ := p.client.Step1(bg, border(probeOf(t, person)))
		c, _, _ := p.client.RequestDisclosure(bg, res.Reference, nil, "o-1")
		cases = append(cases, c)
	}
	p.confirmFirst(t, cases[0])
	p.confirmFirst(t, cases[1])
	p.resp.Decide(bg, examinerID, examinerSecret, cases[2], false, "")
	p.client.Status(bg, cases[0]) // 1 release delivered
	bad := border(freshProbe(rng))
	bad.Purpose = Visa
	p.client.Step1(bg, bad)                     // purpose refusal
	p.client.Step1(bg, border(freshProbe(rng))) // 6th: no-hit
	p.client.Step1(bg, border(freshProbe(rng))) // 7th: quota
	rows, err := audit.Statistics(p.leaves(t), audit.Day)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0]
	if r.Partner != "US" || r.Requests != 6 || r.Hits != 3 || r.NoHits != 3 || r.Confirmed != 2 || r.Rejected != 1 ||
		r.Releases != 1 || r.Refusals[ReasonPurpose] != 1 || r.Refusals[ReasonQuota] != 1 {
		t.Fatalf("statistics %+v", r)
	}
}

// Transport security: unsigned, wrongly signed, replayed, expired and
// wrong-CA messages are refused, and a client certificate from another CA
// does not get past the TLS handshake.
func TestSafeguardTransportSecurity(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(23, 1))
	hc := p.rawClient(p.us.TLS)
	gb := Address{"GB", "gb-node"}
	step1 := func() Step1Request {
		fingers, _ := encodeProbe(freshProbe(rng))
		return Step1Request{Purpose: BorderScreening, LegalBasis: "b", Officer: "o-1", SearchType: Tenprint, Fingers: fingers}
	}
	sealer := NewSealer(p.us, p.clock.Now)
	expect := func(name string, raw []byte, status int, reason string) {
		t.Helper()
		st, _, body := p.post(t, hc, PathStep1, raw)
		if st != status || !strings.Contains(string(body), `"`+reason+`"`) && !strings.Contains(string(body), reason) {
			// Signed refusals carry the reason inside the base64 body.
			var env Envelope
			var rr RefusalReply
			if json.Unmarshal(body, &env) == nil && json.Unmarshal(env.Body, &rr) == nil && rr.Reason == reason && st == status {
				return
			}
			t.Fatalf("%s: HTTP %d %s, want %d %s", name, st, body, status, reason)
		}
	}
	modify := func(raw []byte, f func(e *Envelope)) []byte {
		var e Envelope
		json.Unmarshal(raw, &e)
		f(&e)
		b, _ := json.Marshal(e)
		return b
	}

	good, _, _ := sealer.Seal(MsgStep1Request, p.agreement.ID, gb, step1())
	expect("good", good, http.StatusOK, "")
	expect("replayed", good, http.StatusUnauthorized, ReasonReplayed)

	raw, _, _ := sealer.Seal(MsgStep1Request, p.agreement.ID, gb, step1())
	expect("unsigned", modify(raw, func(e *Envelope) { e.Sig = nil }), http.StatusUnauthorized, ReasonUnsigned)
	raw, _, _ = sealer.Seal(MsgStep1Request, p.agreement.ID, gb, step1())
	expect("body altered", modify(raw, func(e *Envelope) { e.Body[len(e.Body)-2] ^= 1 }), http.StatusUnauthorized, ReasonBadSignature)
	raw, _, _ = sealer.Seal(MsgStep1Request, p.agreement.ID, gb, step1())
	expect("nonce altered", modify(raw, func(e *Envelope) { e.Nonce[0] ^= 1 }), http.StatusUnauthorized, ReasonBadSignature)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	wrongKey := &Sealer{From: sealer.From, Cert: sealer.Cert, Key: otherKey, Now: p.clock.Now}
	raw, _, _ = wrongKey.Seal(MsgStep1Request, p.agreement.ID, gb, step1())
	expect("signed by another key", raw, http.StatusUnauthorized, ReasonBadSignature)

	old := &Sealer{From: sealer.From, Cert: sealer.Cert, Key: sealer.Key, Now: func() time.Time { return p.clock.Now().Add(-10 * time.Minute) }}
	raw, _, _ = old.Seal(MsgStep1Request, p.agreement.ID, gb, step1())
	expect("expired", raw, http.StatusUnauthorized, ReasonExpired)
	future := &Sealer{From: sealer.From, Cert: sealer.Cert, Key: sealer.Key, Now: func() time.Time { return p.clock.Now().Add(10 * time.Minute) }}
	raw, _, _ = future.Seal(MsgStep1Request, p.agreement.ID, gb, step1())
	expect("from the future", raw, http.StatusUnauthorized, ReasonExpired)

	// A French CA issues a certificate naming US/us-node: right name, wrong CA.
	frCA, err := NewCA("FR", p.clock.Now().Add(-24*time.Hour), 5*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	fakeUS, err := frCA.IssueNode("us-node", []string{"127.0.0.1"}, p.clock.Now().Add(-24*time.Hour), 5*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wrongCA := &Sealer{From: sealer.From, Cert: fakeUS.SignCert, Key: fakeUS.SignKey, Now: p.clock.Now}
	raw, _, _ = wrongCA.Seal(MsgStep1Request, p.agreement.ID, gb, step1())
	expect("signing certificate from another CA", raw, http.StatusUnauthorized, ReasonUntrustedCert)

	// The TLS certificate of the US node used as a message certificate (ECDSA, not Ed25519).
	raw, _, _ = sealer.Seal(MsgStep1Request, p.agreement.ID, gb, step1())
	expect("TLS certificate as signer", modify(raw, func(e *Envelope) { e.Cert = p.us.TLS.Certificate[0] }), http.StatusUnauthorized, ReasonUntrustedCert)

	raw, _, _ = sealer.Seal(MsgStep1Request, p.agreement.ID, Address{"GB", "other-node"}, step1())
	expect("wrong recipient", raw, http.StatusBadRequest, ReasonWrongRecipient)
	raw, _, _ = sealer.Seal(MsgStep1Request, "NO-SUCH", gb, step1())
	expect("unknown agreement", raw, http.StatusForbidden, ReasonUnknownAgreement)
	expect("not JSON", []byte("\x00\x01garbage"), http.StatusBadRequest, ReasonMalformed)

	// TLS: a client certificate from another CA is refused in the handshake.
	if _, err := p.rawClient(fakeUS.TLS).Post(p.srv.URL+PathStep1, "application/json", strings.NewReader(string(good))); err == nil {
		t.Fatal("TLS client certificate from a foreign CA accepted")
	}
	// No client certificate at all.
	if _, err := p.rawClient(tlsCertNone()).Post(p.srv.URL+PathStep1, "application/json", strings.NewReader(string(good))); err == nil {
		t.Fatal("TLS without a client certificate accepted")
	}

	// Replies are checked the same way by the client: a reply signed by
	// the wrong key is refused (the client's opener is the same code).
	//
	// The twelve invalid messages are counted, not logged one by one: no
	// leaf until the next Sweep, then one per reason with its count.
	count := func() (leaves, total int) {
		for _, l := range p.leaves(t) {
			if l.Kind == audit.KindRefusal {
				leaves++
				total += max(l.Count, 1)
			}
		}
		return
	}
	if n, _ := count(); n != 0 {
		t.Fatalf("%d refusal leaves before the sweep, want 0", n)
	}
	if _, err := p.resp.Sweep(); err != nil {
		t.Fatal(err)
	}
	if leaves, total := count(); total != 12 || leaves >= 12 {
		t.Fatalf("%d refusal leaves counting %d messages, want fewer leaves counting 12", leaves, total)
	}
}

// TestJunkRateLimited: a holder of a partner-certified TLS certificate
// that posts junk gets junkBurst answers, then 429 too_many_invalid with
// Retry-After without its messages being read; the whole flood costs one
// leaf per reason at the next sweep, and a real partner's requests still
// pass once the allowance refills.
func TestJunkRateLimited(t *testing.T) {
	p := newPartnership(t, nil)
	hc := p.rawClient(p.us.TLS)
	before := p.log.Size()
	var limited int
	var retry string
	for range 200 {
		st, h, _ := p.post(t, hc, PathStep1, []byte(`{"junk":true}`))
		if st == http.StatusTooManyRequests {
			limited++
			retry = h.Get("Retry-After")
		}
	}
	if limited != 200-junkBurst || retry == "" {
		t.Fatalf("%d of 200 junk posts limited (Retry-After %q), want %d", limited, retry, 200-junkBurst)
	}
	if p.log.Size() != before {
		t.Fatalf("junk wrote %d leaves before the sweep", p.log.Size()-before)
	}
	if _, err := p.resp.Sweep(); err != nil {
		t.Fatal(err)
	}
	var total int
	for _, l := range p.leaves(t)[before:] {
		if l.Kind != audit.KindRefusal || l.Partner != "US" {
			t.Fatalf("sweep wrote %+v", l)
		}
		total += l.Count
	}
	if n := p.log.Size() - before; n != 2 || total != 200 {
		t.Fatalf("sweep wrote %d leaves counting %d messages, want 2 counting 200", n, total)
	}
	p.clock.Advance(time.Minute)
	if _, err := p.client.Step1(context.Background(), border(freshProbe(rand.New(rand.NewPCG(1, 1))))); err != nil {
		t.Fatalf("a valid request after the junk: %v", err)
	}
}
