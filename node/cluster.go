package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/cluster"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/search"
	"github.com/ebsp/ebsp/store"
)

// ClusterConfig keeps the galleries of some modalities in matcher shards
// over NATS (package cluster, docs/scale.md) instead of the node's memory.
// Without it (the default) every gallery is in the node's process.
type ClusterConfig struct {
	// NATS is the URL(s) of an external NATS server or cluster,
	// comma-separated. Empty: the node embeds a NATS server listening on
	// Listen, so that one machine needs nothing else.
	NATS string `json:"nats,omitempty"`
	// Listen is the embedded server's host:port (default 127.0.0.1:4222;
	// port 0 takes any free port).
	Listen string `json:"listen,omitempty"`
	// Shards names the shards identities are placed on by consistent
	// hashing. Adding one moves to it the identities it now owns when the
	// node starts (cluster.Client.Rebalance).
	Shards []string `json:"shards"`
	// Matchers is "node" (the default with the embedded server): the node
	// runs one matcher per shard in its own process, each with its shard
	// log and snapshot under DataDir/shards; or "external" (the default
	// with NATS set): `ebsp matcher` processes serve the shards.
	Matchers string `json:"matchers,omitempty"`
	// Prefix starts the subjects (default "ebsp"); a modality's shards
	// answer on PREFIX.MODALITY.shard.NAME.* (ebsp matcher --prefix
	// ebsp.finger --modality finger).
	Prefix string `json:"prefix,omitempty"`
	// Modalities are the modalities held in shards (default finger; finger
	// and face are possible).
	Modalities []biometric.Modality `json:"modalities,omitempty"`
	// TimeoutMS bounds how long a search waits for a shard before it
	// answers without it, partial (default 2000).
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// CompactLogs has the node's own matchers (matchers "node") compact
	// their shard logs at start (cluster.Matcher.CompactLog), which takes
	// erased templates off the disk; external matchers compact with
	// `ebsp matcher --compact-log`.
	CompactLogs bool `json:"compact_logs,omitempty"`
	// TLS has every NATS connection of the node (its client and its own
	// matchers) use mutual TLS, and the embedded server require it of every
	// client: needed for an embedded server that listens beyond this
	// machine. External matchers take the same files (ebsp matcher
	// --tls-ca, --tls-cert, --tls-key).
	TLS *ClusterTLS `json:"tls,omitempty"`
}

// ClusterTLS names the PEM files of the cluster's mutual TLS
// (cluster.TLSFiles). cert_file must allow client authentication, and with
// the embedded server, server authentication for the listen address.
type ClusterTLS struct {
	CAFile   string `json:"ca_file"`
	CertFile string `json:"cert_file"`
	KeyFile  string `json:"key_file"`
}

// files is c as package cluster takes it (nil for nil).
func (c *ClusterTLS) files() *cluster.TLSFiles {
	if c == nil {
		return nil
	}
	return &cluster.TLSFiles{CA: c.CAFile, Cert: c.CertFile, Key: c.KeyFile}
}

func (c *ClusterConfig) defaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:4222"
	}
	if c.Matchers == "" {
		c.Matchers = "node"
		if c.NATS != "" {
			c.Matchers = "external"
		}
	}
	if c.Prefix == "" {
		c.Prefix = "ebsp"
	}
	if len(c.Modalities) == 0 {
		c.Modalities = []biometric.Modality{biometric.Finger}
	}
	if c.TimeoutMS == 0 {
		c.TimeoutMS = 2000
	}
}

func (c *ClusterConfig) validate(selfCal bool) error {
	if _, err := cluster.NewRing(c.Shards); err != nil {
		return fmt.Errorf("config: cluster.shards: %v", err)
	}
	if c.Matchers != "node" && c.Matchers != "external" {
		return fmt.Errorf("config: cluster.matchers %q: want node or external", c.Matchers)
	}
	for _, m := range c.Modalities {
		if m != biometric.Finger && m != biometric.Face {
			return fmt.Errorf("config: cluster.modalities: %q: want finger or face", m)
		}
	}
	if c.TimeoutMS < 0 {
		return fmt.Errorf("config: cluster.timeout_ms %d: want 0 (default) or more", c.TimeoutMS)
	}
	if host, _, err := net.SplitHostPort(c.Listen); err != nil && c.NATS == "" {
		return fmt.Errorf("config: cluster.listen %q: %v", c.Listen, err)
	} else if c.NATS == "" && c.TLS == nil && !loopback(host) {
		// Without TLS the server authenticates no one: anyone reaching it
		// could read, enrol or erase templates.
		return fmt.Errorf("config: cluster.listen %q: without cluster.tls the embedded NATS server authenticates no client: listen on a loopback address, or set tls (mutual TLS) for matchers on other hosts", c.Listen)
	}
	if c.NATS != "" && c.TLS == nil {
		// Templates cross NATS: to a server on another host only over TLS.
		for _, u := range strings.Split(c.NATS, ",") {
			pu, err := url.Parse(strings.TrimSpace(u))
			if err != nil || pu.Host == "" {
				return fmt.Errorf("config: cluster.nats: %q is not a NATS URL", cluster.RedactURL(u))
			}
			if pu.Scheme != "tls" && !loopback(pu.Hostname()) {
				return fmt.Errorf("config: cluster.nats %q: a server on another host without TLS would carry templates in the clear: set cluster.tls (mutual TLS) or use a tls:// URL", cluster.RedactURL(u))
			}
		}
	}
	if c.TLS != nil {
		for _, f := range []struct{ name, path string }{{"ca_file", c.TLS.CAFile}, {"cert_file", c.TLS.CertFile}, {"key_file", c.TLS.KeyFile}} {
			if f.path == "" {
				return fmt.Errorf("config: cluster.tls.%s is required with cluster.tls", f.name)
			}
			if _, err := os.Stat(f.path); err != nil {
				return fmt.Errorf("config: cluster.tls.%s: %v", f.name, err)
			}
		}
	}
	if selfCal && c.Matchers == "external" {
		return errors.New("config: self_calibration with external matchers is not built (the node holds none of their templates): turn it off, or serve the shards with the node's own matchers")
	}
	return nil
}

// loopback reports whether host names only this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// shardedGallery is a modality's gallery held by matcher shards.
type shardedGallery struct {
	c *cluster.Client
	// templates and identities are the shards' sizes at the last full
	// answer (or start), for the thresholds that follow the gallery's size.
	templates, identities atomic.Int64
}

// clusterParts is what the node started for its cluster, stopped by Close.
type clusterParts struct {
	srv      *server.Server
	conns    []*nats.Conn
	matchers []*cluster.Matcher
}

// openCluster connects to (or embeds) NATS, starts the in-process
// matchers, and makes a client per clustered modality; then it copies to
// the shards any stored template they miss (an enrolment whose node
// stopped between the store and the shard) and moves identities to the
// shard the ring places them on.
func (n *Node) openCluster(ctx context.Context) error {
	cc := n.cfg.Cluster
	url := cc.NATS
	parts := &clusterParts{}
	n.clusterParts = parts
	if url == "" {
		host, port, _ := net.SplitHostPort(cc.Listen)
		p, err := strconv.Atoi(port)
		if err != nil {
			return fmt.Errorf("node: cluster.listen %q: %v", cc.Listen, err)
		}
		if p == 0 {
			p = -1 // nats-server's "any free port"
		}
		srv, err := cluster.StartServer(host, p, cc.TLS.files())
		if err != nil {
			return err
		}
		parts.srv = srv
		url = srv.ClientURL()
		n.log.Info("nats server embedded", "url", url)
	}
	connect := func(name string) (*nats.Conn, error) {
		nc, err := cluster.Connect(url, name, cc.TLS.files())
		if err == nil {
			parts.conns = append(parts.conns, nc)
		}
		return nc, err
	}
	ring, err := cluster.NewRing(cc.Shards)
	if err != nil {
		return err
	}
	timeout := time.Duration(cc.TimeoutMS) * time.Millisecond
	for _, m := range cc.Modalities {
		eng, ok := n.engines[m]
		if !ok {
			return fmt.Errorf("node: cluster.modalities: this node has no %s engine", m)
		}
		prefix := cc.Prefix + "." + string(m)
		if cc.Matchers == "node" {
			for _, s := range cc.Shards {
				nc, err := connect("ebsp node matcher " + string(m) + " " + s)
				if err != nil {
					return err
				}
				compact := n.cfg.CompactFingerprints && m == biometric.Finger
				mt, err := cluster.NewMatcher(nc, cluster.MatcherConfig{Prefix: prefix, Shard: s, Engine: eng, Workers: n.cfg.Workers,
					Dir: filepath.Join(n.cfg.DataDir, "shards", string(m)), Setup: func(g *search.Gallery) { g.SetCompact(compact) }})
				if err != nil {
					return err
				}
				parts.matchers = append(parts.matchers, mt)
				if n.selfcal != nil {
					n.selfcal.addShard(m, mt.Gallery())
				}
				if cc.CompactLogs {
					before, after, err := mt.CompactLog()
					if err != nil {
						return err
					}
					n.log.Info("shard log compacted", "modality", string(m), "shard", s, "bytes_before", before, "bytes_after", after)
				}
				t, ids := mt.Gallery().Len()
				n.log.Info("matcher started", "modality", string(m), "shard", s, "templates", t, "identities", ids, "snapshot", mt.SnapshotState)
			}
		}
		nc, err := connect("ebsp node " + string(m))
		if err != nil {
			return err
		}
		sg := &shardedGallery{c: cluster.NewClient(nc, prefix, ring, timeout)}
		n.sharded[m] = sg
		if err := n.syncShards(ctx, m, sg); err != nil {
			return err
		}
		st, err := sg.c.Rebalance(ctx)
		if err != nil {
			return fmt.Errorf("node: %s shards: %w", m, err)
		}
		if st.Identities > 0 {
			n.log.Info("shards rebalanced", "modality", string(m), "identities", st.Identities, "templates", st.Templates)
		}
		if err := sg.refreshSize(ctx); err != nil {
			return err
		}
	}
	return nil
}

// syncShards compares the digest of the store's templates of modality m
// with the shards' (cluster.TemplateDigest) and, only when they differ,
// sends every stored template to its shard in batches (a shard skips what
// it holds already), so that the store does not cross NATS at every start.
func (n *Node) syncShards(ctx context.Context, m biometric.Modality, sg *shardedGallery) error {
	alg := n.engines[m].Algorithm()
	var want uint64
	stored := 0
	if err := n.store.Gallery(ctx, m, func(e store.GalleryEntry) error {
		if e.Algorithm == alg {
			want += cluster.TemplateDigest(e.IdentityID, e.TemplateID)
			stored++
		}
		return nil
	}); err != nil {
		return fmt.Errorf("node: read the store's %s templates: %w", m, err)
	}
	if got, held, err := sg.digest(ctx); err != nil {
		return err
	} else if got == want {
		return nil
	} else {
		n.log.Warn("shards not in step with the store: sending the stored templates", "modality", string(m), "stored", stored, "in_shards", held)
	}
	var batch []cluster.Enrolment
	flush := func() error {
		err := sg.c.Enrol(ctx, batch...)
		batch = batch[:0]
		return err
	}
	err := n.store.Gallery(ctx, m, func(e store.GalleryEntry) error {
		if e.Algorithm != alg {
			return nil
		}
		batch = append(batch, cluster.Enrolment{Identity: e.IdentityID, Templates: []cluster.Template{
			{ID: e.TemplateID, Position: e.Position, Data: append([]byte(nil), e.Data...)}}})
		if len(batch) >= 256 {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("node: copy the store's %s templates to the shards: %w", m, err)
	}
	if got, held, err := sg.digest(ctx); err == nil && got != want {
		// More in the shards than in the store: an erasure (retention)
		// that a shard missed. Loud, since an erased template is still
		// searchable; erasing the identity again removes it.
		n.log.Error("shards hold templates the store does not", "modality", string(m), "stored", stored, "in_shards", held)
	}
	return nil
}

// digest sums the shards' template digests and counts.
func (sg *shardedGallery) digest(ctx context.Context) (sum uint64, templates int, err error) {
	for _, s := range sg.c.Ring().Shards() {
		in, err := sg.c.Size(ctx, s)
		if err != nil {
			return 0, 0, err
		}
		sum += in.Digest
		templates += in.Templates
	}
	return sum, templates, nil
}

// refreshSize asks every shard for its size.
func (sg *shardedGallery) refreshSize(ctx context.Context) error {
	var t, ids int
	for _, s := range sg.c.Ring().Shards() {
		in, err := sg.c.Size(ctx, s)
		if err != nil {
			return err
		}
		t += in.Templates
		ids += in.Identities
	}
	sg.templates.Store(int64(t))
	sg.identities.Store(int64(ids))
	return nil
}

// Close writes the in-process galleries' snapshots, so that the next
// start prepares nothing, and stops what the node started beside its
// store: the matchers and NATS server of a cluster configuration. The
// node must not serve requests any more.
func (n *Node) Close() error {
	var errs []error
	if n.ready.Load() {
		errs = append(errs, n.saveGallerySnapshots())
	}
	p := n.clusterParts
	if p == nil {
		return errors.Join(errs...)
	}
	for _, m := range p.matchers {
		errs = append(errs, m.Close())
	}
	for _, nc := range p.conns {
		nc.Close()
	}
	if p.srv != nil {
		p.srv.Shutdown()
	}
	n.clusterParts = nil
	return errors.Join(errs...)
}

// galleryQuery is a search's probe: prepared for the in-process gallery,
// in stored form for shards.
type galleryQuery struct {
	probes  []search.ProbeSample
	samples []cluster.Sample
}

// fingerQuery makes the query of a partner's probe fingers; the stored
// form is made only for shards.
func (n *Node) fingerQuery(fingers []exchange.FingerProbe) (galleryQuery, error) {
	var q galleryQuery
	_, sharded := n.sharded[biometric.Finger]
	for i, f := range fingers {
		q.probes = append(q.probes, search.ProbeSample{Position: f.Position, Probe: engine.FingerProbe(f.Template)})
		if !sharded {
			continue
		}
		rec, err := iso19794.MinutiaeRecordFromTemplate(f.Template, iso19794.ISO19794_2_2005, f.Position)
		if err != nil {
			return q, fmt.Errorf("node: probe finger %d: %w", i, err)
		}
		b, err := rec.Marshal()
		if err != nil {
			return q, fmt.Errorf("node: probe finger %d: %w", i, err)
		}
		q.samples = append(q.samples, cluster.Sample{Position: f.Position, Data: b})
	}
	return q, nil
}

// searchOutcome is a search's candidates and, for shards, whether some
// did not answer.
type searchOutcome struct {
	candidates []biometric.Candidate
	partial    bool
	missing    []string
}

// gallerySearch searches modality m's gallery wherever it is.
func (n *Node) gallerySearch(ctx context.Context, m biometric.Modality, q galleryQuery, limit int, floor float64) (searchOutcome, error) {
	sg, ok := n.sharded[m]
	if !ok {
		return searchOutcome{candidates: n.galleries[m].Search(q.probes, limit, floor)}, nil
	}
	res, err := sg.c.Search(ctx, q.samples, limit, floor)
	if err != nil {
		n.metrics.partialSearches.WithLabelValues(string(m)).Inc()
		return searchOutcome{}, errf(CodeShardsUnavailable, "no shard of the gallery answered the search")
	}
	if res.Partial {
		n.metrics.partialSearches.WithLabelValues(string(m)).Inc()
		n.log.Warn("partial search: shards did not answer", "modality", string(m), "missing", fmt.Sprint(res.Missing))
	} else {
		sg.templates.Store(int64(res.Templates))
		sg.identities.Store(int64(res.Identities))
	}
	return searchOutcome{candidates: res.Candidates, partial: res.Partial, missing: slices.Clone(res.Missing)}, nil
}

// galleryVerify compares a probe with one identity of modality m (1:1).
func (n *Node) galleryVerify(ctx context.Context, m biometric.Modality, q galleryQuery, identity string) (float64, bool, error) {
	sg, ok := n.sharded[m]
	if !ok {
		s, found := n.galleries[m].Verify(q.probes, identity)
		return s, found, nil
	}
	s, found, err := sg.c.Verify(ctx, identity, q.samples)
	if err != nil {
		n.log.Warn("verification: the identity's shard did not answer", "modality", string(m), "err", err.Error())
		return 0, false, errf(CodeShardsUnavailable, "the gallery shard holding that identity did not answer")
	}
	return s, found, nil
}

// galleryAdd adds an enrolment's prepared templates to their galleries.
func (n *Node) galleryAdd(ctx context.Context, identity string, preps []prepared) error {
	shard := map[biometric.Modality][]cluster.Template{}
	for _, p := range preps {
		if p.template == nil {
			continue
		}
		m := p.sample.Modality
		if _, ok := n.sharded[m]; ok {
			shard[m] = append(shard[m], cluster.Template{ID: p.template.ID, Position: p.sample.Position, Data: p.template.Data})
			continue
		}
		n.galleries[m].AddPrepared(identity, p.template.ID, p.sample.Position, p.gallery)
		n.snapshots.touch(m)
	}
	for m, ts := range shard {
		if err := n.sharded[m].c.Enrol(ctx, cluster.Enrolment{Identity: identity, Templates: ts}); err != nil {
			n.log.Error("enrolment stored but not sent to its shard", "modality", string(m), "err", err.Error())
			return errf(CodeShardsUnavailable, "the enrolment is stored but its gallery shard did not take it; it is sent again when the node restarts")
		}
		n.sharded[m].identities.Add(1) // about: an identity enrolled again counts twice until the next full answer
		n.sharded[m].templates.Add(int64(len(ts)))
	}
	return nil
}

// shardsRemove erases an identity from the shards, before the store (so
// that an erasure the shards did not take changes nothing and can be
// retried).
func (n *Node) shardsRemove(ctx context.Context, identity string) error {
	for m, sg := range n.sharded {
		k, err := sg.c.Remove(ctx, identity)
		if err != nil {
			n.log.Error("erasure: a shard did not answer", "modality", string(m), "err", err.Error())
			return errf(CodeShardsUnavailable, "a gallery shard did not answer the erasure; nothing was erased from the store: retry")
		}
		if k > 0 {
			sg.identities.Add(-1)
			sg.templates.Add(int64(-k))
		}
	}
	return nil
}

// galleryLen is the size of modality m's gallery.
func (n *Node) galleryLen(m biometric.Modality) (templates, identities int) {
	if sg, ok := n.sharded[m]; ok {
		return int(sg.templates.Load()), int(sg.identities.Load())
	}
	if g, ok := n.galleries[m]; ok {
		return g.Len()
	}
	return 0, 0
}

// searchable reports whether the node searches modality m.
func (n *Node) searchable(m biometric.Modality) bool {
	_, local := n.galleries[m]
	_, sharded := n.sharded[m]
	return local || sharded
}
