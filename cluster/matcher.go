package cluster

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/ebsp/ebsp/search"
)

// MatcherConfig configures a matcher.
type MatcherConfig struct {
	// Prefix starts every subject ("ebsp", say); Shard names the shard.
	Prefix, Shard string
	// Engine compares the shard's templates; Workers searches in parallel
	// (GOMAXPROCS when 0).
	Engine  search.Engine
	Workers int
	// Dir holds the shard log and its snapshot; empty keeps the shard in
	// memory only (tests, benchmarks that fill shards themselves).
	Dir string
	// Setup, when set, configures the gallery before anything is loaded
	// (shortlist, compact templates).
	Setup func(*search.Gallery)
}

// Matcher serves one shard over NATS.
type Matcher struct {
	cfg  MatcherConfig
	nc   *nats.Conn
	g    *search.Gallery
	log  *shardLog
	mu   sync.Mutex // serialises writes: log order is gallery order
	subs []*nats.Subscription
	// handOff is the rebalance in progress on this shard's side (onHandOff).
	handOff *handOff
	// SnapshotState says how the shard was loaded: "none" (no snapshot
	// yet), "loaded", or "rebuilt: " and why the snapshot was not used.
	SnapshotState string
}

// NewMatcher loads the shard from its log (when cfg.Dir is set) and
// answers its subjects on nc until Close.
func NewMatcher(nc *nats.Conn, cfg MatcherConfig) (*Matcher, error) {
	if cfg.Prefix == "" || cfg.Shard == "" || cfg.Engine == nil {
		return nil, errors.New("cluster: a matcher needs a subject prefix, a shard name and an engine")
	}
	m := &Matcher{cfg: cfg, nc: nc, g: m0gallery(cfg)}
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("cluster: matcher: %w", err)
		}
		if err := m.load(); err != nil {
			return nil, err
		}
	}
	handlers := map[string]nats.MsgHandler{opSearch: m.onSearch, opEnrol: m.onEnrol, opRemove: m.onRemove, opInfo: m.onInfo,
		opVerify: m.onVerify, opHandOff: m.onHandOff, opRelease: m.onRelease}
	for op, h := range handlers {
		s, err := nc.QueueSubscribe(subject(cfg.Prefix, cfg.Shard, op), queueGroup, h)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("cluster: matcher: subscribe: %w", err)
		}
		m.subs = append(m.subs, s)
	}
	if err := nc.Flush(); err != nil {
		m.Close()
		return nil, fmt.Errorf("cluster: matcher: %w", err)
	}
	return m, nil
}

func m0gallery(cfg MatcherConfig) *search.Gallery {
	g := search.NewGallery(cfg.Engine, cfg.Workers)
	if cfg.Setup != nil {
		cfg.Setup(g)
	}
	return g
}

// load fills the gallery from the shard's snapshot and the log records
// after it, or from the whole log when the snapshot is missing, stale or
// damaged; then it writes a fresh snapshot if the log went beyond it.
func (m *Matcher) load() error {
	logPath := m.logPath()
	from, replayed := int64(0), 0
	apply := func(r logRecord) error { replayed++; return m.apply(r) }
	if f, err := os.Open(m.snapshotPath()); err == nil {
		meta, err := m.g.ReadSnapshot(f)
		f.Close()
		switch {
		case err != nil:
			m.SnapshotState = "rebuilt: " + err.Error()
		case len(meta) != 8:
			m.SnapshotState = "rebuilt: snapshot without a log position"
		default:
			from = int64(binary.BigEndian.Uint64(meta))
			m.SnapshotState = "loaded"
		}
	} else {
		m.SnapshotState = "none"
	}
	l, err := openShardLog(logPath, from, apply)
	if errors.Is(err, errLogOffset) {
		m.SnapshotState = "rebuilt: " + err.Error()
		m.g, from, replayed = m0gallery(m.cfg), 0, 0
		l, err = openShardLog(logPath, 0, apply)
	}
	if err != nil {
		return err
	}
	m.log = l
	if m.SnapshotState != "loaded" || replayed > 0 {
		return m.WriteSnapshot()
	}
	return nil
}

func (m *Matcher) logPath() string {
	return filepath.Join(m.cfg.Dir, "shard-"+m.cfg.Shard+".log")
}

func (m *Matcher) snapshotPath() string {
	return filepath.Join(m.cfg.Dir, "shard-"+m.cfg.Shard+".snap")
}

// WriteSnapshot writes the gallery and the log position it covers to the
// shard's snapshot file, atomically (a temporary file, synced, renamed).
func (m *Matcher) WriteSnapshot() error {
	if m.log == nil {
		return errors.New("cluster: a matcher without --data has no snapshot")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.writeSnapshot()
}

// writeSnapshot is WriteSnapshot for a caller that holds m.mu.
func (m *Matcher) writeSnapshot() error {
	if err := m.g.SaveSnapshot(m.snapshotPath(), binary.BigEndian.AppendUint64(nil, uint64(m.log.size))); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	return nil
}

// Gallery is the shard's gallery, for filling it directly (benchmarks).
func (m *Matcher) Gallery() *search.Gallery { return m.g }

// Close stops answering and closes the shard log.
func (m *Matcher) Close() error {
	for _, s := range m.subs {
		_ = s.Unsubscribe()
	}
	if m.log != nil {
		return m.log.close()
	}
	return nil
}

// apply replays one log record into the gallery.
func (m *Matcher) apply(r logRecord) error {
	switch r.op {
	case logEnrol:
		for _, t := range r.tmpl {
			if err := m.g.Add(r.identity, t.ID, t.Position, t.Data); err != nil {
				return err
			}
		}
	case logRemove, logRemoveTemplates:
		m.removeRecord(r)
	}
	return nil
}

func respond(msg *nats.Msg, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":"cluster: cannot encode the reply"}`)
	}
	_ = msg.Respond(b)
}

func (m *Matcher) onSearch(msg *nats.Msg) {
	var req searchRequest
	out := searchReply{Shard: m.cfg.Shard}
	if err := json.Unmarshal(msg.Data, &req); err != nil {
		out.Error = "bad search request: " + err.Error()
		respond(msg, out)
		return
	}
	probes, err := m.probes(req.Samples)
	if err != nil {
		out.Error = err.Error()
		respond(msg, out)
		return
	}
	out.Candidates = m.g.Search(probes, req.Limit, req.Floor)
	out.Templates, out.Identities = m.g.Len()
	respond(msg, out)
}

func (m *Matcher) probes(samples []Sample) ([]search.ProbeSample, error) {
	var probes []search.ProbeSample
	for i, s := range samples {
		p, err := m.cfg.Engine.PrepareProbe(s.Data)
		if err != nil {
			return nil, fmt.Errorf("sample %d: %v", i, err)
		}
		probes = append(probes, search.ProbeSample{Position: s.Position, Probe: p})
	}
	return probes, nil
}

func (m *Matcher) onVerify(msg *nats.Msg) {
	var req verifyRequest
	if err := json.Unmarshal(msg.Data, &req); err != nil || req.Identity == "" {
		respond(msg, verifyReply{Error: "bad verify request"})
		return
	}
	probes, err := m.probes(req.Samples)
	if err != nil {
		respond(msg, verifyReply{Error: err.Error()})
		return
	}
	score, ok := m.g.Verify(probes, req.Identity)
	respond(msg, verifyReply{Score: score, Found: ok})
}

func (m *Matcher) onEnrol(msg *nats.Msg) {
	var req enrolRequest
	if err := json.Unmarshal(msg.Data, &req); err != nil {
		respond(msg, reply{Error: "bad enrol request: " + err.Error()})
		return
	}
	// Prepare first, so that a bad template is refused before anything is
	// logged: the log holds only what the gallery accepted.
	type prepared struct {
		id, tid string
		t       Template
		p       any
	}
	var ps []prepared
	recs := make([]logRecord, 0, len(req.Identities))
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, e := range req.Identities {
		if e.Identity == "" {
			respond(msg, reply{Error: "empty identity"})
			return
		}
		// A template the shard holds already (a retried enrolment, a
		// rebalance's copy of what was also enrolled here) is kept once.
		var fresh []Template
		seen := map[string]bool{}
		for _, t := range e.Templates {
			if !seen[t.ID] && !m.g.HasTemplate(e.Identity, t.ID) {
				fresh = append(fresh, t)
			}
			seen[t.ID] = true
		}
		if len(fresh) == 0 {
			continue
		}
		for j, t := range fresh {
			p, err := m.cfg.Engine.PrepareGallery(t.Data)
			if err != nil {
				// By position, never by identity or template id: the
				// node logs a shard's refusal (docs/node.md, "Logs").
				respond(msg, reply{Error: fmt.Sprintf("enrolment %d, new template %d: %v", i, j, err)})
				return
			}
			ps = append(ps, prepared{e.Identity, t.ID, t, p})
		}
		recs = append(recs, logRecord{op: logEnrol, identity: e.Identity, tmpl: fresh})
	}
	if m.log != nil && len(recs) > 0 {
		if err := m.log.append(recs...); err != nil {
			respond(msg, reply{Error: err.Error()})
			return
		}
	}
	for _, p := range ps {
		m.g.AddPrepared(p.id, p.tid, p.t.Position, p.p)
	}
	respond(msg, reply{Count: len(ps)})
}

func (m *Matcher) onRemove(msg *nats.Msg) {
	var req removeRequest
	if err := json.Unmarshal(msg.Data, &req); err != nil || req.Identity == "" {
		respond(msg, reply{Error: "bad remove request"})
		return
	}
	rec := logRecord{op: logRemove, identity: req.Identity}
	if len(req.Templates) > 0 {
		rec.op = logRemoveTemplates
		for _, id := range req.Templates {
			rec.tmpl = append(rec.tmpl, Template{ID: id})
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.log != nil {
		if err := m.log.append(rec); err != nil {
			respond(msg, reply{Error: err.Error()})
			return
		}
	}
	respond(msg, reply{Count: m.removeRecord(rec)})
}

// removeRecord applies an erasure record to the gallery.
func (m *Matcher) removeRecord(r logRecord) int {
	if r.op == logRemove {
		return m.g.Remove(r.identity)
	}
	ids := map[string]bool{}
	for _, t := range r.tmpl {
		if m.g.HasTemplate(r.identity, t.ID) {
			ids[t.ID] = true
		}
	}
	return m.g.RemoveTemplates(ids)
}

func (m *Matcher) onInfo(msg *nats.Msg) {
	var req infoRequest
	_ = json.Unmarshal(msg.Data, &req) // an old client's {}: no heap
	t, ids := m.g.Len()
	in := Info{Shard: m.cfg.Shard, Templates: t, Identities: ids}
	m.g.EachTemplate(func(identity, tid string) { in.Digest += TemplateDigest(identity, tid) })
	if req.Heap {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		in.HeapBytes = int64(ms.HeapAlloc)
	}
	respond(msg, in)
}
