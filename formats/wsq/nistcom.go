package wsq

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// This file reads and writes the NISTCOM comment: a COM segment whose text
// is a list of "NAME value" lines, the first being "NIST_COM n" with n the
// number of lines (NIST Special Publication / NBIS NISTCOM convention, used
// by IAFIS-IC-0110 encoders to record the image attributes).

// ParseNISTCOM parses a COM text as a NISTCOM, or returns nil if the text
// does not start with "NIST_COM". Lines without a value map to "".
func ParseNISTCOM(text string) map[string]string {
	if !strings.HasPrefix(text, "NIST_COM") {
		return nil
	}
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r\x00")
		if line == "" {
			continue
		}
		name, value, _ := strings.Cut(line, " ")
		m[name] = strings.TrimSpace(value)
	}
	return m
}

func nistcomPPI(m map[string]string) int {
	v, err := strconv.Atoi(m["PPI"])
	if err != nil || v < 0 {
		return 0
	}
	return v
}

// nistcomOrder is the order NBIS writes the standard attributes in.
var nistcomOrder = []string{"PIX_WIDTH", "PIX_HEIGHT", "PIX_DEPTH", "PPI", "LOSSY", "COLORSPACE", "COMPRESSION", "WSQ_BITRATE"}

// FormatNISTCOM writes attributes as a NISTCOM text: NIST_COM first with
// the line count, then the standard attributes in their usual order, then
// any others sorted by name. Names and values must not hold newlines.
func FormatNISTCOM(attrs map[string]string) (string, error) {
	var names []string
	seen := map[string]bool{"NIST_COM": true}
	for _, n := range nistcomOrder {
		if _, ok := attrs[n]; ok {
			names = append(names, n)
			seen[n] = true
		}
	}
	var rest []string
	for n := range attrs {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	names = append(names, rest...)
	var b strings.Builder
	fmt.Fprintf(&b, "NIST_COM %d", len(names)+1)
	for _, n := range names {
		v := attrs[n]
		if n == "" || strings.ContainsAny(n, " \n\r") || strings.ContainsAny(v, "\n\r") {
			return "", fmt.Errorf("wsq: NISTCOM attribute %q=%q: names are one word, values one line", n, v)
		}
		fmt.Fprintf(&b, "\n%s %s", n, v)
	}
	return b.String(), nil
}
