package ansinist

import (
	"fmt"
	"sort"
)

// This file holds the content models of the NIEM XML schemas (element
// order and occurrence bounds of every complex type the writer produces)
// and uses them twice: the writer puts every element's children in schema
// order (orderBySchema), and CheckXMLContent reports where a document
// departs from them. The schemas have only sequences (no choices or
// nested groups in what ebsp writes), so a content model is a list of
// particles; a particle whose element heads a substitution group also
// matches the group's members. Tables: xmlschema_2008.go (generated from
// the 2-2008 package schema with the Annex L constraint schema) and
// xmlschema_2011.go (the record level of the 1-2011 itl.xsd; the NIEM
// biometrics 1.0 subset it imports was not available, so the content of
// biometric elements inside a 2011 record is not checked).

// xsdParticle is one element of a sequence: its qualified name
// ("prefix:Local") and how often it may occur (max -1: unbounded).
type xsdParticle struct {
	name     string
	min, max int
}

// xsdSchema is the content model of one schema edition.
type xsdSchema struct {
	root, rootType string
	types          map[string][]xsdParticle
	elems          map[string]string   // element -> its type
	subs           map[string][]string // substitution group head -> members
	prefixes       map[string]string   // namespace URI -> prefix used in the tables
	// representations: an element named like a head plus "Code" or
	// "Text" substitutes for it (the NIEM pattern of abstract
	// representation elements, b:ImageCompressionAlgorithm and
	// b:ImageCompressionAlgorithmCode), for schemas whose substitution
	// groups the tables do not list (1-2011's biometrics subset).
	representations bool
	abstract        map[string]bool // elements that only their substitutes may stand for
}

// schemaFor is the content model of an XML edition.
func schemaFor(ed XMLEdition) *xsdSchema {
	if ed == XML2008 {
		return schema2008
	}
	return schema2011
}

// qname names n as the tables do, or "" for a namespace they do not know.
func (s *xsdSchema) qname(n *xnode) string {
	p, ok := s.prefixes[n.space]
	if !ok {
		return ""
	}
	return p + ":" + n.local
}

// index is the position in model of the particle that element q matches,
// or -1.
func (s *xsdSchema) index(model []xsdParticle, q string) int {
	for i, p := range model {
		if p.name == q || s.member(p.name, q) {
			return i
		}
	}
	return -1
}

// member reports whether q substitutes for head, directly or through
// another member.
func (s *xsdSchema) member(head, q string) bool {
	if s.representations && (q == head+"Code" || q == head+"Text") {
		return true
	}
	for _, m := range s.subs[head] {
		if m == q || s.member(m, q) {
			return true
		}
	}
	return false
}

// orderBySchema sorts the children of n (of type typ), and recursively
// theirs, into the order of their content models. Children the model does
// not know keep their place relative to each other, after the known ones.
func (s *xsdSchema) orderBySchema(n *xnode, typ string) {
	model := s.types[typ]
	if len(model) > 0 {
		pos := make(map[*xnode]int, len(n.kids))
		for _, k := range n.kids {
			i := s.index(model, s.qname(k))
			if i < 0 {
				i = len(model)
			}
			pos[k] = i
		}
		sort.SliceStable(n.kids, func(a, b int) bool { return pos[n.kids[a]] < pos[n.kids[b]] })
	}
	for _, k := range n.kids {
		if t := s.elems[s.qname(k)]; t != "" {
			s.orderBySchema(k, t)
		}
	}
}

// check appends to problems where the children of n (path p, type typ)
// break its content model: an element the model does not allow, one out
// of order, more than its maximum, fewer than its minimum.
func (s *xsdSchema) check(n *xnode, p, typ string, problems *[]string) {
	model := s.types[typ]
	if len(model) > 0 {
		counts := make([]int, len(model))
		last := 0
		for _, k := range n.kids {
			q := s.qname(k)
			i := s.index(model, q)
			switch {
			case i < 0:
				*problems = append(*problems, fmt.Sprintf("%s: %s is not allowed in %s", p, displayName(q, k), typ))
				continue
			case s.abstract[q]:
				*problems = append(*problems, fmt.Sprintf("%s: %s is abstract; only an element of its substitution group may appear", p, q))
			case i < last:
				*problems = append(*problems, fmt.Sprintf("%s: %s comes after %s, the schema orders it before", p, q, model[last].name))
			}
			last = max(last, i)
			counts[i]++
		}
		for i, part := range model {
			switch {
			case part.max >= 0 && counts[i] > part.max:
				*problems = append(*problems, fmt.Sprintf("%s: %d %s, at most %d allowed", p, counts[i], part.name, part.max))
			case counts[i] < part.min:
				*problems = append(*problems, fmt.Sprintf("%s: %s is required (%d of at least %d)", p, part.name, counts[i], part.min))
			}
		}
	}
	for i, k := range n.kids {
		q := s.qname(k)
		if t := s.elems[q]; t != "" {
			s.check(k, fmt.Sprintf("%s/%s[%d]", p, q, i), t, problems)
		}
	}
}

func displayName(q string, n *xnode) string {
	if q != "" {
		return q
	}
	return "{" + n.space + "}" + n.local
}

// CheckXMLContent checks an ANSI/NIST-ITL XML document against the content
// models (element order and occurrence bounds) of its edition's schema, as
// far as ebsp knows them (2-2008: every complex type ebsp writes; 1-2011:
// the package and record level), and returns the departures, each with
// the path of the element. An empty list means none was found; it is not
// full schema validation (simple values and attributes are not checked).
func CheckXMLContent(doc []byte) ([]string, error) {
	root, err := parseXML(doc)
	if err != nil {
		return nil, err
	}
	var s *xsdSchema
	switch root.space {
	case nsITL2008:
		s = schema2008
	case nsITL2011:
		s = schema2011
	default:
		return nil, fmt.Errorf("%w: root element {%s}%s is not an ANSI/NIST-ITL package", ErrFormat, root.space, root.local)
	}
	var problems []string
	if q := s.qname(root); q != s.root {
		return []string{fmt.Sprintf("root element is %s, not %s", q, s.root)}, nil
	}
	s.check(root, s.root, s.rootType, &problems)
	return problems, nil
}

// prefixesFor maps the namespaces of an edition to the prefixes of the
// tables.
func prefixesFor(itl, biom string) map[string]string {
	return map[string]string{itl: "itl", biom: "b", nsNC: "nc", nsS: "s", NSExtension: "ebsp",
		"http://niem.gov/niem/fbi/2.0": "fbi", "http://niem.gov/niem/proxy/xsd/2.0": "niem-xsd", NSINTI: "inti"}
}

// withExtensions adds ebsp's extension elements to the substitution
// groups extension.xsd puts them in. extension.xsd declares them for the
// 1-2011 namespace only, so the 2-2008 model does not know them.
func withExtensions(s *xsdSchema) *xsdSchema {
	add := func(head, m string) { s.subs[head] = append(s.subs[head], m) }
	add("itl:UserDefinedFields", "ebsp:Field")
	add("itl:PackageDataRecord", "ebsp:Record")
	add("itl:DomainDefinedDescriptiveDetail", "ebsp:DomainDefinedDescriptiveDetail")
	add("itl:OtherDescriptiveDetail", "ebsp:OtherDescriptiveDetail")
	// INTERPOL's INT-I profile (of 1-2011) substitutes the domain-defined
	// detail with its own Type-2 tree (int-i.xsd).
	add("itl:DomainDefinedDescriptiveDetail", "inti:DomainDefinedDescriptiveDetail")
	// The content of ebsp's own elements (extension.xsd).
	s.elems["ebsp:Field"] = "ebsp:FieldType"
	s.types["ebsp:FieldType"] = []xsdParticle{{"ebsp:Data", 0, 1}, {"ebsp:Subfield", 0, -1}}
	s.elems["ebsp:Subfield"] = "ebsp:SubfieldType"
	s.types["ebsp:SubfieldType"] = []xsdParticle{{"ebsp:Item", 1, -1}}
	s.elems["ebsp:DomainDefinedDescriptiveDetail"] = "ebsp:FieldListType"
	s.elems["ebsp:OtherDescriptiveDetail"] = "ebsp:FieldListType"
	s.types["ebsp:FieldListType"] = []xsdParticle{{"ebsp:Field", 1, -1}}
	return s
}
