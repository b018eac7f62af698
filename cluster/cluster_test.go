package cluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/synth"
)

// fingerRecord is impression k of synthetic finger f as a stored template.
func fingerRecord(t testing.TB, f uint64, k uint64, pos biometric.FingerPosition) []byte {
	m := synth.NewFingerMaster(5, f)
	master := synth.TemplateMaster(m)
	rec, err := iso19794.MinutiaeRecordFromTemplate(synth.TemplateImpression(m, &master, k), iso19794.ISO19794_2_2005, pos)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// embeddedConn starts a NATS server in the test's process and connects
// to it; both stop when the test ends.
func embeddedConn(t testing.TB) *nats.Conn {
	t.Helper()
	srv, err := StartServer("127.0.0.1", -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func person(t testing.TB, p int, k uint64) ([]Template, []Sample) {
	var ts []Template
	var ss []Sample
	for f, pos := range []biometric.FingerPosition{biometric.RightIndex, biometric.LeftIndex} {
		d := fingerRecord(t, uint64(2*p+f), k, pos)
		ts = append(ts, Template{ID: fmt.Sprintf("P%d-%d", p, f), Position: pos, Data: d})
		ss = append(ss, Sample{Position: pos, Data: d})
	}
	return ts, ss
}

func TestRingPlacement(t *testing.T) {
	r, err := NewRing([]string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for i := range 30000 {
		count[r.Owner(fmt.Sprint("P", i))]++
	}
	for s, n := range count {
		if n < 8000 || n > 12000 {
			t.Errorf("shard %s holds %d of 30000", s, n)
		}
	}
	// Adding a shard moves identities only onto it.
	r4, _ := NewRing([]string{"a", "b", "c", "d"})
	moved := 0
	for i := range 30000 {
		id := fmt.Sprint("P", i)
		if o := r4.Owner(id); o != r.Owner(id) {
			if o != "d" {
				t.Fatalf("%s moved from %s to %s, not to the new shard", id, r.Owner(id), o)
			}
			moved++
		}
	}
	if moved < 5000 || moved > 10000 {
		t.Errorf("%d of 30000 moved to the fourth shard, want about a quarter", moved)
	}
	if _, err := NewRing([]string{"a", "a"}); err == nil {
		t.Error("repeated shard accepted")
	}
}

// TestScatterGather runs three matchers with shard logs on an embedded
// NATS server: enrolments reach the owning shard, a search finds the mate
// whatever shard holds it, a stopped shard makes answers partial (never
// a silent no-hit), and a matcher restarted on its log answers in full
// again with its identities.
func TestScatterGather(t *testing.T) {
	srv, err := StartServer("127.0.0.1", -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	connect := func() *nats.Conn {
		nc, err := nats.Connect(srv.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	dir := t.TempDir()
	shards := []string{"s1", "s2", "s3"}
	start := func(s string) *Matcher {
		m, err := NewMatcher(connect(), MatcherConfig{Prefix: "t", Shard: s, Engine: engine.Finger{}, Workers: 1, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ms := map[string]*Matcher{}
	for _, s := range shards {
		ms[s] = start(s)
	}
	ring, _ := NewRing(shards)
	c := NewClient(connect(), "t", ring, 2*time.Second)
	ctx := context.Background()
	const people = 60
	var es []Enrolment
	for p := range people {
		ts, _ := person(t, p, 1)
		es = append(es, Enrolment{Identity: fmt.Sprint("P", p), Templates: ts})
	}
	if err := c.Enrol(ctx, es...); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, s := range shards {
		in, err := c.Info(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		total += in.Identities
	}
	if total != people {
		t.Fatalf("shards hold %d identities, want %d", total, people)
	}
	// A person on s2, searched with another impression.
	who := -1
	for p := range people {
		if ring.Owner(fmt.Sprint("P", p)) == "s2" {
			who = p
			break
		}
	}
	_, probe := person(t, who, 2)
	res, err := c.Search(ctx, probe, 5, 0.01)
	if err != nil || res.Partial || len(res.Candidates) == 0 || res.Candidates[0].IdentityID != fmt.Sprint("P", who) {
		t.Fatalf("full search: %+v, %v", res, err)
	}
	// s2 goes away: partial, and says which shard is missing.
	ms["s2"].Close()
	res, err = c.Search(ctx, probe, 5, 0.01)
	if err != nil || !res.Partial || len(res.Missing) != 1 || res.Missing[0] != "s2" {
		t.Fatalf("search without s2: %+v, %v", res, err)
	}
	if _, partial := c.Stats(); partial != 1 {
		t.Errorf("partial searches counted %d, want 1", partial)
	}
	// Restarted on its log: full, and the person is found again.
	ms["s2"] = start("s2")
	res, err = c.Search(ctx, probe, 5, 0.01)
	if err != nil || res.Partial || len(res.Candidates) == 0 || res.Candidates[0].IdentityID != fmt.Sprint("P", who) {
		t.Fatalf("search after restart: %+v, %v", res, err)
	}
	// Erasure goes to the owner and survives a restart.
	if n, err := c.Remove(ctx, fmt.Sprint("P", who)); err != nil || n != 2 {
		t.Fatalf("remove: %d, %v", n, err)
	}
	ms["s2"].Close()
	ms["s2"] = start("s2")
	res, err = c.Search(ctx, probe, 5, 0.01)
	if err != nil || res.Partial {
		t.Fatal(res, err)
	}
	for _, cd := range res.Candidates {
		if cd.IdentityID == fmt.Sprint("P", who) {
			t.Fatal("erased identity found after restart")
		}
	}
}

// TestShardLogTornAndCorrupt checks that a record torn at the end is cut
// off and that a bad record followed by good ones is refused.
func TestShardLogTornAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.log")
	var got []logRecord
	l, err := openShardLog(path, 0, func(r logRecord) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	recs := []logRecord{
		{op: logEnrol, identity: "a", tmpl: []Template{{ID: "a1", Position: 2, Data: []byte{1, 2, 3}}}},
		{op: logRemove, identity: "b"},
		{op: logEnrol, identity: "c", tmpl: []Template{{ID: "c1", Position: 7, Data: []byte{9}}}},
	}
	for _, r := range recs {
		if err := l.append(r); err != nil {
			t.Fatal(err)
		}
	}
	l.close()
	full, _ := os.ReadFile(path)
	// Torn: the last record loses its last byte.
	os.WriteFile(path, full[:len(full)-1], 0o600)
	got = nil
	l, err = openShardLog(path, 0, func(r logRecord) error { got = append(got, r); return nil })
	if err != nil || len(got) != 2 || got[1].identity != "b" {
		t.Fatalf("torn tail: %v records, %v", len(got), err)
	}
	l.close()
	if st, _ := os.Stat(path); st.Size() >= int64(len(full)-1) {
		t.Errorf("torn tail not cut: %d bytes", st.Size())
	}
	// Corrupt: a byte of the first record's payload flipped.
	bad := append([]byte(nil), full...)
	bad[10] ^= 0xff
	os.WriteFile(path, bad, 0o600)
	if _, err := openShardLog(path, 0, func(logRecord) error { return nil }); err == nil {
		t.Error("corrupt record before good ones loaded")
	}
}

// FuzzDecodeRecord: any payload decodes or fails, without panic, and a
// decoded record encodes back to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(logRecord{op: logEnrol, identity: "id", tmpl: []Template{{ID: "t", Position: 1, Data: []byte("xyz")}}}))
	f.Add(encodeRecord(logRecord{op: logRemove, identity: "id"}))
	f.Add(encodeRecord(logRecord{op: logRemoveTemplates, identity: "id", tmpl: []Template{{ID: "t1"}, {ID: "t2"}}}))
	f.Add([]byte{1, 0, 5})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		if got := encodeRecord(r); string(got) != string(b) {
			t.Fatalf("round trip %x -> %x", b, got)
		}
	})
}

// TestMatcherSnapshot checks that a matcher restarts from its snapshot
// plus the log records after it, and that a damaged or stale snapshot is
// rebuilt from the log, with the same shard either way.
func TestMatcherSnapshot(t *testing.T) {
	nc := embeddedConn(t)
	dir := t.TempDir()
	cfg := MatcherConfig{Prefix: "s", Shard: "a", Engine: engine.Finger{}, Workers: 1, Dir: dir}
	ring, _ := NewRing([]string{"a"})
	c := NewClient(nc, "s", ring, 5*time.Second)
	ctx := context.Background()
	enrol := func(p int) {
		ts, _ := person(t, p, 1)
		if err := c.Enrol(ctx, Enrolment{Identity: fmt.Sprint("P", p), Templates: ts}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := NewMatcher(nc, cfg)
	if err != nil || m.SnapshotState != "none" {
		t.Fatalf("first start: %q, %v", m.SnapshotState, err)
	}
	for p := range 10 {
		enrol(p)
	}
	m.Close()
	restart := func(want string) *Matcher {
		t.Helper()
		m, err := NewMatcher(nc, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(m.SnapshotState, want) {
			t.Fatalf("snapshot state %q, want %q", m.SnapshotState, want)
		}
		if n, ids := m.Gallery().Len(); n != 2*ids || ids != 10 {
			t.Fatalf("%d templates of %d identities after restart (%s)", n, ids, m.SnapshotState)
		}
		_, probe := person(t, 3, 2)
		res, err := c.Search(ctx, probe, 3, 0.01)
		if err != nil || len(res.Candidates) == 0 || res.Candidates[0].IdentityID != "P3" {
			t.Fatalf("search after restart (%s): %+v %v", m.SnapshotState, res, err)
		}
		m.Close()
		return m
	}
	// The first start wrote an empty snapshot; ten enrolments since: the
	// log after it is replayed and a new snapshot written.
	restart("loaded")
	restart("loaded")
	snap := filepath.Join(dir, "shard-a.snap")
	b, _ := os.ReadFile(snap)
	b[len(b)/2] ^= 1
	os.WriteFile(snap, b, 0o600)
	restart("rebuilt")
	restart("loaded")
	stale := cfg
	stale.Engine = renamedFinger{}
	cfg = stale
	restart("rebuilt") // another engine name: stale
}

// renamedFinger is engine.Finger with another prepared version, as a new
// release of the matcher would have.
type renamedFinger struct{ engine.Finger }

func (renamedFinger) PreparedVersion() string { return "mcc-prepared/99" }

// TestNATSServerRestart checks that a matcher and a client connected with
// Connect ride out a NATS server restart: while the server is down a
// search fails or is partial, and once it is back on the same address,
// answers are full again without restarting either side.
func TestNATSServerRestart(t *testing.T) {
	srv, err := StartServer("127.0.0.1", -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	url := srv.ClientURL()
	port := srv.Addr().(*net.TCPAddr).Port
	mc, err := Connect(url, "matcher", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	m, err := NewMatcher(mc, MatcherConfig{Prefix: "r", Shard: "a", Engine: engine.Finger{}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cc, err := Connect(url, "client", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ring, _ := NewRing([]string{"a"})
	c := NewClient(cc, "r", ring, time.Second)
	ctx := context.Background()
	ts, probe := person(t, 1, 1)
	if err := c.Enrol(ctx, Enrolment{Identity: "P1", Templates: ts}); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown()
	if res, err := c.Search(ctx, probe, 3, 0.01); err == nil && !res.Partial {
		t.Fatalf("search with the server down answered in full: %+v", res)
	}
	srv2, err := StartServer("127.0.0.1", port, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Shutdown()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res, err := c.Search(ctx, probe, 3, 0.01)
		if err == nil && !res.Partial && len(res.Candidates) > 0 && res.Candidates[0].IdentityID == "P1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no full answer 20 s after the server came back: %+v, %v", res, err)
		}
	}
}

// TestRebalance adds a fourth shard to three that hold 120 identities
// with logs, and rebalances while other goroutines enrol new identities,
// add templates to identities on the move, and erase some: afterwards
// every live identity is on its owner under the new ring and nowhere
// else, with each of its templates exactly once; the identities that
// moved are exactly those the new ring gives the new shard; erased ones
// are nowhere; and the whole thing survives a restart of every matcher.
func TestRebalance(t *testing.T) {
	nc := embeddedConn(t)
	dir := t.TempDir()
	ms := map[string]*Matcher{}
	start := func(s string) {
		m, err := NewMatcher(nc, MatcherConfig{Prefix: "rb", Shard: s, Engine: engine.Finger{}, Workers: 1, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		ms[s] = m
	}
	old := []string{"s1", "s2", "s3"}
	for _, s := range old {
		start(s)
	}
	ring3, _ := NewRing(old)
	ctx := context.Background()
	c3 := NewClient(nc, "rb", ring3, 5*time.Second)
	// want[identity] = its template ids, the truth the shards must hold.
	want := map[string][]string{}
	var mu sync.Mutex
	const people = 120
	var es []Enrolment
	for p := range people {
		ts, _ := person(t, p, 1)
		id := fmt.Sprint("P", p)
		es = append(es, Enrolment{Identity: id, Templates: ts})
		want[id] = []string{ts[0].ID, ts[1].ID}
	}
	if err := c3.Enrol(ctx, es...); err != nil {
		t.Fatal(err)
	}
	start("s4")
	ring4, _ := NewRing(append(old, "s4"))
	c4 := NewClient(nc, "rb", ring4, 5*time.Second)
	c4.pageBytes = 1 // a page an identity: many chances to interleave
	var movedWant []string
	for id := range want {
		if ring4.Owner(id) == "s4" {
			movedWant = append(movedWant, id)
		}
	}
	// Writers during the rebalance: new people, an extra template for
	// people who are moving, erasures of others.
	var wg sync.WaitGroup
	extra := 0
	for _, id := range movedWant[:min(5, len(movedWant))] {
		extra++
		wg.Go(func() {
			var p int
			fmt.Sscanf(id, "P%d", &p)
			d := fingerRecord(t, uint64(1000+p), 1, biometric.RightThumb)
			tid := id + "-extra"
			if err := c4.Enrol(ctx, Enrolment{Identity: id, Templates: []Template{{ID: tid, Position: biometric.RightThumb, Data: d}}}); err != nil {
				t.Error(err)
			}
			mu.Lock()
			want[id] = append(want[id], tid)
			mu.Unlock()
		})
	}
	for p := people; p < people+30; p++ {
		wg.Go(func() {
			ts, _ := person(t, p, 1)
			id := fmt.Sprint("P", p)
			if err := c4.Enrol(ctx, Enrolment{Identity: id, Templates: ts}); err != nil {
				t.Error(err)
			}
			mu.Lock()
			want[id] = []string{ts[0].ID, ts[1].ID}
			mu.Unlock()
		})
	}
	// Erased: the last identity to move and two others, none of them one
	// that gets an extra template above (an enrolment after the erasure
	// would rightly bring it back) nor the one searched for below.
	erased := []string{movedWant[len(movedWant)-1]}
	for p := 7; len(erased) < 3; p++ {
		if id := fmt.Sprint("P", p); !slices.Contains(movedWant[:min(5, len(movedWant))], id) && !slices.Contains(erased, id) {
			erased = append(erased, id)
		}
	}
	for _, id := range erased {
		wg.Go(func() {
			if _, err := c4.Remove(ctx, id); err != nil {
				t.Error(err)
			}
			mu.Lock()
			delete(want, id)
			mu.Unlock()
		})
	}
	st, err := c4.Rebalance(ctx)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	stay := 0
	for _, id := range movedWant {
		if !slices.Contains(erased, id) {
			stay++
		}
	}
	// An erasure may land before or after its identity's page moved.
	if st.Identities < stay || st.Identities > len(movedWant) {
		t.Errorf("rebalance moved %d identities; the new ring gives s4 %d of the first %d, %d of them not erased", st.Identities, len(movedWant), people, stay)
	}
	check := func(when string) {
		t.Helper()
		total := 0
		for s, m := range ms {
			n, _ := m.Gallery().Len()
			total += n
			for id, tids := range want {
				for _, tid := range tids {
					if has := m.Gallery().HasTemplate(id, tid); has != (ring4.Owner(id) == s) {
						t.Errorf("%s: shard %s holds %s/%s: %v; its owner is %s", when, s, id, tid, has, ring4.Owner(id))
					}
				}
			}
			for _, id := range erased {
				if m.Gallery().Remove(id) != 0 {
					t.Errorf("%s: erased %s still on %s", when, id, s)
				}
			}
		}
		n := 0
		for _, tids := range want {
			n += len(tids)
		}
		if total != n {
			t.Errorf("%s: shards hold %d templates, want %d (none lost, none twice)", when, total, n)
		}
	}
	check("after the rebalance")
	if st2, err := c4.Rebalance(ctx); err != nil || st2.Identities != 0 {
		t.Errorf("a second rebalance moved %d identities (%v), want none", st2.Identities, err)
	}
	for s, m := range ms {
		m.Close()
		start(s)
	}
	check("after restarting every matcher")
	// Searches find a moved person on the new shard, once. The probe is the
	// enrolled impression itself: this checks placement, not the matcher,
	// and since the synthetic prints' refit (issue 14) some other
	// impression of a given finger scores below an impostor here, as real
	// ones do.
	var p int
	fmt.Sscanf(movedWant[0], "P%d", &p)
	_, probe := person(t, p, 1)
	res, err := c4.Search(ctx, probe, 5, 0.01)
	if err != nil || res.Partial || len(res.Candidates) == 0 || res.Candidates[0].IdentityID != movedWant[0] {
		t.Fatalf("search for a moved person: %+v, %v", res, err)
	}
}

// TestCompactLog compacts a shard log after erasures of identities and
// of single templates, and re-enrolment of an erased identity: the log
// shrinks, the shard is unchanged, and a restart, from the new snapshot or
// (snapshot removed) from the compacted log alone, gives the same shard.
func TestCompactLog(t *testing.T) {
	nc := embeddedConn(t)
	dir := t.TempDir()
	cfg := MatcherConfig{Prefix: "cl", Shard: "a", Engine: engine.Finger{}, Workers: 1, Dir: dir}
	m, err := NewMatcher(nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := NewRing([]string{"a"})
	c := NewClient(nc, "cl", ring, 5*time.Second)
	ctx := context.Background()
	for p := range 12 {
		ts, _ := person(t, p, 1)
		if err := c.Enrol(ctx, Enrolment{Identity: fmt.Sprint("P", p), Templates: ts}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"P1", "P2", "P3"} {
		if _, err := c.Remove(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.RemoveTemplates(ctx, "P4", []string{"P4-0"}); err != nil || n != 1 {
		t.Fatalf("remove a template: %d, %v", n, err)
	}
	ts, _ := person(t, 2, 1) // P2 erased, enrolled again
	if err := c.Enrol(ctx, Enrolment{Identity: "P2", Templates: ts}); err != nil {
		t.Fatal(err)
	}
	held := func(m *Matcher) string {
		var ids []string
		m.Gallery().EachTemplate(func(id, tid string) { ids = append(ids, id+"/"+tid) })
		slices.Sort(ids)
		return fmt.Sprint(ids)
	}
	want := held(m)
	before, after, err := m.CompactLog()
	if err != nil || after >= before {
		t.Fatalf("compact: %d -> %d bytes, %v", before, after, err)
	}
	if got := held(m); got != want {
		t.Fatalf("shard changed by compaction:\n%s\nwant\n%s", got, want)
	}
	// A write after compaction lands in the new log.
	ts, _ = person(t, 20, 1)
	if err := c.Enrol(ctx, Enrolment{Identity: "P20", Templates: ts}); err != nil {
		t.Fatal(err)
	}
	want = held(m)
	m.Close()
	for _, removeSnap := range []bool{false, true} {
		if removeSnap {
			os.Remove(filepath.Join(dir, "shard-a.snap"))
		}
		m, err = NewMatcher(nc, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := held(m); got != want {
			t.Fatalf("after restart (snapshot removed %v, %s):\n%s\nwant\n%s", removeSnap, m.SnapshotState, got, want)
		}
		m.Close()
	}
}

// TestEnrolRefusalNamesNoIdentity: a shard's refusal of a template the
// node then logs (node: "enrolment stored but not sent to its shard")
// names neither the identity nor the template id (docs/node.md, "Logs").
func TestEnrolRefusalNamesNoIdentity(t *testing.T) {
	nc := embeddedConn(t)
	m, err := NewMatcher(nc, MatcherConfig{Prefix: "nr", Shard: "a", Engine: engine.Finger{}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ring, _ := NewRing([]string{"a"})
	c := NewClient(nc, "nr", ring, 5*time.Second)
	err = c.Enrol(context.Background(), Enrolment{Identity: "SECRET-PERSON-7",
		Templates: []Template{{ID: "SECRET-TEMPLATE-9", Position: biometric.RightIndex, Data: []byte("not a template")}}})
	if err == nil {
		t.Fatal("a shard took a template that is not one")
	}
	if msg := err.Error(); strings.Contains(msg, "SECRET-PERSON-7") || strings.Contains(msg, "SECRET-TEMPLATE-9") {
		t.Fatalf("the refusal names the identity or template: %s", msg)
	}
}

// TestConnectErrorHidesPassword: a NATS URL with a password that cannot
// be reached fails with an error (which the node logs when it stops) that
// names the server but not the password.
func TestConnectErrorHidesPassword(t *testing.T) {
	_, err := Connect("nats://ebsp:s3cret-pw@127.0.0.1:1,nats://127.0.0.1:2", "test", nil)
	if err == nil {
		t.Fatal("connected to port 1")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cret-pw") || !strings.Contains(msg, "127.0.0.1:1") {
		t.Fatalf("error %q", msg)
	}
}
