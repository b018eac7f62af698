package poc

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/country"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/node"
)

// The step-1 searches of the sharing models go through the real exchange
// (package exchange): a state CA and node certificate per state, one
// agreement per partner, signed envelopes over mutual TLS on loopback, the
// responder's examiner queue and its transparency log (package audit). The
// responder searches its node through the node's own API (nodeSearcher), so
// the gallery, the matcher and the decision policy are the node's.

// examinerSecret authenticates the simulated examiner at each responder;
// random per run, never stored.
type exchangeSide struct {
	code      string
	resp      *exchange.Responder
	log       *audit.Log
	srv       *http.Server
	client    *exchange.Client // the home state's client to this partner
	count     *countingTransport
	examiner  string
	secret    string
	searcher  *nodeSearcher
	agreement *exchange.Agreement
}

// nodeSearcher is a responder's exchange.Searcher over its node's identify
// API. It keeps the last search's result (searches of one partner run one at
// a time in this simulation) so that the run knows the ground truth behind
// the partner's opaque reference; it never keeps the probe.
type nodeSearcher struct {
	sn      *stateNode
	purpose string
	mu      sync.Mutex
	last    callResult
}

func (s *nodeSearcher) Search(ctx context.Context, p exchange.Probe) ([]biometric.Candidate, error) {
	var samples []node.SampleInput
	for _, f := range p.Fingers {
		rec, err := iso19794.MinutiaeRecordFromTemplate(f.Template, iso19794.ISO19794_2_2005, f.Position)
		if err != nil {
			return nil, err
		}
		data, err := rec.Marshal()
		if err != nil {
			return nil, err
		}
		samples = append(samples, node.SampleInput{Modality: biometric.Finger, Position: f.Position, Format: "iso19794-2", Data: data})
	}
	cr, err := s.sn.identify(ctx, samples, s.purpose)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.last = cr
	s.mu.Unlock()
	var out []biometric.Candidate
	if cr.decision == biometric.Hit {
		for _, c := range cr.candidates {
			out = append(out, biometric.Candidate{IdentityID: c.identity, Score: c.score})
		}
	}
	return out, nil
}

// nodeDiscloser reads the disclosable fields of an identity from the node.
type nodeDiscloser struct{ sn *stateNode }

func (d nodeDiscloser) Disclose(ctx context.Context, id string, fields []string) (map[string]string, error) {
	var rec struct {
		Identity struct {
			Names       []string `json:"names"`
			DateOfBirth string   `json:"date_of_birth"`
			Nationality []string `json:"nationality"`
			CaseRef     string   `json:"case_reference"`
		} `json:"identity"`
	}
	if err := d.sn.client.Get(ctx, "/v1/identities/"+id, &rec); err != nil {
		return nil, err
	}
	out := map[string]string{}
	if len(rec.Identity.Names) > 0 {
		out["names"] = rec.Identity.Names[0]
	}
	out["date_of_birth"] = rec.Identity.DateOfBirth
	if len(rec.Identity.Nationality) > 0 {
		out["nationality"] = rec.Identity.Nationality[0]
	}
	out["case_reference"] = rec.Identity.CaseRef
	return out, nil
}

// exchangeFields is the step-2 field list for the scenario's allow-list:
// the exchange discloses biographic fields only (Prüm II: no flags, no
// encounter history), so derogatory and encounter categories have no
// exchange field.
func exchangeFields(cats []string) []string {
	for _, c := range cats {
		if c == DiscloseBiographic {
			return []string{"names", "date_of_birth", "nationality"}
		}
	}
	return nil
}

// startExchange sets up the home state's client and a responder per
// partner, over mutual TLS on loopback, under dir.
func (p *partnership) startExchange(dir string) error {
	s := p.s
	now := time.Now().Add(-time.Hour)
	const validity = 48 * time.Hour
	codes := map[string]string{}
	seen := map[string]bool{}
	for _, st := range s.States {
		// The exchange's certificates and agreements carry alpha-2 codes.
		cc, err := country.ParseAlpha3(st.Code)
		c := cc.Alpha2()
		if err != nil || seen[c] {
			return fmt.Errorf("poc: state %s: %v", st.Code, err)
		}
		seen[c] = true
		codes[st.Code] = c
	}
	homeCA, err := exchange.NewCA(codes[s.Home], now, validity)
	if err != nil {
		return err
	}
	home, err := homeCA.IssueNode(codes[s.Home]+"-node", []string{"127.0.0.1", "localhost"}, now, validity)
	if err != nil {
		return err
	}
	purpose := exchange.BorderScreening
	for _, st := range s.Partners() {
		ca, err := exchange.NewCA(codes[st.Code], now, validity)
		if err != nil {
			return err
		}
		nc, err := ca.IssueNode(codes[st.Code]+"-node", []string{"127.0.0.1", "localhost"}, now, validity)
		if err != nil {
			return err
		}
		lg, err := audit.Open(filepath.Join(dir, st.Code, "audit"), nc.LogSigner)
		if err != nil {
			return err
		}
		side := &exchangeSide{code: st.Code, log: lg, examiner: st.Code + "-examiner-1", secret: rand.Text(),
			searcher: &nodeSearcher{sn: p.nodes[st.Code], purpose: s.Agreement.Purpose}}
		p.ex = append(p.ex, side)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		quota := s.Agreement.DailyQuota
		if quota == 0 {
			quota = 1 << 30
		}
		a := &exchange.Agreement{
			ID:         fmt.Sprintf("%s-%s-POC", codes[s.Home], codes[st.Code]),
			Parties:    [2]exchange.Party{home.Party(""), nc.Party("https://" + ln.Addr().String())},
			Purposes:   []exchange.PurposeRule{{Purpose: purpose}},
			Modalities: []biometric.Modality{biometric.Finger},
			Searches:   map[exchange.SearchType]exchange.SearchRule{exchange.Tenprint: {DailyQuota: quota, CandidateCap: s.Agreement.CandidateCap}},
			Disclosure: exchangeFields(s.Agreement.Disclosure),
			Handling:   exchange.Handling{NoOnwardTransfer: true, DestroyAfter: exchange.Duration(30 * 24 * time.Hour)},
			// A responder must hold a step-1 hit's probe until the step-2
			// deadline (exchange.Agreement.Validate); the scenario's
			// retention_days (0: query and purge) is modelled in models.go.
			Retention: exchange.Duration(max(time.Duration(s.Agreement.RetentionDays)*24*time.Hour, exchange.DefaultStep2Deadline)),
		}
		if err := a.Validate(); err != nil {
			ln.Close()
			return fmt.Errorf("poc: agreement with %s: %w", st.Code, err)
		}
		raw, err := a.Marshal()
		if err != nil {
			ln.Close()
			return err
		}
		// Each side holds its own copy of the agreement.
		theirs, err := exchange.ParseAgreement(raw)
		if err != nil {
			ln.Close()
			return err
		}
		side.agreement = theirs
		side.resp, err = exchange.NewResponder(exchange.ResponderConfig{
			Credentials: nc, Agreements: []*exchange.Agreement{theirs}, Searcher: side.searcher, Discloser: nodeDiscloser{p.nodes[st.Code]},
			Log: lg, Examiners: exchange.NewStaticExaminers(map[string]string{side.examiner: side.secret}),
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			ln.Close()
			return err
		}
		side.srv = &http.Server{Handler: side.resp.Handler(), TLSConfig: side.resp.TLSConfig(), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: nil}
		go side.srv.ServeTLS(ln, "", "")
		ours, err := exchange.ParseAgreement(raw)
		if err != nil {
			return err
		}
		// The client's transport is the exchange's own mutual-TLS setup,
		// wrapped to count bytes.
		roots := x509.NewCertPool()
		roots.AddCert(ca.Cert)
		side.count = &countingTransport{base: &http.Transport{
			TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, Certificates: []tls.Certificate{home.TLS}},
			MaxIdleConnsPerHost: 64, ForceAttemptHTTP2: true,
		}}
		side.client, err = exchange.NewClient(exchange.ClientConfig{Credentials: home, Agreement: ours, Transport: side.count})
		if err != nil {
			return err
		}
	}
	return nil
}

func (side *exchangeSide) close() {
	if side.srv != nil {
		side.srv.Close()
	}
	if side.log != nil {
		side.log.Close()
	}
}

// step1 is one step-1 search through the exchange. It returns the node's
// result behind the reply (the run's ground truth) and the exchange reply.
func (side *exchangeSide) step1(ctx context.Context, samples []node.SampleInput, probe exchange.Probe) (callResult, *exchange.Step1Result, error) {
	s0, r0 := side.count.sent.Load(), side.count.recvd.Load()
	t0 := time.Now()
	res, err := side.client.Step1(ctx, exchange.Step1Params{
		Purpose: exchange.BorderScreening, LegalBasis: "PoC border screening", Officer: "officer-1",
		SearchType: exchange.Tenprint, Probe: probe,
	})
	lat := time.Since(t0)
	var ref *exchange.Refusal
	if errors.As(err, &ref) {
		return callResult{refused: true, latency: lat}, nil, nil
	}
	if err != nil {
		return callResult{}, nil, fmt.Errorf("poc: step 1 to %s: %w", side.code, err)
	}
	side.searcher.mu.Lock()
	cr := side.searcher.last
	side.searcher.mu.Unlock()
	if res.Outcome != string(biometric.Hit) {
		cr.candidates = nil
	}
	cr.latency = lat
	cr.sent, cr.recv = side.count.sent.Load()-s0, side.count.recvd.Load()-r0
	return cr, res, nil
}

// step2 asks for disclosure of a hit, lets the partner's examiner decide as
// the run's examiner model says (confirm is that decision), and returns
// the released fields, the messages' bytes and the machine latency.
func (side *exchangeSide) step2(ctx context.Context, reference string, fields []string, candidate string, confirm bool) (released int, bytes int64, lat time.Duration, err error) {
	s0, r0 := side.count.sent.Load(), side.count.recvd.Load()
	t0 := time.Now()
	caseID, _, err := side.client.RequestDisclosure(ctx, reference, fields, "officer-1")
	if err != nil {
		return 0, 0, 0, fmt.Errorf("poc: step 2 to %s: %w", side.code, err)
	}
	lat = time.Since(t0)
	// The examiner at the partner looks at the queued case.
	if err := side.resp.Decide(ctx, side.examiner, side.secret, caseID, confirm, candidate); err != nil {
		return 0, 0, 0, fmt.Errorf("poc: examiner at %s: %w", side.code, err)
	}
	t1 := time.Now()
	status, rel, err := side.client.Status(ctx, caseID)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("poc: step 2 status from %s: %w", side.code, err)
	}
	lat += time.Since(t1)
	if status == exchange.StatusReleased && rel != nil {
		released = len(rel.Fields)
	}
	return released, side.count.sent.Load() - s0 + side.count.recvd.Load() - r0, lat, nil
}

func (side *exchangeSide) auditCounts() (AuditCounts, error) {
	ls, err := audit.DecodeLeaves(side.log.Leaves())
	if err != nil {
		return AuditCounts{}, fmt.Errorf("poc: audit log of %s: %w", side.code, err)
	}
	c := AuditCounts{State: side.code, Leaves: len(ls)}
	for _, l := range ls {
		switch l.Kind {
		case audit.KindRequest:
			c.Requests++
		case audit.KindDecision:
			switch l.Outcome {
			case audit.OutcomeHit:
				c.Hits++
			case audit.OutcomeNoHit:
				c.NoHits++
			}
		case audit.KindRefusal:
			c.Refusals++
		case audit.KindExaminer:
			c.Examiner++
			if l.Outcome == audit.OutcomeConfirmed {
				c.Confirmed++
			}
		case audit.KindRelease:
			c.Releases++
		}
	}
	return c, nil
}
