package ansinist

import (
	"strconv"
	"strings"
)

// Fields whose traditional items have a variable tail, which the item
// table of xmlmap.go cannot express: the M1 ridge counts (9.138) and the
// fingerprint segment polygons (14.025).

// M1 ridge counts, 9.138 RCI: a first subfield holding the extraction
// method (and two zero items), then index~neighbour~count triples
// (1-2011 Annex C: MinutiaeRidgeCountDetail).
const rciPath = "b:INCITSMinutiae/b:MinutiaeRidgeCountDetail"

func (d *xmlReader) ridgeCounts(rn *xnode, r *Record) {
	rc := rn.walk(parsePath(rciPath))
	if rc == nil {
		return
	}
	alg := rc.walk(parsePath("b:INCITSRidgeCountAlgorithmCode"))
	if alg == nil {
		return
	}
	alg.used = true
	f := &Field{Number: 138, Subfields: []Subfield{{alg.text, "0", "0"}}}
	for _, it := range rc.find(segment{alts: []string{"b:MinutiaeRidgeCountItem"}}) {
		a, b, c := it.walk(parsePath("b:MinutiaIdentification/nc:IdentificationID")), it.walk(parsePath("b:MinutiaReferenceIdentification/nc:IdentificationID")), it.walk(parsePath("b:RidgeCountValue"))
		if a == nil || b == nil || c == nil {
			continue
		}
		it.markUsed()
		f.Subfields = append(f.Subfields, Subfield{a.text, b.text, c.text})
	}
	r.Set(f)
}

func (e *xmlEncoder) ridgeCounts(rn *xnode, r *Record, done map[int]bool) {
	f := r.Field(138)
	if f == nil || f.IsData() || len(f.Subfields) == 0 || done[138] {
		return
	}
	first := f.Subfields[0]
	if len(first) != 3 || first[1] != "0" || first[2] != "0" || first[0] == "" || !xmlSafe(first[0]) {
		return
	}
	for _, s := range f.Subfields[1:] {
		if len(s) != 3 {
			return
		}
		for _, v := range s {
			if v == "" || !xmlSafe(v) {
				return
			}
		}
	}
	rc := e.path(rn, parsePath(rciPath))
	e.path(rc, parsePath("b:INCITSRidgeCountAlgorithmCode")).text = first[0]
	for _, s := range f.Subfields[1:] {
		it := e.child(rc, segment{alts: []string{"b:MinutiaeRidgeCountItem"}, fresh: true})
		it.newAlways = true
		e.path(it, parsePath("b:MinutiaIdentification/nc:IdentificationID")).text = s[0]
		e.path(it, parsePath("b:MinutiaReferenceIdentification/nc:IdentificationID")).text = s[1]
		e.path(it, parsePath("b:RidgeCountValue")).text = s[2]
	}
	done[138] = true
}

// Segment polygons, 14.025 ASEG: FGP~vertex count~x1~y1~x2~y2...
const asegElem = "itl:FingerprintImageSegmentPositionPolygon|b:FingerprintImageSegmentPositionPolygon"

func (d *xmlReader) segmentPolygons(rn *xnode, r *Record) {
	c := rn.walk(parsePath(resolveRead("$C", r.Type)))
	if c == nil {
		return
	}
	f := &Field{Number: 25}
	for _, p := range c.find(parsePath(asegElem)[0]) {
		pos, n := p.walk(parsePath("b:FingerPositionCode")), p.walk(parsePath("itl:PositionPolygonVertexQuantity|b:PositionPolygonVertexQuantity"))
		if pos == nil || n == nil {
			continue
		}
		sub := Subfield{pos.text, n.text}
		for _, v := range p.find(parsePath("itl:PositionPolygonVertex|b:PositionPolygonVertex")[0]) {
			x, y := v.walk(parsePath("b:PositionHorizontalCoordinateValue")), v.walk(parsePath("b:PositionVerticalCoordinateValue"))
			if x == nil || y == nil {
				continue
			}
			sub = append(sub, x.text, y.text)
		}
		p.markUsed()
		f.Subfields = append(f.Subfields, sub)
	}
	if len(f.Subfields) > 0 {
		r.Set(f)
	}
}

func (e *xmlEncoder) segmentPolygons(rn *xnode, r *Record, done map[int]bool) {
	f := r.Field(25)
	if f == nil || f.IsData() || len(f.Subfields) == 0 {
		return
	}
	for _, s := range f.Subfields {
		if len(s) < 2 || len(s)%2 != 0 {
			return
		}
		if n, err := strconv.Atoi(s[1]); err != nil || strings.TrimSpace(s[1]) != s[1] || n < 0 {
			return
		}
		for _, v := range s {
			if v == "" || !xmlSafe(v) {
				return
			}
		}
	}
	c := e.path(rn, parsePath(e.resolve("$C")))
	for _, s := range f.Subfields {
		p := e.child(c, segment{alts: parsePath(asegElem)[0].alts, fresh: true})
		p.newAlways = true
		e.path(p, parsePath("b:FingerPositionCode")).text = s[0]
		e.path(p, parsePath("itl:PositionPolygonVertexQuantity|b:PositionPolygonVertexQuantity")).text = s[1]
		for k := 2; k < len(s); k += 2 {
			v := e.child(p, segment{alts: []string{"itl:PositionPolygonVertex", "b:PositionPolygonVertex"}, fresh: true})
			v.newAlways = true
			e.path(v, parsePath("b:PositionHorizontalCoordinateValue")).text = s[k]
			e.path(v, parsePath("b:PositionVerticalCoordinateValue")).text = s[k+1]
		}
	}
	done[25] = true
}

// EFS polygons (9.300 ROI, 9.302 FPP) are one traditional item
// "x1,y1-x2,y2-..." and an ImageSegmentPolygon of ImageSegmentVertex
// elements in XML.
func validPolygon(v string) bool {
	if v == "" {
		return true
	}
	for _, p := range strings.Split(v, "-") {
		x, y, ok := strings.Cut(p, ",")
		if !ok || !isDigits(x) || !isDigits(y) {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (e *xmlEncoder) writePolygon(n *xnode, v string) {
	if v == "" {
		return
	}
	for _, p := range strings.Split(v, "-") {
		x, y, _ := strings.Cut(p, ",")
		vx := e.child(n, segment{alts: []string{"b:ImageSegmentVertex"}, fresh: true})
		vx.newAlways = true
		e.path(vx, parsePath("b:ImageLocationHorizontalCoordinateMeasure")).text = x
		e.path(vx, parsePath("b:ImageLocationVerticalCoordinateMeasure")).text = y
	}
}

func readPolygon(n *xnode) string {
	var pts []string
	n.used = true
	for _, v := range n.find(segment{alts: []string{"b:ImageSegmentVertex"}}) {
		x, y := v.walk(parsePath("b:ImageLocationHorizontalCoordinateMeasure")), v.walk(parsePath("b:ImageLocationVerticalCoordinateMeasure"))
		if x == nil || y == nil {
			continue
		}
		v.markUsed()
		pts = append(pts, x.text+","+y.text)
	}
	return strings.Join(pts, "-")
}

// Major case prints: x.014 (PPD in Type-14: one FGP~code subfield; SPD in
// Type-13: one per searched position) and x.015 PPC (FVC~LOS~LHC~RHC~TVC~
// BVC segments), nested in XML as FingerprintImageMajorCasePrint elements
// holding their MajorCasePrintSegmentOffset elements.
const mcpElem = "b:FingerprintImageMajorCasePrint"

// segment offset items in XML order, as indexes of the PPC items.
var mcpOffsets = []struct {
	index int
	name  string
}{{5, "b:SegmentBottomVerticalCoordinateValue"}, {1, "b:SegmentLocationCode"}, {0, "b:SegmentFingerViewCode"},
	{2, "b:SegmentLeftHorizontalCoordinateValue"}, {3, "b:SegmentRightHorizontalCoordinateValue"}, {4, "b:SegmentTopVerticalCoordinateValue"}}

func (d *xmlReader) majorCasePrints(rn *xnode, r *Record) {
	c := rn.walk(parsePath(resolveRead("$C", r.Type)))
	if c == nil {
		return
	}
	pd, pc := &Field{Number: 14}, &Field{Number: 15}
	for _, m := range c.find(parsePath(mcpElem)[0]) {
		pos, code := m.walk(parsePath("b:FingerPositionCode")), m.walk(parsePath("b:MajorCasePrintCode"))
		if pos == nil || code == nil {
			continue
		}
		pos.used, code.used, m.used = true, true, true
		pd.Subfields = append(pd.Subfields, Subfield{pos.text, code.text})
		for _, o := range m.find(segment{alts: []string{"b:MajorCasePrintSegmentOffset"}}) {
			sub := make(Subfield, 6)
			ok := true
			for _, it := range mcpOffsets {
				n := o.walk(parsePath(it.name))
				if n == nil {
					ok = false
					break
				}
				sub[it.index] = n.text
			}
			if ok {
				o.markUsed()
				pc.Subfields = append(pc.Subfields, sub)
			}
		}
	}
	if len(pd.Subfields) > 0 {
		r.Set(pd)
	}
	if len(pc.Subfields) > 0 {
		r.Set(pc)
	}
}

func (e *xmlEncoder) majorCasePrints(rn *xnode, r *Record, done map[int]bool) {
	pd, pc := r.Field(14), r.Field(15)
	if done[14] || pd == nil || pd.IsData() || len(pd.Subfields) == 0 {
		return
	}
	for _, s := range pd.Subfields {
		if len(s) != 2 || s[0] == "" || s[1] == "" || !xmlSafe(s[0]) || !xmlSafe(s[1]) {
			return
		}
	}
	// The segments can only be placed when one print holds them all.
	withPC := pc != nil && !pc.IsData() && len(pd.Subfields) == 1
	if withPC {
		for _, s := range pc.Subfields {
			if len(s) != 6 {
				withPC = false
			}
			for _, v := range s {
				withPC = withPC && v != "" && xmlSafe(v)
			}
		}
	}
	c := e.path(rn, parsePath(e.resolve("$C")))
	for _, s := range pd.Subfields {
		m := e.child(c, segment{alts: []string{mcpElem}, fresh: true})
		m.newAlways = true
		e.path(m, parsePath("b:FingerPositionCode")).text = s[0]
		e.path(m, parsePath("b:MajorCasePrintCode")).text = s[1]
		if !withPC {
			continue
		}
		for _, ps := range pc.Subfields {
			o := e.child(m, segment{alts: []string{"b:MajorCasePrintSegmentOffset"}, fresh: true})
			o.newAlways = true
			for _, it := range mcpOffsets {
				e.path(o, parsePath(it.name)).text = ps[it.index]
			}
		}
	}
	done[14] = true
	if withPC {
		done[15] = true
	}
}

// Tattoo colours, 10.043 COL: one subfield per 10.042 SMD subfield (the
// primary colour, then secondary ones), nested in XML as the
// PhysicalFeatureColorDetail of each PhysicalFeatureDescriptionDetail.
const smdElem = "b:PhysicalFeatureDescriptionDetail"

func (d *xmlReader) tattooColours(rn *xnode, r *Record) {
	c := rn.walk(parsePath(resolveRead("$C", 10)))
	if c == nil {
		return
	}
	f := &Field{Number: 43}
	details := c.find(parsePath(smdElem)[0])
	for _, dd := range details {
		cd := dd.walk(parsePath("b:PhysicalFeatureColorDetail"))
		if cd == nil {
			return // colours only for some descriptions: left unmapped
		}
		var sub Subfield
		if p := cd.walk(parsePath("b:PhysicalFeaturePrimaryColorCode")); p != nil {
			sub = append(sub, p.text)
		}
		for _, s := range cd.find(segment{alts: []string{"b:PhysicalFeatureSecondaryColorCode"}}) {
			sub = append(sub, s.text)
		}
		if len(sub) == 0 {
			return
		}
		cd.markUsed()
		f.Subfields = append(f.Subfields, sub)
	}
	if len(f.Subfields) > 0 {
		r.Set(f)
	}
}

func (e *xmlEncoder) tattooColours(rn *xnode, r *Record, done map[int]bool) {
	f := r.Field(43)
	if f == nil || f.IsData() || !done[42] {
		return
	}
	c := e.path(rn, parsePath(e.resolve("$C")))
	details := c.find(parsePath(smdElem)[0])
	if len(details) != len(f.Subfields) {
		return
	}
	for _, s := range f.Subfields {
		for _, v := range s {
			if v == "" || !xmlSafe(v) {
				return
			}
		}
	}
	for i, s := range f.Subfields {
		cd := &xnode{space: e.uri("b"), local: "PhysicalFeatureColorDetail"}
		cd.kids = append(cd.kids, &xnode{space: e.uri("b"), local: "PhysicalFeaturePrimaryColorCode", text: s[0]})
		for _, v := range s[1:] {
			cd.kids = append(cd.kids, &xnode{space: e.uri("b"), local: "PhysicalFeatureSecondaryColorCode", text: v})
		}
		// The colour detail comes first in a description (schema order).
		details[i].kids = append([]*xnode{cd}, details[i].kids...)
	}
	done[43] = true
}

// Minutiae positions, 9.006 FGP: finger positions as
// MinutiaeFingerPositionCode, palm positions (20 and up) as
// MinutiaePalmPositionCode.
const stdElem = "itl:Minutiae|b:RecordMinutiae"

func (d *xmlReader) minutiaePositions(rn *xnode, r *Record) {
	std := rn.walk(parsePath(stdElem))
	if std == nil {
		return
	}
	f := &Field{Number: 6}
	for _, name := range []string{"b:MinutiaeFingerPositionCode", "b:MinutiaePalmPositionCode"} {
		for _, n := range std.find(segment{alts: []string{name}}) {
			n.used = true
			f.Subfields = append(f.Subfields, Subfield{n.text})
		}
	}
	if len(f.Subfields) > 0 {
		r.Set(f)
	}
}

func (e *xmlEncoder) minutiaePositions(rn *xnode, r *Record, done map[int]bool) {
	f := r.Field(6)
	if done[6] || f == nil || f.IsData() || len(f.Subfields) == 0 {
		return
	}
	palm := false
	for i, s := range f.Subfields {
		if len(s) != 1 || s[0] == "" || !xmlSafe(s[0]) {
			return
		}
		v, err := strconv.Atoi(s[0])
		if err != nil {
			return
		}
		// All finger or all palm: mixed lists would come back reordered.
		if i > 0 && (v >= 20) != palm {
			return
		}
		palm = v >= 20
	}
	name := "b:MinutiaeFingerPositionCode"
	if palm {
		name = "b:MinutiaePalmPositionCode"
	}
	std := e.path(rn, parsePath(stdElem))
	for _, s := range f.Subfields {
		n := e.child(std, segment{alts: []string{name}, fresh: true})
		n.newAlways = true
		n.text = s[0]
	}
	done[6] = true
}

// Additional delta angles, 9.141 ADA: per 9.140 delta, the angles after
// the first, which XML gives as further ImageLocationThetaAngleMeasure
// elements of the delta.

func (d *xmlReader) deltaAngles(rn *xnode, r *Record) {
	deltas := rn.walk(parsePath("b:INCITSMinutiae"))
	if deltas == nil {
		return
	}
	f := &Field{Number: 141}
	for _, dl := range deltas.find(parsePath("b:FingerprintPatternDeltaLocation")[0]) {
		var sub Subfield
		for _, th := range dl.find(segment{alts: []string{"b:ImageLocationThetaAngleMeasure"}}) {
			if !th.used {
				sub = append(sub, th.text)
			}
		}
		if len(sub) == 0 {
			return // angles for some deltas only: left unmapped
		}
		f.Subfields = append(f.Subfields, sub)
	}
	if len(f.Subfields) == 0 {
		return
	}
	for _, dl := range deltas.find(parsePath("b:FingerprintPatternDeltaLocation")[0]) {
		dl.markUsed()
	}
	r.Set(f)
}

func (e *xmlEncoder) deltaAngles(rn *xnode, r *Record, done map[int]bool) {
	f := r.Field(141)
	if f == nil || f.IsData() || !done[140] {
		return
	}
	m1 := rn.walk(parsePath("b:INCITSMinutiae"))
	if m1 == nil {
		return
	}
	deltas := m1.find(parsePath("b:FingerprintPatternDeltaLocation")[0])
	if len(deltas) != len(f.Subfields) {
		return
	}
	for i, s := range f.Subfields {
		// The first angle of each delta must be in place, so that the
		// extra ones follow it.
		if len(deltas[i].find(segment{alts: []string{"b:ImageLocationThetaAngleMeasure"}})) != 1 {
			return
		}
		for _, v := range s {
			if v == "" || !xmlSafe(v) {
				return
			}
		}
	}
	for i, s := range f.Subfields {
		for _, v := range s {
			deltas[i].kids = append(deltas[i].kids, &xnode{space: e.uri("b"), local: "ImageLocationThetaAngleMeasure", text: v})
		}
	}
	done[141] = true
}
