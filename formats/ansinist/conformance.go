package ansinist

import "fmt"

// mandatory lists the fields ANSI/NIST-ITL 1-2011 requires in each record
// type (the "M" rows of its field tables, sections 8.1 to 8.99), besides
// LEN and IDC. Binary records (Types 3-8) are complete by construction.
var mandatory = map[int][]int{
	1:  {2, 3, 4, 5, 7, 8, 9, 11, 12},
	9:  {3, 4},
	10: {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, DataField},
	13: {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, DataField},
	14: {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, DataField},
	15: {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, DataField},
	17: {3, 4, 6, 7, 8, 9, 10, 11, 12, DataField},
	99: {4, 5, 100, 101, 103, 104, DataField},
}

// Conformance lists the mandatory fields the transaction lacks. Missing
// mandatory fields do not stop Encode, whose checks are those a reader
// needs to parse the result (see Validate): real transactions lack some
// (three files of the shared test set do), and a writer that refused them
// could not pass them on unchanged. The readers report these as warnings.
func (t *Transaction) Conformance() []Warning {
	var out []Warning
	for i, r := range t.Records {
		if r.Raw != nil {
			continue
		}
		for _, n := range mandatory[r.Type] {
			if r.Field(n) == nil {
				m := Mnemonic(r.Type, n, "")
				out = append(out, Warning{Offset: -1, Record: i, Msg: fmt.Sprintf("mandatory field %d.%03d %s missing", r.Type, n, m)})
			}
		}
		if r.Type != 1 && r.Field(1) != nil && r.Field(2) == nil {
			out = append(out, Warning{Offset: -1, Record: i, Msg: fmt.Sprintf("mandatory field %d.002 IDC missing", r.Type)})
		}
	}
	return out
}
