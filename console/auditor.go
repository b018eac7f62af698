package console

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/ebsp/ebsp/audit"
)

// The oversight screens show counts, hashes, agreement ids and state codes:
// no identifier of a person, case, officer or examiner.

// metric is one count of the statistics, as charted and exported.
type metric struct {
	Key, Label string
	Of         func(audit.Counts) int
}

var metrics = []metric{
	{"requests", "requests", func(c audit.Counts) int { return c.Requests }},
	{"hits", "hits", func(c audit.Counts) int { return c.Hits }},
	{"confirmed", "confirmed", func(c audit.Counts) int { return c.Confirmed }},
	{"rejected", "rejected", func(c audit.Counts) int { return c.Rejected }},
	{"releases", "releases", func(c audit.Counts) int { return c.Releases }},
	{"refusals", "refusals", func(c audit.Counts) int { return total(c.Refusals) }},
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

type auditorData struct {
	Period   string
	Partners []partnerStats
	Legend   []metric
	Log      logState
	Verify   *audit.Report
	Verified bool
}

type partnerStats struct {
	Partner string
	Rows    []statsRow
	Chart   chart
}

type statsRow struct {
	audit.Row
	Refusals string // reason=count, sorted
}

// logState is the state of the node's transparency log and of the
// partners' logs as this node holds their checkpoints.
type logState struct {
	Origin     string
	Size       int64
	Checkpoint string // the latest signed checkpoint, as text
	Partners   []partnerCheckpoint
	Off        bool
}

type partnerCheckpoint struct {
	Partner, Agreement string
	Held               int    // checkpoints of the partner's log this node holds
	Size               int64  // the latest one's tree size
	Root               string // its root hash
	Error              string
}

// period reads the period query, day by default.
func period(r *http.Request) audit.Period {
	if r.FormValue("period") == string(audit.Month) {
		return audit.Month
	}
	return audit.Day
}

func (c *Console) statistics(p audit.Period) ([]audit.Row, error) {
	l, _ := c.n.AuditLog()
	if l == nil {
		return nil, nil
	}
	// One leaf at a time from disk: a national log does not fit in memory.
	t, err := audit.NewTally(p)
	if err != nil {
		return nil, err
	}
	err = l.Scan(0, func(i int64, b []byte) error {
		lf, err := audit.DecodeLeaf(b)
		if err != nil {
			return fmt.Errorf("leaf %d: %w", i, err)
		}
		t.Add(lf)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t.Rows(), nil
}

func (c *Console) auditor(w http.ResponseWriter, r *http.Request, s *session) (int, string, view) {
	return c.auditorPage(r, nil)
}

func (c *Console) auditorPage(r *http.Request, rep *audit.Report) (int, string, view) {
	v := view{Title: "Oversight"}
	p := period(r)
	rows, err := c.statistics(p)
	if err != nil {
		v.Error = err.Error()
		return http.StatusInternalServerError, "error", v
	}
	d := &auditorData{Period: string(p), Legend: metrics, Log: c.logState(), Verify: rep, Verified: rep != nil && rep.OK()}
	var cur *partnerStats
	for _, row := range rows {
		if cur == nil || cur.Partner != row.Partner {
			d.Partners = append(d.Partners, partnerStats{Partner: row.Partner})
			cur = &d.Partners[len(d.Partners)-1]
		}
		cur.Rows = append(cur.Rows, statsRow{Row: row, Refusals: refusals(row.Refusals)})
	}
	for i := range d.Partners {
		d.Partners[i].Chart = barChart(d.Partners[i].Partner, d.Partners[i].Rows)
	}
	v.Data = d
	return http.StatusOK, "auditor", v
}

func refusals(m map[string]int) string {
	var out []string
	for k, n := range m {
		out = append(out, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func (c *Console) logState() logState {
	l, _ := c.n.AuditLog()
	if l == nil {
		return logState{Off: true}
	}
	st := logState{Origin: l.Origin(), Size: l.Size()}
	if signed, _, err := l.Checkpoint(); err == nil {
		st.Checkpoint = string(signed)
	}
	self := c.n.State()
	for _, a := range c.n.Agreements() {
		party := a.Partner(self)
		if party == nil {
			continue
		}
		pc := partnerCheckpoint{Partner: party.State, Agreement: a.ID}
		held := c.n.PartnerCheckpoints(party.State)
		pc.Held = len(held)
		if len(held) > 0 {
			cp, err := audit.OpenCheckpoint(held[len(held)-1], party.LogVerifier())
			if err != nil {
				pc.Error = err.Error()
			} else {
				pc.Size, pc.Root = cp.Size, cp.Hash.String()
			}
		}
		st.Partners = append(st.Partners, pc)
	}
	return st
}

// verify runs what `ebsp audit verify --log DIR --key KEY CHECKPOINT` runs,
// on the log's directory as it is on disk, with the log's latest checkpoint.
func (c *Console) verify(w http.ResponseWriter, r *http.Request, s *session) (int, string, view) {
	l, key := c.n.AuditLog()
	if l == nil {
		return http.StatusNotFound, "error", view{Title: "Oversight", Error: "This node takes part in no partnership and keeps no transparency log."}
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return http.StatusInternalServerError, "error", view{Title: "Oversight", Error: "log key: " + err.Error()}
	}
	// The checkpoint file on disk is rewritten now and then; the log's
	// latest checkpoint, signed now, commits to every leaf.
	var kept []audit.SignedCheckpoint
	if signed, _, err := l.Checkpoint(); err == nil {
		kept = append(kept, audit.SignedCheckpoint{Source: "latest", Signed: signed})
	}
	// Leaf by leaf from disk: a national log does not fit in memory.
	rep, err := audit.VerifyPath(l.Dir(), []note.Verifier{v}, kept)
	if err != nil {
		return http.StatusInternalServerError, "error", view{Title: "Oversight", Error: err.Error()}
	}
	c.log.Info("console: audit log verified", "principal", s.principal.Name, "leaves", rep.Leaves, "ok", rep.OK())
	return c.auditorPage(r, rep)
}

// statisticsCSV exports the statistics of the period, one row per partner
// and period, refusals one column per reason seen.
func (c *Console) statisticsCSV(w http.ResponseWriter, r *http.Request, s *session) (int, string, view) {
	p := period(r)
	rows, err := c.statistics(p)
	if err != nil {
		return http.StatusInternalServerError, "error", view{Title: "Oversight", Error: err.Error()}
	}
	var reasons []string
	for _, row := range rows {
		for k := range row.Refusals {
			if !slices.Contains(reasons, k) {
				reasons = append(reasons, k)
			}
		}
	}
	sort.Strings(reasons)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ebsp-%s-statistics-%s.csv"`, strings.ToLower(c.n.State()), p))
	cw := csv.NewWriter(w)
	head := []string{"partner", "period", "requests", "hits", "no_hits", "confirmed", "rejected", "releases", "expired", "sent"}
	for _, k := range reasons {
		head = append(head, "refused_"+k)
	}
	_ = cw.Write(head)
	for _, row := range rows {
		rec := []string{row.Partner, row.Period}
		for _, n := range []int{row.Requests, row.Hits, row.NoHits, row.Confirmed, row.Rejected, row.Releases, row.Expired, row.Sent} {
			rec = append(rec, strconv.Itoa(n))
		}
		for _, k := range reasons {
			rec = append(rec, strconv.Itoa(row.Refusals[k]))
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	return 0, "", view{}
}

// chart is a grouped bar chart as inline SVG: one group per period, one
// bar per metric.
type chart struct {
	ID            string
	Width, Height int
	Bars          []bar
	Groups        []axisLabel
	Ticks         []tick
	Max           int
	Summary       string
	// Left and Right bound the plot, TickX is where the axis labels end,
	// LabelY the baseline of the period labels.
	Left, Right, TickX, LabelY float64
}

type bar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type axisLabel struct {
	X    float64
	Text string
}

type tick struct {
	Y    float64
	Text string
}

// barChart lays out the last 12 periods of a partner.
func barChart(partner string, rows []statsRow) chart {
	if len(rows) > 12 {
		rows = rows[len(rows)-12:]
	}
	const left, top, bottom, barW, gap = 44.0, 10.0, 28.0, 14.0, 20.0
	const plotH = 180.0
	groupW := float64(len(metrics))*barW + gap
	ch := chart{ID: "chart-" + strings.ToLower(partner), Width: int(left + groupW*float64(len(rows)) + 10), Height: int(top + plotH + bottom),
		Left: left - 4, TickX: left - 8, LabelY: top + plotH + 18}
	ch.Right = float64(ch.Width) - 4
	for _, r := range rows {
		for _, m := range metrics {
			ch.Max = max(ch.Max, m.Of(r.Counts))
		}
	}
	scale := 1
	for scale*4 < ch.Max {
		scale *= 2
	}
	top4 := scale * 4 // the axis goes to the next multiple of 4 of a power of two
	for k := 0; k <= 4; k++ {
		ch.Ticks = append(ch.Ticks, tick{Y: top + plotH - plotH*float64(k)/4, Text: strconv.Itoa(k * top4 / 4)})
	}
	for g, r := range rows {
		x0 := left + float64(g)*groupW + gap/2
		ch.Groups = append(ch.Groups, axisLabel{X: x0 + float64(len(metrics))*barW/2, Text: r.Period})
		for i, m := range metrics {
			n := m.Of(r.Counts)
			h := plotH * float64(n) / float64(top4)
			ch.Bars = append(ch.Bars, bar{X: x0 + float64(i)*barW, Y: top + plotH - h, W: barW - 1, H: h,
				Class: "m-" + m.Key, Title: fmt.Sprintf("%s %s: %d %s", partner, r.Period, n, m.Label)})
		}
	}
	ch.Summary = fmt.Sprintf("Bar chart of %s over %d periods; the table below gives every number.", partner, len(rows))
	return ch
}
