package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/cluster"
	"github.com/ebsp/ebsp/search"
)

// searcher runs one benchmark search: in this process or over the shards.
// It returns the candidates, the prepared probe samples when it made them
// here (for the stage-1 rank), and whether the answer was partial.
type searcher interface {
	search(ctx context.Context, p probe, limit int, floor float64, c *comparisonCounter) ([]biometric.Candidate, []search.ProbeSample, bool, error)
	// otherCPU is the CPU time used so far by the processes that search
	// besides this one (the matchers), 0 in process.
	otherCPU() time.Duration
}

type localSearcher struct {
	g   *search.Gallery
	eng search.Engine
}

func (l localSearcher) search(_ context.Context, p probe, limit int, floor float64, c *comparisonCounter) ([]biometric.Candidate, []search.ProbeSample, bool, error) {
	var ps []search.ProbeSample
	for _, s := range p.samples {
		pr, err := l.eng.PrepareProbe(s.Data)
		if err != nil {
			return nil, nil, false, err
		}
		ps = append(ps, search.ProbeSample{Position: s.Position, Probe: c.wrap(pr)})
	}
	return l.g.Search(ps, limit, floor), ps, false, nil
}

func (localSearcher) otherCPU() time.Duration { return 0 }

// shardSearcher is a set of matcher processes on an embedded NATS server.
type shardSearcher struct {
	srv   *natsserver.Server
	nc    *nats.Conn
	c     *cluster.Client
	procs []*exec.Cmd
	dir   string
}

func (s *shardSearcher) search(ctx context.Context, p probe, limit int, floor float64, _ *comparisonCounter) ([]biometric.Candidate, []search.ProbeSample, bool, error) {
	var ss []cluster.Sample
	for _, x := range p.samples {
		ss = append(ss, cluster.Sample{Position: x.Position, Data: x.Data})
	}
	r, err := s.c.Search(ctx, ss, limit, floor)
	if err != nil {
		return nil, nil, false, err
	}
	return r.Candidates, nil, r.Partial, nil
}

// otherCPU sums the matcher processes' user and system time, from
// /proc/PID/stat (Linux; in clock ticks of 10 ms, so only sums over many
// searches are meaningful). Elsewhere it is 0.
func (s *shardSearcher) otherCPU() time.Duration {
	var t time.Duration
	for _, p := range s.procs {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Process.Pid))
		if err != nil {
			continue
		}
		// The command name, field 2, is in parentheses and may hold
		// spaces; utime and stime are fields 14 and 15.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		t += time.Duration(ut+st) * (time.Second / clockTicks)
	}
	return t
}

// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat's times.
const clockTicks = 100

func (s *shardSearcher) stop() {
	for _, p := range s.procs {
		_ = p.Process.Kill()
		_, _ = p.Process.Wait()
	}
	if s.nc != nil {
		s.nc.Close()
	}
	s.srv.Shutdown()
	os.RemoveAll(s.dir)
}

// startShards starts o.Shards matcher processes, each filling its share of
// the synthetic gallery, and waits until all answer. It fills in the
// result's load time, size and memory per template (the matchers' heaps).
func startShards(ctx context.Context, o SearchOptions, res *SearchResult) (*shardSearcher, error) {
	if o.Executable == "" {
		return nil, fmt.Errorf("bench: --shards needs the ebsp executable to run matchers")
	}
	srv, err := cluster.StartServer("127.0.0.1", -1, nil)
	if err != nil {
		return nil, err
	}
	s := &shardSearcher{srv: srv}
	if s.dir, err = os.MkdirTemp("", "ebsp-bench-shards-"); err != nil {
		s.stop()
		return nil, err
	}
	names := make([]string, o.Shards)
	for i := range names {
		names[i] = fmt.Sprintf("m%d", i+1)
	}
	ring, err := cluster.NewRing(names)
	if err != nil {
		s.stop()
		return nil, err
	}
	t0 := time.Now()
	for _, n := range names {
		args := []string{"matcher", "--nats", srv.ClientURL(), "--prefix", "bench", "--shard", n, "--ring", strings.Join(names, ","),
			"--seed", strconv.FormatUint(o.Seed, 10), "--ready-file", filepath.Join(s.dir, n+".ready"),
			"--penetration", strconv.FormatFloat(res.Shortlist.Fraction, 'g', -1, 64), "--shortlist-min", strconv.Itoa(res.Shortlist.Min)}
		if o.Faces > 0 {
			args = append(args, "--modality", "face", "--synth-faces", strconv.Itoa(o.Faces))
		} else {
			args = append(args, "--synth-fingers", strconv.Itoa(o.Fingers))
		}
		if res.Compact {
			args = append(args, "--compact")
		}
		cmd := exec.Command(o.Executable, args...)
		logf, err := os.Create(filepath.Join(s.dir, n+".log"))
		if err != nil {
			s.stop()
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			logf.Close()
			s.stop()
			return nil, fmt.Errorf("bench: start matcher %s: %w", n, err)
		}
		logf.Close()
		s.procs = append(s.procs, cmd)
	}
	for _, n := range names {
		for {
			if _, err := os.Stat(filepath.Join(s.dir, n+".ready")); err == nil {
				break
			}
			if err := ctx.Err(); err != nil {
				s.stop()
				return nil, err
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	res.LoadSeconds = time.Since(t0).Seconds()
	if s.nc, err = nats.Connect(srv.ClientURL()); err != nil {
		s.stop()
		return nil, err
	}
	s.c = cluster.NewClient(s.nc, "bench", ring, 60*time.Second)
	var heap int64
	for _, n := range names {
		in, err := s.c.Info(ctx, n)
		if err != nil {
			s.stop()
			return nil, err
		}
		res.Identities += in.Identities
		heap += in.HeapBytes
	}
	res.Shards = o.Shards
	per := float64(heap) / float64(max(o.Fingers, o.Faces))
	if o.Faces > 0 {
		res.BytesPerFace = per
	} else {
		res.BytesPerFinger = per
	}
	return s, nil
}
