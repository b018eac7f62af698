// Package partnership runs a partnership of national nodes on one machine:
// for each state a certificate authority, a node (SQLite store, gallery,
// HTTP API on loopback), its transparency log and its partner endpoint
// (mutual TLS, signed envelopes); and an agreement between the hub and each
// partner. The demo and the Proof-of-Concept use it; so can anyone who wants
// to try the exchange without deploying it.
//
// Every node, deployed or not, is assembled here (Assemble): `ebsp node`
// from its configuration, Start and StartNational for each state, the
// benchmarks and the identification evaluation.
package partnership

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/synth"
)

// Options describe a partnership.
type Options struct {
	Dir      string    // each state's data under Dir/<state>
	Hub      string    // the state that has an agreement with every partner (e.g. "US")
	Partners []string  // the partner states (ISO 3166-1 alpha-2)
	Log      io.Writer // the nodes' JSON logs (nil: discarded)
	// Agreement, when set, adjusts each hub-partner agreement before it is
	// signed off by both sides (purposes, quotas, disclosure ...).
	Agreement func(a *exchange.Agreement)
	// Node, when set, adjusts each state's node configuration and engines
	// before the node starts (a face recogniser, fixed thresholds ...).
	Node func(state string, cfg *node.Config, engines map[biometric.Modality]engine.Engine)
	// Listener, when set, wraps each state's partner-endpoint listener
	// (the PoC counts the bytes that cross the border on it).
	Listener func(state string, ln net.Listener) net.Listener
}

// Member is one state's node with the credentials of its staff.
type Member struct {
	State    string
	Node     *node.Node
	URL      string       // base URL of the node's API
	Operator *node.Client // enroller and searcher
	Examiner *node.Client // examiner: decides step-2 cases
	Admin    *node.Client
	// Tokens are the bearer tokens of the node's staff by principal name:
	// <state>-operator (enroller, searcher), <state>-examiner and
	// <state>-examiner-2 (two, for four-eyes agreements), <state>-auditor
	// and <state>-admin. They are made afresh at each start.
	Tokens map[string]string
	// Log, LogDir and LogPubKey are the node's transparency log; none for
	// a national node (StartNational).
	Log       *audit.Log
	LogDir    string
	LogPubKey string // note verifier key of the node's log
	// Credentials are the node's exchange credentials; none for a
	// national node.
	Credentials *exchange.NodeCredentials
	assembly    *Assembly
	close       []func()
}

// Partnership is the running nodes and their agreements.
type Partnership struct {
	Members    map[string]*Member
	Agreements []*exchange.Agreement
}

// Start runs the nodes. Close stops them.
func Start(ctx context.Context, o Options) (*Partnership, error) {
	if o.Hub == "" || len(o.Partners) == 0 {
		return nil, errors.New("partnership: a hub and at least one partner are needed")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	states := append([]string{o.Hub}, o.Partners...)
	p := &Partnership{Members: map[string]*Member{}}
	now := time.Now().Add(-time.Hour)
	const validity = 2 * 365 * 24 * time.Hour

	type prep struct {
		creds   *exchange.NodeCredentials
		partner net.Listener
	}
	preps := map[string]*prep{}
	for _, s := range states {
		ca, err := exchange.NewCA(s, now, validity)
		if err != nil {
			return nil, err
		}
		creds, err := ca.IssueNode(nodeName(s), []string{"127.0.0.1", "localhost"}, now, validity)
		if err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		if o.Listener != nil {
			ln = o.Listener(s, ln)
		}
		preps[s] = &prep{creds: creds, partner: ln}
	}
	// The agreements name the partner endpoints, so the listeners come
	// first; each side then holds its own copy of each agreement file.
	held := map[string][]*exchange.Agreement{}
	for _, s := range o.Partners {
		hub, partner := preps[o.Hub], preps[s]
		a := exchange.DefaultAgreement(o.Hub+"-"+s, hub.creds.Party("https://"+hub.partner.Addr().String()),
			partner.creds.Party("https://"+partner.partner.Addr().String()))
		if o.Agreement != nil {
			o.Agreement(a)
		}
		if err := a.Validate(); err != nil {
			return nil, fmt.Errorf("partnership: agreement %s: %w", a.ID, err)
		}
		p.Agreements = append(p.Agreements, a)
		raw, err := a.Marshal()
		if err != nil {
			return nil, err
		}
		for _, side := range []string{o.Hub, s} {
			c, err := exchange.ParseAgreement(raw)
			if err != nil {
				return nil, err
			}
			held[side] = append(held[side], c)
		}
	}
	for _, s := range states {
		m, err := startMember(ctx, o, s, preps[s].creds, preps[s].partner, held[s])
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("partnership: node %s: %w", s, err)
		}
		p.Members[s] = m
	}
	return p, nil
}

func nodeName(state string) string { return fmt.Sprintf("%s-node", state) }

func startMember(ctx context.Context, o Options, state string, creds *exchange.NodeCredentials, partnerLn net.Listener, agreements []*exchange.Agreement) (*Member, error) {
	m, err := newMember(ctx, o, state, &ExchangeParts{Credentials: creds, Agreements: agreements, Listener: partnerLn})
	if err != nil {
		return nil, err
	}
	m.LogPubKey = creds.LogKey
	m.Credentials = creds
	m.Log, m.LogDir = m.assembly.Membership.Log, m.assembly.Membership.LogDir
	if err := m.serve(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// StartNational runs one state's node under o.Dir/state as Start runs each
// member's, but party to no agreement: a national node (the PoC's
// bulk-copy hub). o.Hub and o.Partners are not used. Close stops it.
func StartNational(ctx context.Context, o Options, state string) (*Member, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	m, err := newMember(ctx, o, state, nil)
	if err != nil {
		return nil, fmt.Errorf("partnership: node %s: %w", state, err)
	}
	if err := m.serve(ctx); err != nil {
		m.Close()
		return nil, fmt.Errorf("partnership: node %s: %w", state, err)
	}
	return m, nil
}

// newMember assembles a state's node under o.Dir/state, with fresh tokens
// for its staff, a member of its partnerships when x is set.
func newMember(ctx context.Context, o Options, state string, x *ExchangeParts) (*Member, error) {
	dir := filepath.Join(o.Dir, state)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if x != nil {
			x.Listener.Close()
		}
		return nil, err
	}
	staff := []struct {
		name  string
		roles []node.Role
	}{
		{"operator", []node.Role{node.RoleEnroller, node.RoleSearcher}},
		{"examiner", []node.Role{node.RoleExaminer}},
		{"examiner-2", []node.Role{node.RoleExaminer}},
		{"auditor", []node.Role{node.RoleAuditor}},
		{"admin", []node.Role{node.RoleAdmin}},
	}
	cfg := &node.Config{State: state, Agency: state + "-border-agency", DataDir: dir, Store: "sqlite", Listen: "127.0.0.1:0",
		RatePerSecond: 1e6, Burst: 1e6}
	tok := map[string]string{}
	for _, p := range staff {
		name, t := state+"-"+p.name, rand.Text()
		tok[name] = t
		cfg.Tokens = append(cfg.Tokens, node.TokenConfig{Name: name, SHA256: node.TokenHash(t), Roles: p.roles})
	}
	ao := AssembleOptions{Logger: slog.New(slog.NewJSONHandler(o.Log, nil)).With("state", state), Exchange: x}
	if o.Node != nil {
		ao.Engines = func(cfg *node.Config, engines map[biometric.Modality]engine.Engine) { o.Node(state, cfg, engines) }
	}
	a, err := Assemble(ctx, cfg, ao)
	if err != nil {
		if x != nil {
			x.Listener.Close()
		}
		return nil, err
	}
	return &Member{State: state, Node: a.Node, Tokens: tok, assembly: a}, nil
}

// serve loads the member's gallery and serves its API on a loopback port.
func (m *Member) serve(ctx context.Context) error {
	if err := m.Node.LoadGallery(ctx, nil); err != nil {
		return err
	}
	api, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv, scheme, _, err := m.assembly.Serve(api)
	if err != nil {
		api.Close()
		return err
	}
	m.close = append(m.close, func() { srv.Close() })
	m.URL = scheme + "://" + api.Addr().String()
	m.Operator = node.NewClient(m.URL, m.Tokens[m.State+"-operator"], nil)
	m.Examiner = node.NewClient(m.URL, m.Tokens[m.State+"-examiner"], nil)
	m.Admin = node.NewClient(m.URL, m.Tokens[m.State+"-admin"], nil)
	return nil
}

// Close stops the member's servers and closes its store and log.
func (m *Member) Close() {
	for i := len(m.close) - 1; i >= 0; i-- {
		m.close[i]()
	}
	m.close = nil
	if m.assembly != nil {
		m.assembly.Close()
		m.assembly = nil
	}
}

// Close stops every node.
func (p *Partnership) Close() {
	for _, m := range p.Members {
		m.Close()
	}
}

// IndexFingers are the fingers of SyntheticSamples: the two index fingers,
// as US-VISIT took at first and many border systems still do.
var IndexFingers = []biometric.FingerPosition{biometric.RightIndex, biometric.LeftIndex}

// SyntheticSamples are impression k of synthetic person p's index fingers
// as ISO/IEC 19794-2:2005 records, to enrol and search when trying a
// partnership: person p's fingers are synthetic fingers 2p and 2p+1 of the
// seed, and different impressions of one person match.
func SyntheticSamples(seed uint64, person int, impression uint64) ([]node.SampleInput, error) {
	var out []node.SampleInput
	for f, pos := range IndexFingers {
		m := synth.NewFingerMaster(seed, uint64(2*person+f))
		master := synth.TemplateMaster(m)
		rec, err := iso19794.MinutiaeRecordFromTemplate(synth.TemplateImpression(m, &master, impression), iso19794.ISO19794_2_2005, pos)
		if err != nil {
			return nil, err
		}
		b, err := rec.Marshal()
		if err != nil {
			return nil, err
		}
		out = append(out, node.SampleInput{Modality: biometric.Finger, Position: pos, Format: "iso19794-2", Data: b})
	}
	return out, nil
}

// MaxRetakes bounds how often EnrolRetaking retakes one finger.
const MaxRetakes = 5

// RetakeImpression is the synthetic impression number of retake r (1, 2,
// ...) of capture k: far above any impression number the demo, the PoC or
// the tests use for a first capture, so a retake is a capture of its own.
func RetakeImpression(k uint64, r int) uint64 { return k + uint64(r)<<20 }

// EnrolRetaking enrols req and, while the node refuses a sample because
// its template has too few minutiae (422 too_few_minutiae, the minutiae
// gate of node.Config.MinMinutiae), retakes that finger as an enrolment
// officer would: the refused sample (the error's sample index) is replaced
// by the same finger of retake(r), r = 1, 2, ... counted per finger, up to
// MaxRetakes a finger. A finger still refused after its last retake (a few
// synthetic fingers in ten thousand never yield enough minutiae) is left
// out, as the officer would leave it, unless it is the capture's last
// sample. It returns the node's answer and the number of retakes.
func EnrolRetaking(ctx context.Context, cl *node.Client, req *node.EnrolRequest, retake func(r int) ([]node.SampleInput, error)) (*node.EnrolResponse, int, error) {
	retakes := 0
	perFinger := map[biometric.FingerPosition]int{}
	for {
		resp, err := cl.Enroll(ctx, req)
		var ae *node.APIError
		if err == nil || !errors.As(err, &ae) || ae.Code != node.CodeTooFewMinutiae {
			return resp, retakes, err
		}
		if ae.Sample == nil || *ae.Sample < 0 || *ae.Sample >= len(req.Samples) {
			return nil, retakes, err // the node's gate names the sample it refuses
		}
		i := *ae.Sample
		pos := req.Samples[i].Position
		if perFinger[pos] == MaxRetakes {
			if len(req.Samples) == 1 {
				return nil, retakes, err
			}
			req.Samples = slices.Delete(slices.Clone(req.Samples), i, i+1)
			continue
		}
		perFinger[pos]++
		retakes++
		fresh, rerr := retake(perFinger[pos])
		if rerr != nil {
			return nil, retakes, rerr
		}
		j := slices.IndexFunc(fresh, func(x node.SampleInput) bool { return x.Position == pos && x.Modality == req.Samples[i].Modality })
		if j < 0 {
			return nil, retakes, fmt.Errorf("partnership: retake %d holds no sample of finger position %d", perFinger[pos], pos)
		}
		req.Samples = slices.Clone(req.Samples)
		req.Samples[i] = fresh[j]
	}
}
