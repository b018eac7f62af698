package exchange

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/store"
)

// failingCases is an exchange state whose case writes fail once armed:
// after letting pass the number of writes it was armed with.
type failingCases struct {
	store.ExchangeState
	pass  atomic.Int32 // writes still let through; < 0: not armed
	fails atomic.Int32 // writes refused
}

func newFailingCases(st store.ExchangeState) *failingCases {
	f := &failingCases{ExchangeState: st}
	f.pass.Store(-1)
	return f
}

// failAfter arms f: n more case writes succeed, then every one fails
// until disarm.
func (f *failingCases) failAfter(n int32) { f.pass.Store(n) }
func (f *failingCases) disarm()           { f.pass.Store(-1) }

func (f *failingCases) PutCase(ctx context.Context, c store.ExchangeCase) error {
	for {
		n := f.pass.Load()
		if n < 0 {
			return f.ExchangeState.PutCase(ctx, c)
		}
		if n == 0 {
			f.fails.Add(1)
			return errors.New("injected: the disk is full")
		}
		if f.pass.CompareAndSwap(n, n-1) {
			return f.ExchangeState.PutCase(ctx, c)
		}
	}
}

func countLeaves(t *testing.T, p *partnership, kind audit.Kind, caseID string) int {
	t.Helper()
	n := 0
	for _, l := range p.leaves(t) {
		if l.Kind == kind && l.Case == caseID {
			n++
		}
	}
	return n
}

// queuedCase runs step 1 and step 2 for a gallery person and returns the
// case and its first candidate.
func queuedCase(t *testing.T, p *partnership, person *galleryPerson) (string, string) {
	t.Helper()
	bg := context.Background()
	res, err := p.client.Step1(bg, border(probeOf(t, person)))
	if err != nil || res.Outcome != "hit" {
		t.Fatalf("step 1: %+v %v", res, err)
	}
	caseID, _, err := p.client.RequestDisclosure(bg, res.Reference, nil, "o-1")
	if err != nil {
		t.Fatal(err)
	}
	q, err := p.resp.Queue(examinerID, examinerSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range q {
		if c.Case == caseID {
			return caseID, c.Candidates[0]
		}
	}
	t.Fatalf("case %s not in the queue %+v", caseID, q)
	return "", ""
}

// TestDecisionStandsWhenStoreFailsAfterLeaf: the store records an
// examiner's decision as pending before its leaf, and fails when told it
// was logged. The decision stands (its leaf is written): the examiner is
// told so, a second decision is refused, and after a restart the store's
// pending decision is completed from the leaf, so that the case is
// released, not queued for a second decision. One examiner leaf, one
// release leaf.
func TestDecisionStandsWhenStoreFailsAfterLeaf(t *testing.T) {
	bg := context.Background()
	st := newFailingCases(openState(t))
	p := newPartnershipState(t, nil, st)
	people := p.enrol(rand.New(rand.NewPCG(3, 13)), 2, "GBR")
	caseID, cand := queuedCase(t, p, people[0])

	st.failAfter(1) // the pending decision passes, the decided case fails
	if err := p.resp.Decide(bg, examinerID, examinerSecret, caseID, true, cand); err != nil {
		t.Fatalf("decision whose leaf is written: %v, want it to stand", err)
	}
	if st.fails.Load() != 1 {
		t.Fatalf("%d store writes refused, want 1 (the decided case)", st.fails.Load())
	}
	st.disarm()
	if err := p.resp.Decide(bg, examinerID, examinerSecret, caseID, false, ""); !errors.Is(err, ErrCaseState) {
		t.Fatalf("second decision: %v, want %v", err, ErrCaseState)
	}
	p.restart(t)
	if q, _ := p.resp.Queue(examinerID, examinerSecret); len(q) != 0 {
		t.Fatalf("after the restart the queue holds %d cases, want none", len(q))
	}
	if err := p.resp.Decide(bg, examinerID, examinerSecret, caseID, false, ""); !errors.Is(err, ErrCaseState) {
		t.Fatalf("decision after the restart: %v, want %v", err, ErrCaseState)
	}
	status, rel, err := p.client.Status(bg, caseID)
	if err != nil || status != StatusReleased || rel == nil || rel.Fields["names"] == "" {
		t.Fatalf("poll: %s %+v %v, want the release", status, rel, err)
	}
	if n := countLeaves(t, p, audit.KindExaminer, caseID); n != 1 {
		t.Fatalf("%d examiner leaves, want 1", n)
	}
	if n := releaseLeaves(t, p, caseID); n != 1 {
		t.Fatalf("%d release leaves, want 1", n)
	}
}

// TestPendingDecisionWithoutLeafIsDropped: a node stopped after its store
// recorded a decision as pending but before the leaf was written (here:
// the log refuses the append) did not decide: after a restart the case
// waits for an examiner again, and is decided once.
func TestPendingDecisionWithoutLeafIsDropped(t *testing.T) {
	bg := context.Background()
	st := newFailingCases(openState(t))
	p := newPartnershipState(t, nil, st)
	people := p.enrol(rand.New(rand.NewPCG(3, 14)), 2, "GBR")
	caseID, cand := queuedCase(t, p, people[1])

	// The store holds the pending decision; the log is closed, so the
	// leaf is not written, and the store is failing, so that the case's
	// return to the queue is not recorded either.
	st.failAfter(1)
	p.log.Close()
	if err := p.resp.Decide(bg, examinerID, examinerSecret, caseID, true, cand); !errors.Is(err, ErrStorage) {
		t.Fatalf("decision with no leaf: %v, want %v", err, ErrStorage)
	}
	st.disarm()
	p.restart(t)
	q, err := p.resp.Queue(examinerID, examinerSecret)
	if err != nil || len(q) != 1 || q[0].Case != caseID {
		t.Fatalf("queue after the restart: %+v %v, want the case again", q, err)
	}
	if err := p.resp.Decide(bg, examinerID, examinerSecret, caseID, false, ""); err != nil {
		t.Fatal(err)
	}
	if n := countLeaves(t, p, audit.KindExaminer, caseID); n != 1 {
		t.Fatalf("%d examiner leaves, want 1", n)
	}
}

// TestDeliveryWaitsForStore: when the store fails to record a delivery
// after the release leaf is written, the requester gets a storage
// refusal, not the data (sent then, it would go again after a restart).
// The next poll, after a restart, delivers it without a second leaf, and
// the poll after that finds it delivered.
func TestDeliveryWaitsForStore(t *testing.T) {
	bg := context.Background()
	st := newFailingCases(openState(t))
	p := newPartnershipState(t, nil, st)
	people := p.enrol(rand.New(rand.NewPCG(3, 15)), 2, "GBR")
	caseID, cand := queuedCase(t, p, people[0])
	if err := p.resp.Decide(bg, examinerID, examinerSecret, caseID, true, cand); err != nil {
		t.Fatal(err)
	}
	st.failAfter(1) // delivering passes, delivered fails
	_, rel, err := p.client.Status(bg, caseID)
	if rf := refusalReason(t, err); rf.Reason != ReasonStorage || rel != nil {
		t.Fatalf("poll with the store failing: %v, release %v; want %s and no data", err, rel, ReasonStorage)
	}
	if n := releaseLeaves(t, p, caseID); n != 1 {
		t.Fatalf("%d release leaves after the failed poll, want 1", n)
	}
	st.disarm()
	p.restart(t)
	status, rel, err := p.client.Status(bg, caseID)
	if err != nil || status != StatusReleased || rel == nil {
		t.Fatalf("poll after the restart: %s %+v %v, want the release", status, rel, err)
	}
	p.restart(t)
	if status, rel, err = p.client.Status(bg, caseID); err != nil || status != StatusDelivered || rel != nil {
		t.Fatalf("poll after a second restart: %s %+v %v, want delivered and no data", status, rel, err)
	}
	if n := releaseLeaves(t, p, caseID); n != 1 {
		t.Fatalf("%d release leaves, want 1", n)
	}
}

// TestStoreBehindLogClosesCases: a node restored from a backup whose store
// copy was taken before its log copy starts with a store that misses what
// the last leaves say. A case confirmed after the store copy (its release
// unknown to the store) and one whose disclosure request came after it
// are closed with an expiry leaf and release nothing; a rejection and a
// delivery the log holds are taken from the log. No case can be decided
// or released a second time.
func TestStoreBehindLogClosesCases(t *testing.T) {
	bg := context.Background()
	st := openState(t)
	p := newPartnershipState(t, nil, st)
	people := p.enrol(rand.New(rand.NewPCG(3, 16)), 4, "GBR")
	confirmed, candA := queuedCase(t, p, people[0])
	rejected, _ := queuedCase(t, p, people[1])
	delivered, candC := queuedCase(t, p, people[2])
	if err := p.resp.Decide(bg, examinerID, examinerSecret, delivered, true, candC); err != nil {
		t.Fatal(err)
	}
	res, err := p.client.Step1(bg, border(probeOf(t, people[3])))
	if err != nil || res.Outcome != "hit" {
		t.Fatalf("step 1: %+v %v", res, err)
	}

	// The backup's store copy.
	snap := openState(t)
	cs, err := st.Cases(bg)
	if err != nil || len(cs) != 4 {
		t.Fatalf("cases: %d %v", len(cs), err)
	}
	for _, c := range cs {
		if err := snap.PutCase(bg, c); err != nil {
			t.Fatal(err)
		}
	}
	// What happens before the log copy.
	if err := p.resp.Decide(bg, examinerID, examinerSecret, confirmed, true, candA); err != nil {
		t.Fatal(err)
	}
	if err := p.resp.Decide(bg, examinerID, examinerSecret, rejected, false, ""); err != nil {
		t.Fatal(err)
	}
	if _, rel, err := p.client.Status(bg, delivered); err != nil || rel == nil {
		t.Fatalf("delivery: %v %v", rel, err)
	}
	awaiting, _, err := p.client.RequestDisclosure(bg, res.Reference, nil, "o-1")
	if err != nil {
		t.Fatal(err)
	}

	p.respCfg.State = snap
	p.restart(t)
	if q, err := p.resp.Queue(examinerID, examinerSecret); err != nil || len(q) != 0 {
		t.Fatalf("queue after the restore: %+v %v, want empty", q, err)
	}
	for id, want := range map[string]string{confirmed: StatusExpired, rejected: StatusRejected, delivered: StatusDelivered, awaiting: StatusExpired} {
		status, rel, err := p.client.Status(bg, id)
		if err != nil || status != want || rel != nil {
			t.Errorf("case after the restore: %s %+v %v, want %s and no data", status, rel, err, want)
		}
	}
	for id, want := range map[string]int{confirmed: 1, rejected: 1, delivered: 1, awaiting: 0} {
		if n := countLeaves(t, p, audit.KindExaminer, id); n != want {
			t.Errorf("%d examiner leaves for a case, want %d", n, want)
		}
	}
	if n := releaseLeaves(t, p, delivered) + releaseLeaves(t, p, confirmed); n != 1 {
		t.Errorf("%d release leaves, want 1", n)
	}
	closed := 0
	for _, l := range p.leaves(t) {
		if l.Kind == audit.KindExpiry && l.Reason == "store_behind_log" {
			closed++
		}
	}
	if closed != 2 {
		t.Errorf("%d cases closed as behind the log, want 2", closed)
	}
}

// TestFirstConfirmationStandsWhenStoreFailsAfterLeaf: under four eyes, a
// first confirmation whose leaf is written stands when the store fails to
// record it, and after a restart: the queue shows it, the same examiner
// cannot confirm again, and the second examiner's confirmation releases.
// One confirmed_first leaf.
func TestFirstConfirmationStandsWhenStoreFailsAfterLeaf(t *testing.T) {
	bg := context.Background()
	st := newFailingCases(openState(t))
	p := newPartnershipState(t, func(a *Agreement) { a.FourEyes = true }, st)
	const second, secondSecret = "gb-examiner-9", "another secret"
	p.respCfg.Examiners = NewStaticExaminers(map[string]string{examinerID: examinerSecret, second: secondSecret})
	p.restart(t)
	people := p.enrol(rand.New(rand.NewPCG(3, 17)), 2, "GBR")
	caseID, cand := queuedCase(t, p, people[0])

	st.failAfter(1)
	if err := p.resp.DecideCase(bg, examinerID, examinerSecret, caseID, Decision{Confirm: true, Candidate: cand}); err != nil {
		t.Fatalf("first confirmation whose leaf is written: %v", err)
	}
	st.disarm()
	p.restart(t)
	q, err := p.resp.Queue(second, secondSecret)
	if err != nil || len(q) != 1 || q[0].ConfirmedBy != examinerID || q[0].ConfirmedCandidate != cand {
		t.Fatalf("queue after the restart: %+v %v, want the first confirmation", q, err)
	}
	if err := p.resp.DecideCase(bg, examinerID, examinerSecret, caseID, Decision{Confirm: true, Candidate: cand}); !errors.Is(err, ErrCaseState) {
		t.Fatalf("the first examiner again: %v, want %v", err, ErrCaseState)
	}
	if err := p.resp.DecideCase(bg, second, secondSecret, caseID, Decision{Confirm: true, Candidate: cand}); err != nil {
		t.Fatal(err)
	}
	if status, rel, err := p.client.Status(bg, caseID); err != nil || status != StatusReleased || rel == nil {
		t.Fatalf("after the second confirmation: %s %+v %v", status, rel, err)
	}
	first := 0
	for _, l := range p.leaves(t) {
		if l.Kind == audit.KindExaminer && l.Case == caseID && l.Outcome == audit.OutcomeConfirmedFirst {
			first++
		}
	}
	if first != 1 {
		t.Fatalf("%d confirmed_first leaves, want 1", first)
	}
}

// TestRequesterWithoutItsLog: a requesting node whose own audit log fails
// shows no step-1 answer it cannot account for, and says that a release it
// received is not recorded; the release is kept (the partner marked it
// delivered when it sent it, so it would otherwise be lost).
func TestRequesterWithoutItsLog(t *testing.T) {
	bg := context.Background()
	var usLog *audit.Log
	p := newPartnershipWith(t, nil, nil, func(p *partnership, rc *ResponderConfig, c *ClientConfig) {
		var err error
		if usLog, err = audit.Open(filepath.Join(t.TempDir(), "us-audit"), p.us.LogSigner); err != nil {
			t.Fatal(err)
		}
		c.Log = usLog
	})
	people := p.enrol(rand.New(rand.NewPCG(3, 16)), 2, "GBR")
	caseID, cand := queuedCase(t, p, people[0])
	if err := p.resp.Decide(bg, examinerID, examinerSecret, caseID, true, cand); err != nil {
		t.Fatal(err)
	}
	usLog.Close()
	if res, err := p.client.Step1(bg, border(probeOf(t, people[1]))); !errors.Is(err, ErrStorage) || res != nil {
		t.Fatalf("step 1 with the requester's log closed: %+v %v, want %v and no answer", res, err, ErrStorage)
	}
	if _, _, err := p.client.Status(bg, caseID); !errors.Is(err, ErrStorage) || !strings.Contains(err.Error(), "kept") {
		t.Fatalf("poll with the requester's log closed: %v, want %v saying the release is kept", err, ErrStorage)
	}
	if _, ok := p.client.Received().Get(caseID); !ok {
		t.Fatal("the release was dropped")
	}
}
