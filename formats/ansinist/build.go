package ansinist

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	_ "image/jpeg" // JPEG sizes for SniffImage
	_ "image/png"  // PNG sizes for SniffImage
	"strconv"
	"strings"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/fingerprint"
)

// Header is what a new transaction's Type-1 record says.
type Header struct {
	Version string    // VER; "0500" (ANSI/NIST-ITL 1-2011) when empty
	TOT     string    // type of transaction, e.g. "CAR", "SRE"
	DAI     string    // destination agency
	ORI     string    // originating agency
	TCN     string    // transaction control number
	TCR     string    // the TCN of the transaction this one answers
	Domain  string    // DOM, e.g. "NORAM" or "INT-I"; omitted when empty
	Time    time.Time // DAT and GMT; now when zero
	Agency  string    // SRC of image records; ORI when empty
}

// New returns a transaction holding a Type-1 record from h and a Type-2
// record (IDC 0) with the given text fields, keyed by field number.
func New(h Header, type2 map[int]string) *Transaction {
	if h.Version == "" {
		h.Version = "0500"
	}
	if h.Time.IsZero() {
		h.Time = time.Now()
	}
	ts := h.Time.UTC()
	t1 := &Record{Type: 1}
	t1.Fields = []*Field{NewField(1, "0"), NewField(2, h.Version), NewField(3, "1\x1f0"), NewField(4, h.TOT),
		NewField(5, ts.Format("20060102")), NewField(7, h.DAI), NewField(8, h.ORI), NewField(9, h.TCN)}
	if h.TCR != "" {
		t1.Set(NewField(10, h.TCR))
	}
	// NSR/NTR: 00.00 when no Type-4 record carries 500 ppi images (1-2011
	// section 8.1.11).
	t1.Set(NewField(11, "00.00"))
	t1.Set(NewField(12, "00.00"))
	if h.Domain != "" {
		t1.Set(NewField(13, h.Domain))
	}
	t1.Set(NewField(14, ts.Format("20060102150405Z")))
	t2 := &Record{Type: 2, Fields: []*Field{NewField(1, "0"), NewField(2, "00")}}
	for n, v := range type2 {
		if n > 2 {
			t2.Set(NewField(n, v))
		}
	}
	t := &Transaction{Records: []*Record{t1, t2}}
	t.UpdateCNT()
	return t
}

// nextIDC returns an IDC no record uses yet (1..99).
func (t *Transaction) nextIDC() int {
	used := map[int]bool{}
	for _, r := range t.Records {
		used[r.IDC()] = true
	}
	for i := 1; i < 100; i++ {
		if !used[i] {
			return i
		}
	}
	return 99
}

func (t *Transaction) source() string {
	if r := t.Type1(); r != nil {
		return r.Value(8)
	}
	return ""
}

// imageRecord makes the fields Types 10, 14 and 17 share (1-2011 sections
// 8.10, 8.14, 8.17): LEN, IDC, SRC, capture date, HLL, VLL, SLC 1 (ppi),
// THPS, TVPS, CGA; the caller adds the rest and the data.
func (t *Transaction) imageRecord(typ int, im Image, date time.Time) *Record {
	if im.PPI <= 0 {
		im.PPI = 500
	}
	if date.IsZero() {
		date = time.Now()
	}
	r := &Record{Type: typ}
	idc := im.IDC
	if idc <= 0 {
		idc = t.nextIDC()
	}
	r.Fields = []*Field{NewField(1, "0"), NewField(2, fmt.Sprintf("%02d", idc)), NewField(4, t.source()),
		NewField(5, date.UTC().Format("20060102")), NewField(6, strconv.Itoa(im.Width)), NewField(7, strconv.Itoa(im.Height)),
		NewField(8, "1"), NewField(9, strconv.Itoa(im.PPI)), NewField(10, strconv.Itoa(im.PPI)), NewField(11, im.Compression.CGA())}
	return r
}

func (t *Transaction) add(r *Record, data []byte) {
	if data == nil {
		data = []byte{}
	}
	r.Set(&Field{Number: DataField, Data: data})
	t.Records = append(t.Records, r)
	t.UpdateCNT()
}

// AddFinger appends a Type-14 record for a fingerprint image and returns
// its IDC. Positions default to unknown (0), impression to live-scan plain.
func (t *Transaction) AddFinger(im FingerImage) int {
	r := t.imageRecord(14, im.Image, time.Time{})
	r.Set(NewField(3, strconv.Itoa(im.Impression)))
	bpx := im.BPX
	if bpx == 0 {
		bpx = 8
	}
	r.Set(NewField(12, strconv.Itoa(bpx)))
	pos := im.Positions
	if len(pos) == 0 {
		pos = []biometric.FingerPosition{biometric.UnknownFinger}
	}
	f := &Field{Number: 13}
	for _, p := range pos {
		f.Subfields = append(f.Subfields, Subfield{strconv.Itoa(int(p))})
	}
	r.Set(f)
	t.add(r, im.Data)
	return r.IDC()
}

// AddFace appends a Type-10 face record and returns its IDC.
func (t *Transaction) AddFace(im FaceImage) int {
	r := t.imageRecord(10, im.Image, time.Time{})
	imt := im.ImageType
	if imt == "" {
		imt = "FACE"
	}
	r.Set(NewField(3, imt))
	csp := im.ColorSpace
	if csp == "" {
		csp = "GRAY"
	}
	r.Set(NewField(12, csp))
	if imt == "FACE" {
		sap := im.SAP
		if sap == "" {
			sap = "1" // unknown profile
		}
		r.Set(NewField(13, sap))
	}
	t.add(r, im.Data)
	return r.IDC()
}

// AddIris appends a Type-17 iris record and returns its IDC.
func (t *Transaction) AddIris(im IrisImage) int {
	r := t.imageRecord(17, im.Image, time.Time{})
	r.Set(NewField(3, strconv.Itoa(im.Eye)))
	bpx := im.BPX
	if bpx == 0 {
		bpx = 8
	}
	r.Set(NewField(12, strconv.Itoa(bpx)))
	csp := im.ColorSpace
	if csp == "" {
		csp = "GRAY"
	}
	r.Set(NewField(13, csp))
	t.add(r, im.Data)
	return r.IDC()
}

// AddMinutiae appends a Type-9 record carrying tmpl in the INCITS 378
// ("M1") block, linked by IDC to an image record (or a new IDC when idc is
// 0), and returns its IDC.
func (t *Transaction) AddMinutiae(idc int, pos biometric.FingerPosition, tmpl fingerprint.Template) int {
	if idc <= 0 {
		idc = t.nextIDC()
	}
	// IMP 0 (live-scan plain), FMT "U": a format other than the legacy
	// standard block (1-2011 section 8.9.4).
	r := &Record{Type: 9, Fields: []*Field{NewField(1, "0"), NewField(2, fmt.Sprintf("%02d", idc)), NewField(3, "0"), NewField(4, "U")}}
	for _, f := range m1Fields(tmpl, pos) {
		r.Set(f)
	}
	t.Records = append(t.Records, r)
	t.UpdateCNT()
	return idc
}

// Candidate is one entry of a search response's candidate list.
type Candidate struct {
	ID    string // the reference the responder gives (no personal data)
	Score int
}

// NewResponse makes a search-response transaction (TOT "SRE") answering
// req: DAI and ORI swapped, TCR set to req's TCN, and in Type-2 the EBTS
// search result findings 2.059 SRF ("I" identified, "N" non-identified) and,
// for a hit, the candidate list 2.064 CAN (id~score per candidate).
//
// When req's domain (1.013) is INTERPOL's INT-I, Type-2 follows INT-I
// instead: 2.064 RLS with one subfield per candidate (sequence number, not
// manually verified), the first also holding the candidate count, req's
// TOT and the result code I or N, as INT-I's SRE samples do; for a hit,
// 2.010 CRN carries the first candidate's reference as the identifier
// (no country item, which the node does not know). Scores have no INT-I
// field and are not sent.
func NewResponse(req *Transaction, tcn string, hit bool, cands []Candidate) *Transaction {
	if IsINTI(req.Type1().Field(13).Item(0, 0)) {
		return newINTIResponse(req, tcn, hit, cands)
	}
	var h Header
	if t1 := req.Type1(); t1 != nil {
		h = Header{DAI: t1.Value(8), ORI: t1.Value(7), TCR: t1.Value(9), Domain: t1.Field(13).Text()}
		if v := t1.Value(2); versions[v] {
			h.Version = v
		}
	}
	h.TOT, h.TCN = "SRE", tcn
	t2 := map[int]string{59: "N"}
	if hit {
		t2[59] = "I"
		var subs []string
		for _, c := range cands {
			subs = append(subs, c.ID+"\x1f"+strconv.Itoa(c.Score))
		}
		if len(subs) > 0 {
			t2[64] = strings.Join(subs, "\x1e")
		}
	}
	t := New(h, nil)
	for n, v := range t2 {
		f := &Field{Number: n}
		for _, s := range strings.Split(v, "\x1e") {
			f.Subfields = append(f.Subfields, Subfield(strings.Split(s, "\x1f")))
		}
		t.Records[1].Set(f)
	}
	return t
}

func newINTIResponse(req *Transaction, tcn string, hit bool, cands []Candidate) *Transaction {
	t1 := req.Type1()
	h := Header{DAI: t1.Value(8), ORI: t1.Value(7), TCR: t1.Value(9), Domain: t1.Field(13).Text(), TOT: "SRE", TCN: tcn}
	if v := t1.Value(2); versions[v] {
		h.Version = v
	}
	t := New(h, nil)
	if !hit {
		cands = nil
	}
	src := "N"
	if hit {
		src = "I"
	}
	rls := &Field{Number: 64}
	summary := Subfield{strconv.Itoa(len(cands)), req.TOT(), src}
	if len(cands) == 0 {
		rls.Subfields = []Subfield{append(Subfield{"", ""}, summary...)}
	}
	for i := range cands {
		sub := Subfield{strconv.Itoa(i + 1), "false"}
		if i == 0 {
			sub = append(sub, summary...)
		}
		rls.Subfields = append(rls.Subfields, sub)
	}
	t.Records[1].Set(rls)
	if len(cands) > 0 && cands[0].ID != "" {
		t.Records[1].Set(&Field{Number: 10, Subfields: []Subfield{{"", cands[0].ID}}})
	}
	return t
}

// SniffImage tells an image's compression and size from its first bytes:
// WSQ (from its SOF frame header, WSQ 3.1 section A.2.2), PNG, JPEG, and
// JPEG 2000 (compression only).
func SniffImage(data []byte) (c Compression, width, height int, err error) {
	switch {
	case len(data) >= 2 && data[0] == 0xFF && data[1] == 0xA0:
		w, h, err := wsqSize(data)
		return WSQ, w, h, err
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		c = PNG
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8}):
		c = JPEG
	case bytes.HasPrefix(data, []byte("\x00\x00\x00\x0cjP  ")), bytes.HasPrefix(data, []byte{0xFF, 0x4F, 0xFF, 0x51}):
		return JPEG2000, 0, 0, nil
	default:
		return Unknown, 0, 0, fmt.Errorf("ansinist: image format not recognised (first bytes % x)", clip(data, 4))
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return c, 0, 0, fmt.Errorf("ansinist: reading %s header: %v", c, err)
	}
	return c, cfg.Width, cfg.Height, nil
}

// wsqSize walks WSQ marker segments (each a 2-byte marker and a 2-byte
// length) to the SOF frame header: black, white (1 byte each), height,
// width (2 bytes each).
func wsqSize(b []byte) (int, int, error) {
	p := 2
	for p+4 <= len(b) {
		if b[p] != 0xFF {
			return 0, 0, fmt.Errorf("ansinist: WSQ: no marker at offset %d", p)
		}
		marker := b[p+1]
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		if marker == 0xA2 {
			if p+10 > len(b) {
				break
			}
			return int(binary.BigEndian.Uint16(b[p+8:])), int(binary.BigEndian.Uint16(b[p+6:])), nil
		}
		if n < 2 {
			return 0, 0, fmt.Errorf("ansinist: WSQ: segment length %d at offset %d", n, p+2)
		}
		p += 2 + n
	}
	return 0, 0, fmt.Errorf("ansinist: WSQ: no frame header (SOF)")
}
