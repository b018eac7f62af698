package audit

import (
	"fmt"
	"sort"
	"time"
)

// Period is the bucket width of oversight statistics.
type Period string

// Periods of Statistics, in UTC.
const (
	Day   Period = "day"
	Month Period = "month"
)

func (p Period) key(t time.Time) (string, error) {
	t = t.UTC()
	switch p {
	case Day:
		return t.Format("2006-01-02"), nil
	case Month:
		return t.Format("2006-01"), nil
	}
	return "", fmt.Errorf("audit: period %q unknown (want day or month)", string(p))
}

// Counts are the oversight numbers of one partner in one period. They are
// counts only: no identifier of any person or case.
type Counts struct {
	Requests  int            `json:"requests"`  // step-1 requests received
	Hits      int            `json:"hits"`      // step-1 hits
	NoHits    int            `json:"no_hits"`   // step-1 no-hits
	Confirmed int            `json:"confirmed"` // matches an examiner confirmed
	Rejected  int            `json:"rejected"`  // matches an examiner rejected
	Releases  int            `json:"releases"`  // releases of allow-listed fields
	Expired   int            `json:"expired"`   // step-2 requests past their deadline
	Refusals  map[string]int `json:"refusals"`  // refusals by reason
	Sent      int            `json:"sent"`      // requests this node sent to the partner
}

// Row is one partner and period.
type Row struct {
	Partner string `json:"partner"`
	Period  string `json:"period"`
	Counts
}

// Statistics counts leaves per partner and period, sorted by partner then
// period. Leaves without a partner (retention runs) are not counted.
func Statistics(leaves []Leaf, p Period) ([]Row, error) {
	t, err := NewTally(p)
	if err != nil {
		return nil, err
	}
	for _, l := range leaves {
		t.Add(l)
	}
	return t.Rows(), nil
}

// Tally counts leaves one at a time as Statistics does, for a log too
// large to hold in memory (Log.Scan): memory grows with the partners and
// periods, not the leaves.
type Tally struct {
	p Period
	m map[tallyKey]*Counts
}

type tallyKey struct{ partner, period string }

// NewTally returns an empty tally by period p.
func NewTally(p Period) (*Tally, error) {
	if _, err := p.key(time.Time{}); err != nil {
		return nil, err
	}
	return &Tally{p: p, m: map[tallyKey]*Counts{}}, nil
}

// Add counts one leaf.
func (t *Tally) Add(l Leaf) {
	if l.Partner == "" {
		return
	}
	pk, _ := t.p.key(l.Time) // the period was checked by NewTally
	k := tallyKey{l.Partner, pk}
	c := t.m[k]
	if c == nil {
		c = &Counts{Refusals: map[string]int{}}
		t.m[k] = c
	}
	switch l.Kind {
	case KindRequest:
		c.Requests++
	case KindDecision:
		switch l.Outcome {
		case OutcomeHit:
			c.Hits++
		case OutcomeNoHit:
			c.NoHits++
		}
	case KindExaminer:
		switch l.Outcome {
		case OutcomeConfirmed:
			c.Confirmed++
		case OutcomeRejected:
			c.Rejected++
		}
	case KindRelease:
		c.Releases++
	case KindExpiry:
		c.Expired++
	case KindRefusal:
		c.Refusals[l.Reason] += max(l.Count, 1) // invalid messages are logged as counts (exchange)
	case KindRequestSent:
		c.Sent++
	}
}

// Rows returns the counts, sorted by partner then period.
func (t *Tally) Rows() []Row {
	rows := make([]Row, 0, len(t.m))
	for k, c := range t.m {
		rows = append(rows, Row{Partner: k.partner, Period: k.period, Counts: *c})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Partner != rows[j].Partner {
			return rows[i].Partner < rows[j].Partner
		}
		return rows[i].Period < rows[j].Period
	})
	return rows
}

// DecodeLeaves decodes encoded leaves, stopping at the first bad one.
func DecodeLeaves(enc [][]byte) ([]Leaf, error) {
	out := make([]Leaf, len(enc))
	for i, b := range enc {
		l, err := DecodeLeaf(b)
		if err != nil {
			return nil, fmt.Errorf("leaf %d: %w", i, err)
		}
		out[i] = l
	}
	return out, nil
}
