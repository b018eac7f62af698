package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/fingerprint/fvc"
)

// AuditOptions configure a transparency log benchmark.
type AuditOptions struct {
	Dir      string // log directory (default: a temporary directory, removed)
	Leaves   int64  // leaves to append
	Batch    int    // leaves per Append, one fsync each (default 1000)
	Proofs   int    // inclusion and consistency proofs to time (default 2000)
	Synced   int    // single-leaf Appends to time at the end (default 200)
	Rebuild  bool   // also time an Open that rebuilds index and tiles from the leaves
	Verify   bool   // also time audit.VerifyPath (ebsp audit verify --log) over the whole log
	Seed     uint64
	Progress Progress
}

// AuditResult is what ebsp bench audit prints.
type AuditResult struct {
	Leaves        int64   `json:"leaves"`
	Batch         int     `json:"batch"`
	MeanLeafBytes float64 `json:"mean_leaf_bytes"`
	// Appending Leaves in Append calls of Batch leaves.
	AppendSeconds         float64 `json:"append_seconds"`
	AppendCPUSeconds      float64 `json:"append_cpu_seconds"`
	LeavesPerSecond       float64 `json:"leaves_per_second"`
	LeavesPerCPUSecond    float64 `json:"leaves_per_cpu_second"`
	SyncedAppend          Latency `json:"synced_append"` // Append of one leaf on the full log: write and fsync
	Inclusion             Latency `json:"inclusion_proof"`
	InclusionCPUMicros    float64 `json:"inclusion_proof_cpu_us"` // thread CPU per proof
	Consistency           Latency `json:"consistency_proof"`
	ConsistencyCPUMicros  float64 `json:"consistency_proof_cpu_us"`
	ProofsChecked         int     `json:"proofs_checked"`                 // every timed proof, checked against a signed checkpoint
	HeapFirstTenth        int64   `json:"heap_live_bytes_at_first_tenth"` // live heap after a collection
	HeapAtEnd             int64   `json:"heap_live_bytes_at_end"`
	PeakRSS               uint64  `json:"peak_rss_bytes"` // VmHWM: the process's peak resident set
	OpenSeconds           float64 `json:"open_seconds"`   // Open after Close: check tree file, no leaf re-read
	OpenCPUSeconds        float64 `json:"open_cpu_seconds"`
	OpenLeavesRead        int64   `json:"open_leaves_read"`
	HeapAfterOpen         int64   `json:"heap_live_bytes_after_open"`
	RebuildSeconds        float64 `json:"rebuild_seconds,omitempty"` // Open of the leaves file alone (a log from before tiles)
	RebuildCPUSeconds     float64 `json:"rebuild_cpu_seconds,omitempty"`
	VerifySeconds         float64 `json:"verify_seconds,omitempty"` // VerifyPath: every leaf decoded and hashed, the checkpoint checked
	VerifyCPUSeconds      float64 `json:"verify_cpu_seconds,omitempty"`
	LeavesFileBytes       int64   `json:"leaves_file_bytes"`
	IndexFileBytes        int64   `json:"index_file_bytes"`
	TileBytes             int64   `json:"tile_bytes"`
	Machine               Machine `json:"machine"`
	LoadAverage1mAtFinish float64 `json:"load_average_1m_at_finish"`
}

// auditLeaf is leaf i of the benchmark: the shapes the exchange writes
// (request, decision, release), with realistic field lengths.
func auditLeaf(r *rand.Rand, t0 time.Time, i int64) audit.Leaf {
	l := audit.Leaf{Time: t0.Add(time.Duration(i) * 10 * time.Millisecond), Partner: "GB", Agreement: "agr-us-gb-2026",
		Case: fmt.Sprintf("c%015x", r.Uint64()>>4), Purpose: "border_screening", SearchType: "tenprint",
		Message: fmt.Sprintf("%016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64())}
	switch i % 3 {
	case 0:
		l.Kind = audit.KindRequest
	case 1:
		l.Kind, l.Outcome, l.Candidates = audit.KindDecision, "no_hit", 0
	default:
		l.Kind, l.Outcome, l.Candidates = audit.KindDecision, "hit", 1+r.IntN(3)
	}
	return l
}

// RunAudit appends opt.Leaves leaves to a new log, then times proofs on
// the full log, single synced appends, and reopening it.
func RunAudit(ctx context.Context, opt AuditOptions) (*AuditResult, error) {
	if opt.Leaves < 2 {
		return nil, errors.New("bench audit: --leaves must be at least 2")
	}
	if opt.Batch <= 0 {
		opt.Batch = 1000
	}
	if opt.Proofs <= 0 {
		opt.Proofs = 2000
	}
	if opt.Synced <= 0 {
		opt.Synced = 200
	}
	progress := opt.Progress
	if progress == nil {
		progress = func(string, int, int) {}
	}
	dir := opt.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "ebsp-bench-audit-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "audit")
	} else if _, err := os.Stat(filepath.Join(dir, audit.LeavesFile)); err == nil {
		return nil, fmt.Errorf("bench audit: %s already holds a log; give an empty or new directory", dir)
	}
	skey, vkey, err := audit.GenerateKey("bench.ebsp.example/audit")
	if err != nil {
		return nil, err
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	res := &AuditResult{Leaves: opt.Leaves, Batch: opt.Batch, Machine: machine()}
	l, err := audit.Open(dir, signer)
	if err != nil {
		return nil, err
	}
	defer func() { l.Close() }()

	r := rand.New(rand.NewPCG(opt.Seed, 12))
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]audit.Leaf, 0, opt.Batch)
	var leafBytes int64
	sw := start()
	for i := int64(0); i < opt.Leaves; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch = batch[:0]
		for ; len(batch) < opt.Batch && i < opt.Leaves; i++ {
			batch = append(batch, auditLeaf(r, t0, i))
		}
		if _, err := l.Append(batch...); err != nil {
			return nil, err
		}
		if i == opt.Leaves/10 || (i > opt.Leaves/10 && i-int64(len(batch)) < opt.Leaves/10) {
			res.HeapFirstTenth = heapInUse()
		}
		progress("append", int(i/int64(opt.Batch)), int((opt.Leaves+int64(opt.Batch)-1)/int64(opt.Batch)))
	}
	res.AppendSeconds, res.AppendCPUSeconds = sw.elapsed()
	res.LeavesPerSecond = float64(opt.Leaves) / res.AppendSeconds
	res.LeavesPerCPUSecond = float64(opt.Leaves) / res.AppendCPUSeconds
	res.HeapAtEnd = heapInUse()

	// Proofs on the full log, each checked against the signed checkpoint.
	signed, n, err := l.Checkpoint()
	if err != nil {
		return nil, err
	}
	cp, err := audit.OpenCheckpoint(signed, verifier)
	if err != nil {
		return nil, err
	}
	cases := make([]int64, opt.Proofs)
	for i := range cases {
		cases[i] = 1 + r.Int64N(n-1)
	}
	lat := make([]time.Duration, opt.Proofs)
	proofs := make([]tlog.RecordProof, opt.Proofs)
	var perr error
	cpu, _ := fvc.ThreadCPU(func() {
		for i, x := range cases {
			t := time.Now()
			proofs[i], perr = l.InclusionProof(x, n)
			lat[i] = time.Since(t)
			if perr != nil {
				return
			}
		}
	})
	if perr != nil {
		return nil, perr
	}
	res.Inclusion, res.InclusionCPUMicros = summarise(lat), float64(cpu.Microseconds())/float64(opt.Proofs)
	progress("proofs", 1, 3)
	for i, x := range cases {
		leaf, err := l.Leaf(x)
		if err == nil {
			err = audit.CheckInclusion(cp, x, leaf, proofs[i])
		}
		if err != nil {
			return nil, fmt.Errorf("bench audit: inclusion proof of leaf %d: %v", x, err)
		}
		res.ProofsChecked++
	}
	tproofs := make([]tlog.TreeProof, opt.Proofs)
	cpu, _ = fvc.ThreadCPU(func() {
		for i, x := range cases {
			t := time.Now()
			tproofs[i], perr = l.ConsistencyProof(x, n)
			lat[i] = time.Since(t)
			if perr != nil {
				return
			}
		}
	})
	if perr != nil {
		return nil, perr
	}
	res.Consistency, res.ConsistencyCPUMicros = summarise(lat), float64(cpu.Microseconds())/float64(opt.Proofs)
	progress("proofs", 2, 3)
	for i, x := range cases {
		h, err := l.TreeHash(x)
		if err == nil {
			err = audit.CheckConsistency(audit.Checkpoint{Origin: cp.Origin, Size: x, Hash: h}, cp, tproofs[i])
		}
		if err != nil {
			return nil, fmt.Errorf("bench audit: consistency proof from %d: %v", x, err)
		}
		res.ProofsChecked++
	}
	progress("proofs", 3, 3)

	// One leaf at a time, each synced: what a lone request costs.
	lat = lat[:opt.Synced]
	for i := range lat {
		t := time.Now()
		if _, err := l.Append(auditLeaf(r, t0, opt.Leaves+int64(i))); err != nil {
			return nil, err
		}
		lat[i] = time.Since(t)
	}
	res.SyncedAppend = summarise(lat)
	total := opt.Leaves + int64(opt.Synced)
	if err := l.Scan(total-1000, func(_ int64, leaf []byte) error { leafBytes += int64(len(leaf)); return nil }); err != nil {
		return nil, err
	}
	res.MeanLeafBytes = float64(leafBytes) / float64(min(total, 1000))
	if err := l.Close(); err != nil {
		return nil, err
	}

	// Reopen: the tree file is current, no leaf is re-read.
	runtime.GC()
	var open time.Duration
	wall := time.Now()
	open, _ = fvc.ThreadCPU(func() { l, err = audit.Open(dir, signer) })
	if err != nil {
		return nil, err
	}
	res.OpenSeconds, res.OpenCPUSeconds = time.Since(wall).Seconds(), open.Seconds()
	_, res.OpenLeavesRead = l.OpenStats()
	res.HeapAfterOpen = heapInUse()
	if l.Size() != total {
		return nil, fmt.Errorf("bench audit: reopened log has %d leaves, want %d", l.Size(), total)
	}
	if err := l.Close(); err != nil {
		return nil, err
	}
	res.LeavesFileBytes = fileSize(filepath.Join(dir, audit.LeavesFile))
	res.IndexFileBytes = fileSize(filepath.Join(dir, audit.IndexFile))
	tiles, _ := filepath.Glob(filepath.Join(dir, audit.TilesDir, "*"))
	for _, p := range tiles {
		res.TileBytes += fileSize(p)
	}

	if opt.Verify {
		var rep *audit.Report
		wall := time.Now()
		cpu, _ := fvc.ThreadCPU(func() {
			rep, err = audit.VerifyPath(dir, []note.Verifier{verifier}, []audit.SignedCheckpoint{{Source: "bench", Signed: signed}})
		})
		if err != nil {
			return nil, err
		}
		if !rep.OK() || rep.Leaves != total {
			return nil, fmt.Errorf("bench audit: the log does not verify: %d leaves, %q", rep.Leaves, rep.Problems)
		}
		res.VerifySeconds, res.VerifyCPUSeconds = time.Since(wall).Seconds(), cpu.Seconds()
	}
	if opt.Rebuild {
		// A log from before tiles: only the leaves file.
		for _, p := range []string{audit.IndexFile, audit.TilesDir, audit.TreeFile} {
			os.RemoveAll(filepath.Join(dir, p))
		}
		wall := time.Now()
		open, _ = fvc.ThreadCPU(func() { l, err = audit.Open(dir, signer) })
		if err != nil {
			return nil, err
		}
		res.RebuildSeconds, res.RebuildCPUSeconds = time.Since(wall).Seconds(), open.Seconds()
		if h, err := l.TreeHash(n); err != nil || h != cp.Hash {
			return nil, fmt.Errorf("bench audit: rebuilt tree's root at %d differs from the checkpoint (%v)", n, err)
		}
		if err := l.Close(); err != nil {
			return nil, err
		}
	}
	res.PeakRSS = peakRSS()
	res.LoadAverage1mAtFinish = machine().Load1
	return res, nil
}

// peakRSS is the process's peak resident set (Linux VmHWM), 0 elsewhere.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb uint64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

// Table is the result as ebsp bench audit prints it.
func (r *AuditResult) Table() string {
	mib := func(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	lat := func(l Latency) string {
		return fmt.Sprintf("p50 %.3f ms, p99 %.3f ms, max %.3f ms (%d)", l.P50, l.P99, l.Max, l.Count)
	}
	rows := [][2]string{
		{"leaves", fmt.Sprintf("%d (mean %.0f bytes), Append of %d", r.Leaves, r.MeanLeafBytes, r.Batch)},
		{"append", fmt.Sprintf("%.1f s, %.1f CPU s: %.0f leaves/s, %.0f leaves/CPU s", r.AppendSeconds, r.AppendCPUSeconds, r.LeavesPerSecond, r.LeavesPerCPUSecond)},
		{"synced 1-leaf Append", lat(r.SyncedAppend)},
		{"inclusion proof", fmt.Sprintf("%s; %.0f µs thread CPU", lat(r.Inclusion), r.InclusionCPUMicros)},
		{"consistency proof", fmt.Sprintf("%s; %.0f µs thread CPU", lat(r.Consistency), r.ConsistencyCPUMicros)},
		{"proofs checked", fmt.Sprint(r.ProofsChecked)},
		{"live heap", fmt.Sprintf("%s at a tenth, %s at the end, %s after reopen", mib(uint64(r.HeapFirstTenth)), mib(uint64(r.HeapAtEnd)), mib(uint64(r.HeapAfterOpen)))},
		{"peak RSS", mib(r.PeakRSS)},
		{"reopen", fmt.Sprintf("%.3f s, %.3f CPU s, %d leaves re-read", r.OpenSeconds, r.OpenCPUSeconds, r.OpenLeavesRead)},
	}
	if r.VerifySeconds > 0 {
		rows = append(rows, [2]string{"verify every leaf", fmt.Sprintf("%.1f s, %.1f CPU s", r.VerifySeconds, r.VerifyCPUSeconds)})
	}
	if r.RebuildSeconds > 0 {
		rows = append(rows, [2]string{"rebuild from leaves", fmt.Sprintf("%.1f s, %.1f CPU s", r.RebuildSeconds, r.RebuildCPUSeconds)})
	}
	rows = append(rows,
		[2]string{"on disk", fmt.Sprintf("leaves %s, index %s, tiles %s", mib(uint64(r.LeavesFileBytes)), mib(uint64(r.IndexFileBytes)), mib(uint64(r.TileBytes)))},
		[2]string{"load average", fmt.Sprintf("%.2f at start, %.2f at finish (%d CPUs)", r.Machine.Load1, r.LoadAverage1mAtFinish, r.Machine.CPUs)})
	return table(rows)
}
