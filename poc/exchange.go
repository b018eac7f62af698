package poc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/node"
	ebspp "github.com/ebsp/ebsp/partnership"
)

// The states' nodes are a partnership as a state runs it (partnership.Start,
// which goes through partnership.Join like `ebsp node` and the demo): a CA
// and node certificate per state, an agreement between the home state and
// each partner, each node's transparency log and partner endpoint (mutual
// TLS, signed envelopes). A step-1 search is the home officer's call to the
// home node's /v1/exchange/search; the partner's node answers it from its
// gallery; a step-2 case is decided by the partner's examiner through the
// partner node's /v1/exchange/cases API. The run learns the ground truth
// behind a partner's opaque reference from the partner node's observer
// hook (node.ObservePartnerSearches), never from a second exchange.

// exchangeSide is the home state's view of one partner.
type exchangeSide struct {
	code     string // ISO 3166-1 alpha-3, as the scenario names the state
	partner  string // the state as the agreements name it (alpha-2)
	sn       *stateNode
	member   *ebspp.Member
	home     *node.Client // the home officer at the home node (operator)
	examiner *node.Client // the partner's examiner at the partner node
	wire     *countingListener
	cap      int // the agreement's candidate cap (0: none)
	// last is the partner node's answer to the last step-1 search (searches
	// of one partner run one at a time in this simulation).
	mu   sync.Mutex
	last *callResult
}

// countingListener counts the bytes that cross a partner endpoint's TCP
// connections: TLS records with the HTTP headers and bodies inside.
type countingListener struct {
	net.Listener
	in, out atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Read(p []byte) (int, error) {
	k, err := c.Conn.Read(p)
	c.l.in.Add(int64(k))
	return k, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	k, err := c.Conn.Write(p)
	c.l.out.Add(int64(k))
	return k, err
}

func (l *countingListener) total() int64 { return l.in.Load() + l.out.Load() }

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

// agreementTerms sets the scenario's terms on a home-partner agreement.
func (s *Scenario) agreementTerms(a *exchange.Agreement) {
	quota := s.Agreement.DailyQuota
	if quota == 0 {
		quota = 1 << 30
	}
	a.Purposes = []exchange.PurposeRule{{Purpose: exchange.BorderScreening}}
	a.Modalities = []biometric.Modality{biometric.Finger}
	a.Searches = map[exchange.SearchType]exchange.SearchRule{exchange.Tenprint: {DailyQuota: quota, CandidateCap: s.Agreement.CandidateCap}}
	a.Disclosure = exchangeFields(s.Agreement.Disclosure)
	a.Handling = exchange.Handling{NoOnwardTransfer: true, DestroyAfter: exchange.Duration(30 * 24 * time.Hour)}
	// A responder must hold a step-1 hit's probe until the step-2 deadline
	// (exchange.Agreement.Validate); the scenario's retention_days (0:
	// query and purge) is modelled in models.go.
	a.Retention = exchange.Duration(max(time.Duration(s.Agreement.RetentionDays)*24*time.Hour, exchange.DefaultStep2Deadline))
}

// newExchangeSide watches the partner node's answers to partner searches.
func newExchangeSide(code, partner string, sn *stateNode, m *ebspp.Member, home *ebspp.Member, wire *countingListener, cap int) *exchangeSide {
	side := &exchangeSide{code: code, partner: partner, sn: sn, member: m, wire: wire, cap: cap,
		home:     node.NewClient(home.URL, home.Tokens[home.State+"-operator"], nil),
		examiner: node.NewClient(m.URL, m.Tokens[m.State+"-examiner"], nil)}
	m.Node.ObservePartnerSearches(func(ps node.PartnerSearch) {
		cr := callResult{decision: ps.Decision}
		sn.mu.Lock()
		for i, c := range ps.Candidates {
			if cap > 0 && i == cap {
				break // the responder sends the agreement's cap at most
			}
			pi, ok := sn.person[c.IdentityID]
			if !ok {
				pi = -1
			}
			cr.candidates = append(cr.candidates, candidate{identity: c.IdentityID, person: pi, source: sn.source[c.IdentityID], score: c.Score})
		}
		sn.mu.Unlock()
		side.mu.Lock()
		side.last = &cr
		side.mu.Unlock()
	})
	return side
}

// step1 is one step-1 search through the exchange. It returns the partner
// node's answer behind the reply (the run's ground truth) and the reply.
func (side *exchangeSide) step1(ctx context.Context, samples []node.SampleInput) (callResult, *exchange.Step1Result, error) {
	side.mu.Lock()
	side.last = nil
	side.mu.Unlock()
	b0 := side.wire.total()
	t0 := time.Now()
	res, err := side.home.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: side.partner,
		Purpose: string(exchange.BorderScreening), LegalBasis: "PoC border screening", Officer: "officer-1",
		SearchType: string(exchange.Tenprint), Samples: samples})
	lat := time.Since(t0)
	var apiErr *node.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests {
		// Over the agreement's daily quota: the partner refused, searching
		// nothing.
		return callResult{refused: true, latency: lat}, nil, nil
	}
	if err != nil {
		return callResult{}, nil, fmt.Errorf("poc: step 1 to %s: %w", side.code, err)
	}
	side.mu.Lock()
	last := side.last
	side.mu.Unlock()
	if last == nil {
		return callResult{}, nil, fmt.Errorf("poc: step 1 to %s: answered %q, but the partner node reported no search", side.code, res.Outcome)
	}
	cr := *last
	if res.Outcome != string(biometric.Hit) {
		cr.candidates = nil
	}
	// The run's own count of the partner's decisions, as the requester saw
	// them, checked against the partner node's metrics.
	v, _ := side.sn.decisions.LoadOrStore(biometric.Decision(res.Outcome), new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	cr.latency = lat
	cr.sent = side.wire.total() - b0
	return cr, res, nil
}

// step2 asks for disclosure of a hit, lets the partner's examiner decide
// through the partner node's examiner API as the run's examiner model says
// (confirm is that decision), and returns the released fields, the bytes
// that crossed the border and the machine latency.
func (side *exchangeSide) step2(ctx context.Context, reference string, fields []string, candidate string, confirm bool) (released int, bytes int64, lat time.Duration, err error) {
	b0 := side.wire.total()
	t0 := time.Now()
	dc, err := side.home.RequestDisclosure(ctx, &node.ExchangeDisclosureRequest{Partner: side.partner, Reference: reference, Fields: fields, Officer: "officer-1"})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("poc: step 2 to %s: %w", side.code, err)
	}
	lat = time.Since(t0)
	if err := side.examiner.Decide(ctx, dc.Case, confirm, candidate); err != nil {
		return 0, 0, 0, fmt.Errorf("poc: examiner at %s: %w", side.code, err)
	}
	t1 := time.Now()
	st, err := side.home.Disclosure(ctx, side.partner, dc.Case)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("poc: step 2 status from %s: %w", side.code, err)
	}
	lat += time.Since(t1)
	if st.Status == exchange.StatusReleased && st.Release != nil {
		released = len(st.Release.Fields)
	}
	return released, side.wire.total() - b0, lat, nil
}

func (side *exchangeSide) auditCounts() (AuditCounts, error) {
	ls, err := audit.DecodeLeaves(side.member.Log.Leaves())
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
