package console

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"math"
	"net/http"
	"time"

	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/node"
)

// queueRow is one case of the examiner's queue.
type queueRow struct {
	Case, Partner, Agreement string
	Purpose, SearchType      string
	Candidates               int
	Fields                   []string
	Waiting, Left, Allowed   time.Duration
	Urgent                   bool // a tenth of the allowed time or less is left
	FourEyes                 string
}

func (c *Console) cases(s *session) ([]exchange.ExaminerCase, error) {
	return c.n.ExaminerQueue(&s.principal, s.secret)
}

// step2Deadline is how long an agreement gives the examiners.
func (c *Console) step2Deadline(id string) time.Duration {
	for _, a := range c.n.Agreements() {
		if a.ID == id {
			return time.Duration(a.Deadlines.Step2)
		}
	}
	return 0
}

func (c *Console) fourEyes(id string) bool {
	for _, a := range c.n.Agreements() {
		if a.ID == id {
			return a.FourEyes
		}
	}
	return false
}

func (c *Console) queue(w http.ResponseWriter, r *http.Request, s *session) (int, string, view) {
	v := view{Title: "Examiner queue"}
	cases, err := c.cases(s)
	if err != nil {
		v.Error = err.Error()
		return statusOf(err), "queue", v
	}
	now := c.now()
	var rows []queueRow
	for _, k := range cases {
		allowed := c.step2Deadline(k.Agreement)
		left := k.Deadline.Sub(now)
		row := queueRow{Case: k.Case, Partner: k.Partner, Agreement: k.Agreement, Purpose: string(k.Purpose),
			SearchType: string(k.SearchType), Candidates: len(k.Candidates), Fields: k.Fields,
			Waiting: allowed - left, Left: left, Allowed: allowed, Urgent: left*10 <= allowed}
		if c.fourEyes(k.Agreement) {
			row.FourEyes = "two examiners; none confirmed yet"
			if k.ConfirmedBy != "" {
				row.FourEyes = "confirmed by " + k.ConfirmedBy + "; a second examiner must confirm"
			}
		}
		rows = append(rows, row)
	}
	v.Data = rows
	v.Notice = c.sessions.takeFlash(s)
	return http.StatusOK, "queue", v
}

// statusOf is the HTTP status of a node error (its API status), 500 for
// anything else.
func statusOf(err error) int { return node.ErrorStatus(err) }

// caseData is the case view.
type caseData struct {
	Case       exchange.ExaminerCase
	FourEyes   bool
	Left       time.Duration
	Candidates []candidateView
	Reasons    []string
	MayConfirm bool // not the examiner who confirmed first
}

type candidateView struct {
	Rank      int
	Identity  string
	Score     float64
	Threshold float64
	Above     bool
	Fingers   []fingerView
	Confirmed bool // the first examiner's choice under four eyes
}

type fingerView struct {
	Position         string
	Probe, Gallery   panel
	Pairs, Score     string
	NoGallery        bool
	ProbeN, GalleryN int
	GalleryLabel     string
}

// panel is one side of a comparison drawn as SVG: the template's frame,
// the image under it when there is one, and its minutiae with the paired
// ones numbered alike on both sides.
type panel struct {
	Width, Height int
	Image         template.URL // data:image/png;base64,... or empty
	Minutiae      []mark
	Label         string
}

type mark struct {
	X, Y, TX, TY float64
	Pair         int // 0: not paired
	Kind         string
}

func (c *Console) findCase(s *session, id string) (*exchange.ExaminerCase, error) {
	cases, err := c.cases(s)
	if err != nil {
		return nil, err
	}
	for i := range cases {
		if cases[i].Case == id {
			return &cases[i], nil
		}
	}
	return nil, nil
}

func (c *Console) caseView(w http.ResponseWriter, r *http.Request, s *session) (int, string, view) {
	v := view{Title: "Case"}
	k, err := c.findCase(s, r.PathValue("id"))
	if err != nil {
		v.Error = err.Error()
		return statusOf(err), "error", v
	}
	if k == nil {
		v.Error = "This case is not waiting for an examiner (decided, expired or withdrawn)."
		return http.StatusNotFound, "error", v
	}
	d, err := c.caseData(r, k, s)
	if err != nil {
		v.Error = err.Error()
		return statusOf(err), "error", v
	}
	v.Title = "Case " + k.Case
	v.Data = d
	return http.StatusOK, "case", v
}

func (c *Console) caseData(r *http.Request, k *exchange.ExaminerCase, s *session) (*caseData, error) {
	d := &caseData{Case: *k, FourEyes: c.fourEyes(k.Agreement), Left: k.Deadline.Sub(c.now()),
		Reasons: exchange.RejectReasons, MayConfirm: k.ConfirmedBy != s.principal.Name}
	for i, id := range k.Candidates {
		cmp, err := c.n.CompareCandidate(r.Context(), k.Probe, id)
		if err != nil {
			return nil, fmt.Errorf("candidate %s: %w", id, err)
		}
		cv := candidateView{Rank: i + 1, Identity: id, Score: cmp.Score, Threshold: cmp.Threshold,
			Above: cmp.Score >= cmp.Threshold, Confirmed: k.ConfirmedCandidate == id}
		for _, f := range cmp.Fingers {
			fv := fingerPanels(f)
			fv.GalleryLabel = "Gallery print of " + id
			cv.Fingers = append(cv.Fingers, fv)
		}
		d.Candidates = append(d.Candidates, cv)
	}
	return d, nil
}

// fingerPanels draws one finger of a comparison.
func fingerPanels(f node.FingerComparison) fingerView {
	pp := map[int]int{} // probe minutia -> pair number
	gp := map[int]int{}
	for i, p := range f.Pairing.Pairs {
		pp[p.Probe], gp[p.Gallery] = i+1, i+1
	}
	fv := fingerView{Position: f.Position.String(), Probe: drawPanel(f.Probe, pp, "probe (minutiae sent by the partner)"),
		Pairs: fmt.Sprint(len(f.Pairing.Pairs)), Score: fmt.Sprintf("%.4f", f.Pairing.Score),
		NoGallery: f.Gallery.Minutiae == nil, ProbeN: len(f.Probe.Minutiae), GalleryN: len(f.Gallery.Minutiae)}
	if !fv.NoGallery {
		fv.Gallery = drawPanel(f.Gallery, gp, "gallery")
		if f.GalleryImage != nil {
			var b bytes.Buffer
			if png.Encode(&b, f.GalleryImage) == nil {
				// A data: URL built here from our own PNG bytes.
				fv.Gallery.Image = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes()))
				fv.Gallery.Width, fv.Gallery.Height = f.GalleryImage.Rect.Dx(), f.GalleryImage.Rect.Dy()
			}
		}
	}
	return fv
}

func drawPanel(t fingerprint.Template, pairs map[int]int, label string) panel {
	p := panel{Width: t.Width, Height: t.Height, Label: label}
	for _, m := range t.Minutiae {
		p.Width, p.Height = max(p.Width, m.X+16), max(p.Height, m.Y+16)
	}
	p.Width, p.Height = max(p.Width, 64), max(p.Height, 64)
	for i, m := range t.Minutiae {
		kind := "other"
		switch m.Type {
		case fingerprint.Ending:
			kind = "ending"
		case fingerprint.Bifurcation:
			kind = "bifurcation"
		}
		x, y := float64(m.X), float64(m.Y)
		// The angle is counter-clockwise from the x axis with y up
		// (ISO/IEC 19794-2 §6.4.3.5), and the image's y axis points down.
		p.Minutiae = append(p.Minutiae, mark{X: x, Y: y, TX: round1(x + 14*math.Cos(m.Angle)), TY: round1(y - 14*math.Sin(m.Angle)),
			Pair: pairs[i], Kind: kind})
	}
	return p
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// decide records the examiner's decision through the node, as the API does.
func (c *Console) decide(w http.ResponseWriter, r *http.Request, s *session) (int, string, view) {
	id := r.PathValue("id")
	d := node.ExchangeDecision{Confirm: r.PostFormValue("decision") == "confirm", Candidate: r.PostFormValue("candidate"), Reason: r.PostFormValue("reason")}
	if !d.Confirm && r.PostFormValue("decision") != "reject" {
		return c.caseAgain(r, s, id, "Choose to confirm a candidate or to reject.")
	}
	if !d.Confirm && d.Reason == "" {
		return c.caseAgain(r, s, id, "A rejection needs a reason.")
	}
	if d.Confirm {
		d.Reason = ""
	}
	if err := c.n.DecideCase(r.Context(), &s.principal, s.secret, id, d); err != nil {
		return c.caseAgain(r, s, id, err.Error())
	}
	what := "rejected"
	if d.Confirm {
		what = "confirmed " + d.Candidate
		if c.stillQueued(s, id) {
			what += "; a second examiner must confirm before anything is released"
		}
	}
	c.sessions.setFlash(s, "Case "+id+": "+what+".")
	http.Redirect(w, r, "/console/examiner", http.StatusSeeOther)
	return 0, "", view{}
}

func (c *Console) stillQueued(s *session, id string) bool {
	k, err := c.findCase(s, id)
	return err == nil && k != nil
}

// caseAgain shows the case again with an error, or the queue when the
// case is gone.
func (c *Console) caseAgain(r *http.Request, s *session, id, msg string) (int, string, view) {
	v := view{Title: "Case " + id, Error: msg}
	k, err := c.findCase(s, id)
	if err != nil || k == nil {
		v.Title = "Examiner queue"
		return http.StatusConflict, "error", v
	}
	d, err := c.caseData(r, k, s)
	if err != nil {
		v.Error += " " + err.Error()
		return http.StatusConflict, "error", v
	}
	v.Data = d
	return http.StatusConflict, "case", v
}
