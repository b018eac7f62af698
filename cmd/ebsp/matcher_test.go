package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/cluster"
)

// startMatcher runs `ebsp matcher` for one shard and waits until it
// answers.
func startMatcher(t *testing.T, bin, url, shard, dir string) *exec.Cmd {
	t.Helper()
	cmd, _ := startProcess(t, bin, []string{"matcher", "--nats", url, "--shard", shard, "--prefix", "kt", "--data", dir,
		"--workers", "1", "--ready-file", filepath.Join(dir, shard+".ready")},
		filepath.Join(dir, shard+".out"), filepath.Join(dir, shard+".ready"))
	return cmd
}

// TestMatcherKill9 runs three `ebsp matcher` processes on a real NATS
// server, searches continuously, kills one with SIGKILL while searches are
// in flight, and checks that no search fails (those in flight at the kill
// included) and that every search started after it is answered partial,
// naming the dead shard (never an error or a silent no-hit); then
// restarts it on its shard log and checks full answers that find a person
// it holds.
func TestMatcherKill9(t *testing.T) {
	bin := buildEbsp(t)
	srv, err := cluster.StartServer("127.0.0.1", -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	dir := t.TempDir()
	shards := []string{"m1", "m2", "m3"}
	procs := map[string]*exec.Cmd{}
	for _, s := range shards {
		procs[s] = startMatcher(t, bin, srv.ClientURL(), s, dir)
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ring, _ := cluster.NewRing(shards)
	c := cluster.NewClient(nc, "kt", ring, 3*time.Second)
	ctx := context.Background()
	pos := []biometric.FingerPosition{biometric.RightIndex, biometric.LeftIndex}
	const people = 150
	var es []cluster.Enrolment
	for p := range people {
		e := cluster.Enrolment{Identity: fmt.Sprint("P", p)}
		for f, ps := range pos {
			s := isoSample(t, uint64(2*p+f), ps)
			e.Templates = append(e.Templates, cluster.Template{ID: fmt.Sprintf("P%d-%d", p, f), Position: ps, Data: s.Data})
		}
		es = append(es, e)
	}
	if err := c.Enrol(ctx, es...); err != nil {
		t.Fatal(err)
	}
	// A person held by m2, the shard to be killed; the probe is the
	// enrolled impression, so that the answer is certain.
	who := -1
	for p := range people {
		if ring.Owner(fmt.Sprint("P", p)) == "m2" {
			who = p
			break
		}
	}
	var probe []cluster.Sample
	for _, tm := range es[who].Templates {
		probe = append(probe, cluster.Sample{Position: tm.Position, Data: tm.Data})
	}
	res, err := c.Search(ctx, probe, 5, 0.05)
	if err != nil || res.Partial || len(res.Candidates) == 0 || res.Candidates[0].IdentityID != fmt.Sprint("P", who) {
		t.Fatalf("before the kill: %+v, %v", res, err)
	}

	// Search continuously from two clients; kill m2 in the middle.
	after, errs := searchThroughKill(t, func() (*cluster.Result, error) { return c.Search(ctx, probe, 5, 0.05) }, procs["m2"])
	if len(errs) > 0 {
		t.Fatalf("searches after the kill failed: %v", errs[0])
	}
	if len(after) == 0 {
		t.Fatal("no search completed after the kill")
	}
	for _, r := range after {
		if r == nil || !r.Partial || len(r.Missing) != 1 || r.Missing[0] != "m2" {
			t.Fatalf("answer after the kill not flagged partial for m2: %+v", r)
		}
	}
	if _, partial := c.Stats(); partial < int64(len(after)) {
		t.Errorf("partial counter %d, want at least %d", partial, len(after))
	}

	// Restarted on its log, m2 answers again, with its identities.
	procs["m2"] = startMatcher(t, bin, srv.ClientURL(), "m2", dir)
	res, err = c.Search(ctx, probe, 5, 0.05)
	if err != nil || res.Partial || len(res.Candidates) == 0 || res.Candidates[0].IdentityID != fmt.Sprint("P", who) {
		t.Fatalf("after the restart: %+v, %v", res, err)
	}
	t.Logf("%d searches answered partial while m2 was down", len(after))
}

// searchThroughKill calls search continuously from two goroutines, kills
// proc with SIGKILL half a second in, and goes on for 4 s after the kill
// (longer than the clients' shard timeouts); it returns the results of
// the searches started after the kill and the errors of any search, those
// in flight at the kill included.
func searchThroughKill[R any](t *testing.T, search func() (R, error), proc *exec.Cmd) (after []R, errs []error) {
	t.Helper()
	var mu sync.Mutex
	killed, stop := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				wasKilled := false
				select {
				case <-killed:
					wasKilled = true
				default:
				}
				r, err := search()
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else if wasKilled {
					after = append(after, r)
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = proc.Process.Wait()
	close(killed)
	time.Sleep(4 * time.Second)
	close(stop)
	wg.Wait()
	return after, errs
}

// TestBenchSearchShards runs `ebsp bench search --shards 2`: two matcher
// processes fill their shares of the synthetic gallery, and the
// scatter-gathered searches find every enrolled person, in full answers.
func TestBenchSearchShards(t *testing.T) {
	bin := buildEbsp(t)
	out, err := exec.Command(bin, "bench", "search", "--fingers", "400", "--searches", "6", "--shards", "2", "--json").Output()
	if err != nil {
		t.Fatalf("bench search --shards: %v\n%s", err, out)
	}
	var r struct {
		Fingers, Shards, Identities, Searches int
		TrueHits                              int     `json:"true_hits"`
		MissedHits                            int     `json:"missed_hits"`
		Partial                               int     `json:"partial_answers"`
		BytesPerFinger                        float64 `json:"bytes_per_finger"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Shards != 2 || r.Identities != 200 || r.TrueHits != 3 || r.MissedHits != 0 || r.Partial != 0 || r.BytesPerFinger <= 0 {
		t.Errorf("bench over shards: %+v", r)
	}
}
