package ansinist

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// xnode is an XML element of the NIEM encoding, read into a tree because
// the mapping to fields looks at elements in any order.
type xnode struct {
	space, local string // namespace URI and local name
	attrs        []xml.Attr
	text         string // character data directly inside (trimmed)
	kids         []*xnode
	used         bool // consumed by the field mapping
	newAlways    bool // writer: created with "+", never shared
}

// maxXMLDepth bounds element nesting; the NIEM encoding nests about ten deep.
const maxXMLDepth = 64

// parseXML reads an XML document into a tree of elements. Only UTF-8 is
// accepted (what ANSI/NIST-ITL 2-2008 and 1-2011 Part 2 require).
func parseXML(in []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(in))
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "us-ascii") {
			return r, nil
		}
		return nil, fmt.Errorf("encoding %q not supported, only UTF-8", label)
	}
	var root *xnode
	var stack []*xnode
	var text []*strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: XML at offset %d: %v", ErrFormat, d.InputOffset(), err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("%w: XML nested deeper than %d elements", ErrFormat, maxXMLDepth)
			}
			n := &xnode{space: t.Name.Space, local: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" {
					n.attrs = append(n.attrs, a)
				}
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%w: XML has more than one root element", ErrFormat)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
			text = append(text, &strings.Builder{})
		case xml.CharData:
			if len(text) > 0 {
				text[len(text)-1].Write(t)
			}
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.text = strings.TrimSpace(text[len(text)-1].String())
			stack = stack[:len(stack)-1]
			text = text[:len(text)-1]
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no XML root element", ErrFormat)
	}
	return root, nil
}

// segment is one step of a mapping path: "pfx:Name" or, where the 2-2008
// and 2011 encodings differ, "pfx:Name2008|pfx:Name2011". A leading "+"
// makes the writer create a new element rather than reuse one.
type segment struct {
	alts  []string // "pfx:Name" forms, the 2-2008 one first
	fresh bool
}

func parsePath(p string) []segment {
	if p == "" || p == "." {
		return nil
	}
	var segs []segment
	for _, s := range strings.Split(p, "/") {
		seg := segment{}
		if strings.HasPrefix(s, "+") {
			seg.fresh, s = true, s[1:]
		}
		seg.alts = strings.Split(s, "|")
		segs = append(segs, seg)
	}
	return segs
}

func localOf(qname string) string {
	if i := strings.IndexByte(qname, ':'); i >= 0 {
		return qname[i+1:]
	}
	return qname
}

func (s segment) matches(n *xnode) bool {
	for _, a := range s.alts {
		if localOf(a) == n.local {
			return true
		}
	}
	return false
}

// find returns the children of n matching seg.
func (n *xnode) find(seg segment) []*xnode {
	var out []*xnode
	for _, k := range n.kids {
		if seg.matches(k) {
			out = append(out, k)
		}
	}
	return out
}

// walk follows path from n taking the first match at each step.
func (n *xnode) walk(path []segment) *xnode {
	for _, s := range path {
		m := n.find(s)
		if len(m) == 0 {
			return nil
		}
		n = m[0]
	}
	return n
}

// walkFree follows path like walk, but at the last step takes the first
// match not yet consumed, so that items mapped to repeated elements of the
// same name (two hair colours) are read in turn.
func (n *xnode) walkFree(path []segment) *xnode {
	if len(path) == 0 {
		return n
	}
	p := n.walk(path[:len(path)-1])
	if p == nil {
		return nil
	}
	for _, k := range p.find(path[len(path)-1]) {
		if !k.used {
			return k
		}
	}
	return nil
}

// markUsed marks n and its descendants consumed.
func (n *xnode) markUsed() {
	n.used = true
	for _, k := range n.kids {
		k.markUsed()
	}
}

// hasUsed reports whether n or a descendant was consumed.
func (n *xnode) hasUsed() bool {
	if n.used {
		return true
	}
	for _, k := range n.kids {
		if k.hasUsed() {
			return true
		}
	}
	return false
}

// unusedLeaves lists the paths of leaves under n not consumed.
func (n *xnode) unusedLeaves(prefix string, out []string) []string {
	p := prefix + "/" + n.local
	if len(n.kids) == 0 {
		if !n.used {
			out = append(out, p)
		}
		return out
	}
	for _, k := range n.kids {
		out = k.unusedLeaves(p, out)
	}
	return out
}

// xmlWriter serialises element trees with fixed prefixes per namespace.
type xmlWriter struct {
	buf      bytes.Buffer
	prefixes map[string]string // namespace URI -> prefix
}

func (w *xmlWriter) name(n *xnode) string {
	p := w.prefixes[n.space]
	if p == "" {
		return n.local
	}
	return p + ":" + n.local
}

// declareForeign gives a prefix to every namespace of the tree the writer
// does not know yet (kept-verbatim domain elements such as INT-I's).
func (w *xmlWriter) declareForeign(n *xnode) {
	if n.space == NSINTI && w.prefixes[n.space] == "" {
		w.prefixes[n.space] = "int-i"
	}
	if n.space != "" && w.prefixes[n.space] == "" {
		w.prefixes[n.space] = fmt.Sprintf("ns%d", len(w.prefixes))
	}
	for _, a := range n.attrs {
		if a.Name.Space != "" && a.Name.Space != xmlNS && w.prefixes[a.Name.Space] == "" {
			w.prefixes[a.Name.Space] = fmt.Sprintf("ns%d", len(w.prefixes))
		}
	}
	for _, k := range n.kids {
		w.declareForeign(k)
	}
}

const xmlNS = "http://www.w3.org/XML/1998/namespace"

func (w *xmlWriter) element(n *xnode, depth int, root bool) {
	ind := strings.Repeat("  ", depth)
	w.buf.WriteString(ind + "<" + w.name(n))
	if root {
		uris := make([]string, 0, len(w.prefixes))
		for u := range w.prefixes {
			uris = append(uris, u)
		}
		sort.Slice(uris, func(i, j int) bool { return w.prefixes[uris[i]] < w.prefixes[uris[j]] })
		for _, u := range uris {
			fmt.Fprintf(&w.buf, " xmlns:%s=%q", w.prefixes[u], u)
		}
	}
	for _, a := range n.attrs {
		name := a.Name.Local
		if a.Name.Space == xmlNS {
			name = "xml:" + name
		} else if p := w.prefixes[a.Name.Space]; p != "" {
			name = p + ":" + name
		}
		w.buf.WriteString(" " + name + `="`)
		xml.EscapeText(&w.buf, []byte(a.Value))
		w.buf.WriteString(`"`)
	}
	if len(n.kids) == 0 {
		w.buf.WriteString(">")
		xml.EscapeText(&w.buf, []byte(n.text))
		w.buf.WriteString("</" + w.name(n) + ">\n")
		return
	}
	w.buf.WriteString(">\n")
	for _, k := range n.kids {
		w.element(k, depth+1, false)
	}
	w.buf.WriteString(ind + "</" + w.name(n) + ">\n")
}

// xmlSafe reports whether s can be written as XML character data and read
// back unchanged: valid UTF-8, no characters XML 1.0 forbids, no carriage
// returns (which XML parsers turn into line feeds) and no white space at
// either end (which the reader trims).
func xmlSafe(s string) bool {
	if !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if r == '\r' || (r < 0x20 && r != '\t' && r != '\n') || r == 0xFFFE || r == 0xFFFF || r == utf8.RuneError {
			return false
		}
	}
	return true
}
