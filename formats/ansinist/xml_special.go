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
