package console

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/node"
)

// operatorData is the search screen: its forms and, after a search, the
// answer.
type operatorData struct {
	Formats   []option
	Positions []option
	Partners  []partnerOption
	Purposes  []string // every purpose some agreement permits
	Identify  *node.IdentifyResponse
	Step1     *step1View
	Case      *caseView
}

type option struct{ Value, Label string }

type partnerOption struct {
	State, Agreement string
	Purposes         []string
	Fields           []string
	SearchTypes      []string
}

type step1View struct {
	Partner, Officer string
	*exchange.Step1Result
	Fields []string
}

type caseView struct {
	Partner, Case string
	*node.DisclosureStatus
	Deadline string
}

// The sample formats the search form takes: fingerprint images and
// templates (the node's finger engine), face photos (a node with face
// models) and embeddings, and ANSI/NIST-ITL transactions whose fingerprints
// are searched. A "face:" prefix marks a face sample in an image format
// fingerprints also use.
var formats = []option{
	{"png", "fingerprint image (PNG)"}, {"jpeg", "fingerprint image (JPEG)"}, {"wsq", "fingerprint image (WSQ)"},
	{"bmp", "fingerprint image (BMP)"}, {"tiff", "fingerprint image (TIFF)"},
	{"iso19794-2", "fingerprint template (ISO/IEC 19794-2)"}, {"ansi378", "fingerprint template (ANSI INCITS 378)"},
	{"face:jpeg", "face photo (JPEG)"}, {"face:png", "face photo (PNG)"}, {"face:iso19794-5", "face record (ISO/IEC 19794-5)"},
	{"face-embedding", "face (embedding)"}, {"ansi-nist", "ANSI/NIST-ITL transaction"},
}

func positions() []option {
	out := []option{{"0", "unknown finger"}}
	for p := biometric.FingerPosition(1); p <= 10; p++ {
		out = append(out, option{strconv.Itoa(int(p)), p.String()})
	}
	return out
}

func (c *Console) operatorData() *operatorData {
	d := &operatorData{Formats: formats, Positions: positions()}
	self := c.n.State()
	for _, a := range c.n.Agreements() {
		party := a.Partner(self)
		if party == nil {
			continue
		}
		po := partnerOption{State: party.State, Agreement: a.ID, Fields: a.Disclosure}
		for _, p := range a.Purposes {
			po.Purposes = append(po.Purposes, string(p.Purpose))
			if !slices.Contains(d.Purposes, string(p.Purpose)) {
				d.Purposes = append(d.Purposes, string(p.Purpose))
			}
		}
		for t := range a.Searches {
			if t == exchange.Tenprint || t == exchange.Latent {
				po.SearchTypes = append(po.SearchTypes, string(t))
			}
		}
		d.Partners = append(d.Partners, po)
	}
	return d
}

func (c *Console) operator(w http.ResponseWriter, r *http.Request, s *session) (int, string, view) {
	return http.StatusOK, "operator", view{Title: "Search", Data: c.operatorData()}
}

// operatorError shows the search screen again with the node's error.
func (c *Console) operatorError(err error) (int, string, view) {
	return node.ErrorStatus(err), "operator", view{Title: "Search", Error: err.Error(), Data: c.operatorData()}
}

// uploaded reads the form's sample file.
func uploaded(r *http.Request) ([]byte, error) {
	f, _, err := r.FormFile("sample")
	if err != nil {
		return nil, errors.New("choose a file to search with")
	}
	defer f.Close()
	return io.ReadAll(f)
}

// sampleOf makes the API sample of the upload.
func sampleOf(r *http.Request, data []byte) (node.SampleInput, error) {
	s := node.SampleInput{Format: r.PostFormValue("format"), Data: data}
	if f, ok := strings.CutPrefix(s.Format, "face:"); ok {
		s.Modality, s.Format = biometric.Face, f
		return s, nil
	}
	switch s.Format {
	case "face-embedding":
		s.Modality = biometric.Face
	default:
		s.Modality = biometric.Finger
		pos, err := strconv.Atoi(r.PostFormValue("position"))
		if err != nil {
			return s, errors.New("finger position: not a number")
		}
		s.Position = biometric.FingerPosition(pos)
	}
	return s, nil
}

func (c *Console) identify(w http.ResponseWriter, r *http.Request, s *session) (int, string, view) {
	data, err := uploaded(r)
	if err != nil {
		return c.operatorError(err)
	}
	var resp *node.IdentifyResponse
	if r.PostFormValue("format") == "ansi-nist" {
		_, resp, err = c.n.IdentifyTransaction(r.Context(), data)
	} else {
		var smp node.SampleInput
		if smp, err = sampleOf(r, data); err == nil {
			resp, err = c.n.Identify(r.Context(), &node.IdentifyRequest{Samples: []node.SampleInput{smp}, Purpose: "console"})
		}
	}
	clear(data)
	if err != nil {
		return c.operatorError(err)
	}
	d := c.operatorData()
	d.Identify = resp
	return http.StatusOK, "operator", view{Title: "Search", Data: d}
}

func (c *Console) partnerSearch(w http.ResponseWriter, r *http.Request, s *session) (int, string, view) {
	data, err := uploaded(r)
	if err != nil {
		return c.operatorError(err)
	}
	defer clear(data)
	smp, err := sampleOf(r, data)
	if err != nil {
		return c.operatorError(err)
	}
	years, _ := strconv.Atoi(r.PostFormValue("offence_max_years"))
	req := &node.ExchangeSearchRequest{Partner: r.PostFormValue("partner"), Purpose: r.PostFormValue("purpose"),
		LegalBasis: r.PostFormValue("legal_basis"), Officer: r.PostFormValue("officer"), SearchType: r.PostFormValue("search_type"),
		OffenceMaxYears: years, Samples: []node.SampleInput{smp}}
	res, err := c.n.ExchangeSearch(r.Context(), req)
	if err != nil {
		return c.operatorError(err)
	}
	d := c.operatorData()
	d.Step1 = &step1View{Partner: req.Partner, Officer: req.Officer, Step1Result: res}
	for _, p := range d.Partners {
		if p.State == req.Partner {
			d.Step1.Fields = p.Fields
		}
	}
	return http.StatusOK, "operator", view{Title: "Search", Data: d}
}

func (c *Console) disclosure(w http.ResponseWriter, r *http.Request, s *session) (int, string, view) {
	req := &node.ExchangeDisclosureRequest{Partner: r.PostFormValue("partner"), Reference: r.PostFormValue("reference"),
		Officer: r.PostFormValue("officer"), Fields: r.PostForm["fields"]}
	dc, err := c.n.RequestDisclosure(r.Context(), req)
	if err != nil {
		return c.operatorError(err)
	}
	d := c.operatorData()
	d.Case = &caseView{Partner: req.Partner, Case: dc.Case, Deadline: dc.Deadline.UTC().Format("2006-01-02 15:04 UTC"),
		DisclosureStatus: &node.DisclosureStatus{Status: exchange.StatusQueued}}
	return http.StatusOK, "operator", view{Title: "Search", Notice: "The partner queued the request for its examiners.", Data: d}
}

func (c *Console) disclosureStatus(w http.ResponseWriter, r *http.Request, s *session) (int, string, view) {
	partner, id := r.PostFormValue("partner"), r.PostFormValue("case")
	st, err := c.n.DisclosureStatus(r.Context(), partner, id)
	if err != nil {
		return c.operatorError(err)
	}
	d := c.operatorData()
	d.Case = &caseView{Partner: partner, Case: id, DisclosureStatus: st}
	return http.StatusOK, "operator", view{Title: "Search", Data: d}
}
