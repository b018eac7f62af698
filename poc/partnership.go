package poc

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/country"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/internal/progress"
	"github.com/ebsp/ebsp/node"
	ebspp "github.com/ebsp/ebsp/partnership"
	"github.com/ebsp/ebsp/search"
	"github.com/ebsp/ebsp/store"
	"github.com/ebsp/ebsp/synth"
)

// partnership is the scenario's states as real ebsp nodes: each an
// in-process node (SQLite store in its own directory, the fingerprint
// engine, the HTTP API on a loopback port) reached through node.Client, the
// same client `ebsp identify` uses.
type partnership struct {
	s     *Scenario
	pop   *population
	nodes map[string]*stateNode // by state code
	hub   *stateNode            // the bulk-copy hub (home records plus copies of the partners'), nil if not modelled
	// bulkBytes and bulkRecords are the one-off transfer of the bulk copy.
	bulkBytes, bulkRecords int64
	bulkPeople             int
	ps                     *ebspp.Partnership
	// ex are the home state's views of its partners, one per partner, when
	// a model that searches partners is run.
	ex   []*exchangeSide
	exBy map[string]*exchangeSide
	// enc is the measured cost of the encrypted protocol, when the
	// encrypted_search model is run.
	enc *EncryptedCost
}

// stateNode is one running node and the ground truth of what it holds.
type stateNode struct {
	code   string
	n      *node.Node
	stop   func()
	client *node.Client
	count  *countingTransport
	// person maps the node's identity ids to population indices; source
	// says, in the hub, which state a copied record came from.
	mu     sync.Mutex
	person map[string]int
	source map[string]string
	// Calls this run made, checked against the node's own metrics.
	identifies atomic.Int64
	decisions  sync.Map // biometric.Decision -> *atomic.Int64
	enrolments atomic.Int64
	// retakes are enrolment captures the node refused for too few minutiae
	// and the run took again (ebspp.EnrolRetaking).
	retakes atomic.Int64
}

// countingTransport counts the bytes of request and response bodies.
type countingTransport struct {
	base        http.RoundTripper
	sent, recvd atomic.Int64
	requests    atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	if req.ContentLength > 0 {
		c.sent.Add(req.ContentLength)
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.recvd}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	k, err := b.ReadCloser.Read(p)
	b.n.Add(int64(k))
	return k, err
}

// runToken is the bearer token of this run's client: random per run and
// never written anywhere but the nodes' in-memory configuration (as its
// hash).
func runToken() string { return rand.Text() }

// pocToken is the run's principal at every node: it enrols the population,
// searches at home, reads records (the examiner role: what an automatic
// return hands over) and reads the metrics. Step-2 decisions go through
// each partner node's own examiner principal.
func pocToken(token string) node.TokenConfig {
	return node.TokenConfig{Name: "poc-run", SHA256: node.TokenHash(token),
		Roles: []node.Role{node.RoleEnroller, node.RoleSearcher, node.RoleExaminer, node.RoleAuditor}}
}

// pocConfig is the node configuration of the run: the run drives the nodes
// as fast as it can (rate limits would only measure themselves), with no
// review band (a candidate at or above the hit threshold is a hit that a
// human, or in some models nobody, acts on), and the fingerprint engine
// only. The hit threshold is th for every node when given, else each
// node's own policy at its gallery's size.
func pocConfig(cfg *node.Config, engines map[biometric.Modality]engine.Engine, token string, th *node.Thresholds, cap int, compact bool) {
	cfg.Tokens = append(cfg.Tokens, pocToken(token))
	cfg.CompactFingerprints = compact
	cfg.RatePerSecond, cfg.Burst = 1e6, 1e6
	cfg.CandidateCap = cap
	if th != nil {
		cfg.Thresholds = map[biometric.Modality]node.Thresholds{biometric.Finger: *th}
	} else {
		// The node's own policy, with the review band closed at the hit
		// threshold (fpir_review = fpir_hit).
		if cfg.FPIRHit == 0 {
			cfg.FPIRHit = nodePolicyFPIR
		}
		cfg.FPIRReview = cfg.FPIRHit
	}
	for m := range engines {
		if m != biometric.Finger {
			delete(engines, m)
		}
	}
	engines[biometric.Finger] = engine.Finger{}
}

// newStateNode is the run's handle on a running node: its client with the
// run's token, counting bytes.
func newStateNode(code string, n *node.Node, url, token string, stop func()) *stateNode {
	cl := node.NewClient(url, token, nil)
	ct := &countingTransport{base: cl.HTTP.Transport}
	cl.HTTP.Transport = ct
	return &stateNode{code: code, n: n, stop: stop, client: cl, count: ct,
		person: map[string]int{}, source: map[string]string{}}
}

// startHub starts the bulk-copy hub: a national node, party to no
// agreement, assembled as the partnership's nodes are.
func startHub(ctx context.Context, code, dir, token string, th *node.Thresholds, cap int, compact bool) (*stateNode, error) {
	c, err := country.ParseAlpha3(code)
	if err != nil {
		return nil, fmt.Errorf("poc: hub %s: %v", code, err)
	}
	m, err := ebspp.StartNational(ctx, ebspp.Options{Dir: dir,
		Node: func(_ string, cfg *node.Config, engines map[biometric.Modality]engine.Engine) {
			pocConfig(cfg, engines, token, th, cap, compact)
		}}, c.Alpha2())
	if err != nil {
		return nil, fmt.Errorf("poc: hub: %w", err)
	}
	return newStateNode(code, m.Node, m.URL, token, m.Close), nil
}

// startStates starts the scenario's states as a partnership
// (partnership.Start): the home state as the hub with an agreement with
// every partner on the scenario's terms.
func (p *partnership) startStates(ctx context.Context, dir, token string, th *node.Thresholds) error {
	s := p.s
	alpha2 := map[string]string{} // scenario code (alpha-3) -> the partnership's (alpha-2)
	for _, st := range s.States {
		c, err := country.ParseAlpha3(st.Code)
		if err != nil {
			return fmt.Errorf("poc: state %s: %v", st.Code, err)
		}
		alpha2[st.Code] = c.Alpha2()
	}
	var partners []string
	for _, st := range s.Partners() {
		partners = append(partners, alpha2[st.Code])
	}
	wires := map[string]*countingListener{}
	ps, err := ebspp.Start(ctx, ebspp.Options{
		Dir: dir, Hub: alpha2[s.Home], Partners: partners,
		Agreement: s.agreementTerms,
		Node: func(_ string, cfg *node.Config, engines map[biometric.Modality]engine.Engine) {
			pocConfig(cfg, engines, token, th, s.Agreement.CandidateCap, s.Matcher.CompactFingerprints)
		},
		Listener: func(state string, ln net.Listener) net.Listener {
			w := &countingListener{Listener: ln}
			wires[state] = w
			return w
		},
	})
	if err != nil {
		return fmt.Errorf("poc: %w", err)
	}
	p.ps = ps
	for _, st := range s.States {
		m := ps.Members[alpha2[st.Code]]
		p.nodes[st.Code] = newStateNode(st.Code, m.Node, m.URL, token, func() {})
	}
	p.exBy = map[string]*exchangeSide{}
	for _, st := range s.Partners() {
		a2 := alpha2[st.Code]
		side := newExchangeSide(st.Code, a2, p.nodes[st.Code], ps.Members[a2], ps.Members[alpha2[s.Home]], wires[a2], s.Agreement.CandidateCap)
		p.ex = append(p.ex, side)
		p.exBy[st.Code] = side
	}
	return nil
}

func (sn *stateNode) close() { sn.stop() }

func (p *partnership) close() {
	if p.hub != nil {
		p.hub.close()
	}
	if p.ps != nil {
		p.ps.Close()
	}
}

// fingerSamples are the ISO/IEC 19794-2 records of one capture of a
// person's fingers, as a border station would send them.
func (p *population) fingerSamples(personIndex int, impression uint64) ([]node.SampleInput, error) {
	out := make([]node.SampleInput, 0, len(p.fingers))
	for _, pos := range p.fingers {
		t := fingerTemplate(p.seed, personIndex, pos, impression)
		rec, err := iso19794.MinutiaeRecordFromTemplate(t, iso19794.ISO19794_2_2005, pos)
		if err != nil {
			return nil, fmt.Errorf("poc: person %d finger %d: %w", personIndex, pos, err)
		}
		data, err := rec.Marshal()
		if err != nil {
			return nil, fmt.Errorf("poc: person %d finger %d: %w", personIndex, pos, err)
		}
		out = append(out, node.SampleInput{Modality: biometric.Finger, Position: pos, Format: "iso19794-2", Data: data})
	}
	return out, nil
}

// faceSample is a synthetic face embedding (little-endian float32), kept by
// the node as the photo of an encounter; nodes here do not match faces.
func faceSample(g *synth.FaceGenerator, personIndex int, capture uint64) node.SampleInput {
	v := g.Capture(g.Identity(uint64(personIndex)), uint64(personIndex), capture, 0.9, 0)
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return node.SampleInput{Modality: biometric.Face, Format: "ebsp-face-vector", Data: b}
}

// enrolRecord enrols what state holds of a person into a node: an identity
// with minimal synthetic biographic data, a first encounter with the
// fingers, further encounters with a face photo, and a derogatory flag if
// the record has one.
func (p *population) enrolRecord(ctx context.Context, sn *stateNode, faces *synth.FaceGenerator, personIndex, stateIndex int, state string, rec record) error {
	fingers, err := p.fingerSamples(personIndex, stateImpression(stateIndex))
	if err != nil {
		return err
	}
	prov := store.Provenance{SourceAgency: state + "-immigration", LegalBasis: "synthetic PoC population"}
	req := &node.EnrolRequest{
		Identity: node.IdentityInput{
			Names:       []string{fmt.Sprintf("SYNTHETIC %06d", personIndex)},
			DateOfBirth: fmt.Sprintf("%04d", 1950+personIndex%55),
			Nationality: []string{state},
		},
		Encounter:  node.EncounterInput{Purpose: "visa", Agency: state + "-consulate"},
		Provenance: prov,
		Samples:    fingers,
	}
	if rec.derogatory {
		cat := "immigration_violation"
		if personIndex%3 == 0 {
			cat = "wanted"
		}
		req.Flags = []node.FlagInput{{Category: cat, Source: state + "-police"}}
	}
	resp, retakes, err := ebspp.EnrolRetaking(ctx, sn.client, req, func(r int) ([]node.SampleInput, error) {
		return p.fingerSamples(personIndex, ebspp.RetakeImpression(stateImpression(stateIndex), r))
	})
	sn.retakes.Add(int64(retakes))
	if err != nil {
		return fmt.Errorf("poc: enrol person %d in %s: %w", personIndex, sn.code, err)
	}
	sn.enrolments.Add(1)
	sn.mu.Lock()
	sn.person[resp.IdentityID] = personIndex
	sn.source[resp.IdentityID] = state
	sn.mu.Unlock()
	for e := 1; e < rec.encounters; e++ {
		_, err := sn.client.Enroll(ctx, &node.EnrolRequest{
			Identity:   node.IdentityInput{ID: resp.IdentityID},
			Encounter:  node.EncounterInput{Purpose: "border_crossing", Agency: state + "-border"},
			Provenance: prov,
			Samples:    []node.SampleInput{faceSample(faces, personIndex, uint64(100*stateIndex+e))},
		})
		if err != nil {
			return fmt.Errorf("poc: enrol encounter %d of person %d in %s: %w", e, personIndex, sn.code, err)
		}
		sn.enrolments.Add(1)
	}
	return nil
}

// startPartnership starts a node per state (and the hub when the bulk-copy
// model is run) under dir and enrols the population.
func startPartnership(ctx context.Context, s *Scenario, pop *population, dir string, th *node.Thresholds, workers int, w io.Writer) (_ *partnership, err error) {
	p := &partnership{s: s, pop: pop, nodes: map[string]*stateNode{}}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	token := runToken()
	if err := p.startStates(ctx, dir, token, th); err != nil {
		return nil, err
	}
	if !hasModel(s, ModelPrum) && !hasModel(s, ModelQueryPurge) && !hasModel(s, ModelDHSAsk) && !hasModel(s, ModelEncrypted) {
		// No model searches partners: the nodes are still partners, but the
		// run sends no partner search.
		p.ex, p.exBy = nil, nil
	}
	if hasModel(s, ModelBulkCopy) {
		p.hub, err = startHub(ctx, s.Home, filepath.Join(dir, "hub"), token, th, s.Agreement.CandidateCap, s.Matcher.CompactFingerprints)
		if err != nil {
			return nil, err
		}
	}
	faces := synth.NewFaceGenerator(pop.seed, synth.DefaultFaceModel())
	type job struct {
		sn    *stateNode
		state string
		si    int
		idx   int
	}
	var jobs []job
	for si, st := range s.States {
		for _, idx := range pop.enrolled[st.Code] {
			jobs = append(jobs, job{p.nodes[st.Code], st.Code, si, idx})
			if p.hub != nil {
				jobs = append(jobs, job{p.hub, st.Code, si, idx})
			}
		}
	}
	var firstErr error
	var once sync.Once
	perr := parallel(ctx, workers, len(jobs), progress.Start(w, "  enrolling records", len(jobs)), func(i int) {
		j := jobs[i]
		rec := pop.people[j.idx].records[j.state]
		if err := pop.enrolRecord(ctx, j.sn, faces, j.idx, j.si, j.state, rec); err != nil {
			once.Do(func() { firstErr = err })
		}
	})
	if firstErr != nil {
		return nil, firstErr
	}
	if perr != nil {
		return nil, perr
	}
	if p.hub != nil {
		// The hub's enrolments of partner records are the bulk transfer: the
		// request bytes of all hub enrolments less those of its home records,
		// which are the very requests the home node received.
		p.bulkBytes = p.hub.count.sent.Load() - p.nodes[s.Home].count.sent.Load()
		seen := map[int]bool{}
		for _, st := range s.Partners() {
			for _, idx := range pop.enrolled[st.Code] {
				rec := pop.people[idx].records[st.Code]
				p.bulkRecords += int64(1 + rec.encounters + b2i(rec.derogatory))
				if _, home := pop.people[idx].records[s.Home]; !home {
					seen[idx] = true
				}
			}
		}
		p.bulkPeople = len(seen)
	}
	return p, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hasModel(s *Scenario, m Model) bool {
	for _, x := range s.Models {
		if x == m {
			return true
		}
	}
	return false
}

// callResult is one identify call's outcome.
type callResult struct {
	decision   biometric.Decision
	candidates []candidate
	latency    time.Duration
	sent, recv int64
	refused    bool // over the daily quota: never sent
}

type candidate struct {
	identity string
	person   int    // population index, -1 if unknown to the run
	source   string // state whose record it is
	score    float64
}

// identify runs one 1:N search on a node and maps the candidates to the
// ground truth.
func (sn *stateNode) identify(ctx context.Context, samples []node.SampleInput, purpose string) (callResult, error) {
	s0, r0 := sn.count.sent.Load(), sn.count.recvd.Load()
	t0 := time.Now()
	resp, err := sn.client.Identify(ctx, &node.IdentifyRequest{Samples: samples, Purpose: purpose})
	lat := time.Since(t0)
	if err != nil {
		return callResult{}, fmt.Errorf("poc: identify at %s: %w", sn.code, err)
	}
	sn.identifies.Add(1)
	v, _ := sn.decisions.LoadOrStore(resp.Decision, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	cr := callResult{decision: resp.Decision, latency: lat}
	// Bytes are per node: searches of one node are sequential in this run,
	// so the difference is this call's.
	cr.sent, cr.recv = sn.count.sent.Load()-s0, sn.count.recvd.Load()-r0
	sn.mu.Lock()
	for _, c := range resp.Candidates {
		pi, ok := sn.person[c.IdentityID]
		if !ok {
			pi = -1
		}
		cr.candidates = append(cr.candidates, candidate{identity: c.IdentityID, person: pi, source: sn.source[c.IdentityID], score: c.Score})
	}
	sn.mu.Unlock()
	return cr, nil
}

// disclosure reads a candidate's record as a step-2 release or an automatic
// return would, and counts the records of the allowed categories.
type disclosure struct {
	records    int
	derogatory bool
	latency    time.Duration
	sent, recv int64
}

func (sn *stateNode) disclose(ctx context.Context, identity string, categories []string) (disclosure, error) {
	s0, r0 := sn.count.sent.Load(), sn.count.recvd.Load()
	t0 := time.Now()
	var rec store.IdentityRecord
	if err := sn.client.Get(ctx, "/v1/identities/"+identity, &rec); err != nil {
		return disclosure{}, fmt.Errorf("poc: read identity at %s: %w", sn.code, err)
	}
	d := disclosure{latency: time.Since(t0), derogatory: len(rec.Flags) > 0}
	d.sent, d.recv = sn.count.sent.Load()-s0, sn.count.recvd.Load()-r0
	for _, c := range categories {
		switch c {
		case DiscloseBiographic:
			d.records++
		case DiscloseDerogatory:
			d.records += len(rec.Flags)
		case DiscloseEncounters:
			d.records += len(rec.Encounters)
		}
	}
	return d, nil
}

// stats reads the node's metrics and its fingerprint calibration; fingers
// is the number of fingers a search fuses and mean the mean impostor score
// the node's policy fuses them with.
func (sn *stateNode) stats(ctx context.Context, fingers int, mean float64) (NodeStats, error) {
	ns := NodeStats{State: sn.code, Decisions: map[string]int64{}, RunDecisions: map[string]int64{}, RunEnrolments: sn.enrolments.Load(), Retakes: sn.retakes.Load()}
	var cal node.CalibrationResponse
	if err := sn.client.Get(ctx, "/v1/calibration", &cal); err != nil {
		return ns, fmt.Errorf("poc: calibration of %s: %w", sn.code, err)
	}
	for _, m := range cal.Modalities {
		if m.Modality == biometric.Finger {
			ns.Policy = NodePolicy{Tail: m.Tail, TailComparisons: m.Comparisons, Fixed: m.FixedThresholds,
				GalleryIdentities: m.GalleryIdentities, FPIRTarget: m.FPIRTarget, HitThreshold: m.HitThreshold}
			ns.Policy.FusedHitThreshold, _ = search.Policy{Hit: m.HitThreshold, Mean: mean}.Thresholds(fingers)
		}
	}
	sn.decisions.Range(func(k, v any) bool {
		ns.RunDecisions[string(k.(biometric.Decision))] = v.(*atomic.Int64).Load()
		return true
	})
	req, err := http.NewRequestWithContext(ctx, "GET", sn.client.BaseURL+"/metrics", nil)
	if err != nil {
		return ns, err
	}
	req.Header.Set("Authorization", "Bearer "+sn.client.Token)
	resp, err := sn.client.HTTP.Do(req)
	if err != nil {
		return ns, fmt.Errorf("poc: metrics of %s: %w", sn.code, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return ns, err
	}
	if resp.StatusCode != 200 {
		return ns, fmt.Errorf("poc: metrics of %s: status %d", sn.code, resp.StatusCode)
	}
	for _, line := range strings.Split(string(body), "\n") {
		name, labels, val, ok := parseMetricLine(line)
		if !ok {
			continue
		}
		switch name {
		case "ebsp_enrolments_total":
			ns.Enrolments = int64(val)
		case "ebsp_identify_decisions_total", "ebsp_partner_search_decisions_total":
			// A node's own searches and the partners' step-1 searches of it.
			ns.Decisions[labels["decision"]] += int64(val)
		case "ebsp_gallery_templates":
			if labels["modality"] == string(biometric.Finger) {
				ns.Templates = int64(val)
			}
		}
	}
	return ns, nil
}

// parseMetricLine reads one sample line of the Prometheus text exposition
// format: name{label="value",...} value.
func parseMetricLine(line string) (name string, labels map[string]string, val float64, ok bool) {
	if line == "" || line[0] == '#' {
		return "", nil, 0, false
	}
	sp := strings.LastIndexByte(line, ' ')
	if sp < 0 {
		return "", nil, 0, false
	}
	v, err := strconv.ParseFloat(line[sp+1:], 64)
	if err != nil {
		return "", nil, 0, false
	}
	head := line[:sp]
	labels = map[string]string{}
	if i := strings.IndexByte(head, '{'); i >= 0 && strings.HasSuffix(head, "}") {
		for _, kv := range strings.Split(head[i+1:len(head)-1], ",") {
			k, q, found := strings.Cut(kv, "=")
			if found {
				labels[k] = strings.Trim(q, `"`)
			}
		}
		head = head[:i]
	}
	return head, labels, v, true
}
