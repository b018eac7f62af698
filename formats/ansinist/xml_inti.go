package ansinist

import (
	"strings"
	"time"
)

// INTERPOL's INT-I profile (Implementation of ANSI/NIST-ITL 1-2011 Update
// 2015, XML version 06.00) defines the Type-2 record. Its XML form is a
// tree of int-i elements under itl:UserDefinedDescriptiveDetail/
// int-i:DomainDefinedDescriptiveDetail; its traditional form numbers the
// same data 2.004 to 2.096.
//
// Official (INT-I's machine-readable tables, MRT_INT-I_FieldDefinition,
// release 06.00.00): each field's number, mnemonic and element, and the
// order of its information items (2.007-A country, 2.007-B identifier,
// 2.063-A to -D ...). ebsp's own choices, where INT-I gives only the XML
// form: where an element offers a choice or a structure the traditional
// form does not spell out, the items are laid out in the order of the
// table's XML rows (see intiFields); values are the XML text, except
// dates, which take the traditional YYYYMMDD form (INT-I's 2.019 DPR,
// 2.035 DOB), and date-times, which take 1-2011's GMT form YYYYMMDDhhmmssZ
// (or YYYYMMDDhhmmss for a local time). A value that has none of these
// forms is carried as it is. An element with no text has no item and is
// not written back (the reader warns).

// NSINTI is the namespace of INT-I's elements.
const NSINTI = "http://interpol.gov/int-i/1.0"

// intiField maps one INT-I Type-2 field. path is the field's element
// under DomainDefinedDescriptiveDetail. When group is set, each group
// element (a child of path) is one subfield whose first items are
// groupItems; items (children of path) follow in the first subfield
// only. Item paths carry an optional conversion: "@date" (nc:Date text
// YYYY-MM-DD <-> YYYYMMDD) or "@dt" (the element holds nc:Date or
// nc:DateTime; an 8-digit item is a date, anything else a date-time).
// The table is in document order, which the writer follows: the order of
// the samples INT-I publishes where they show it, the table's otherwise.
type intiField struct {
	num        int
	path       string
	group      string
	groupItems []string
	items      []string
}

// Item layouts shared by several fields.
var (
	intiName = []string{"nc:PersonNamePrefixText", "nc:PersonGivenName", "nc:PersonMiddleName", "nc:PersonSurName",
		"nc:PersonNameSuffixText", "nc:PersonMaidenName", "int-i:PersonExtendedName"}
	intiStructured = []string{"nc:StructuredAddress/nc:LocationStreet/nc:StreetNumberText", "nc:StructuredAddress/nc:LocationStreet/nc:StreetName",
		"nc:StructuredAddress/nc:LocationCityName", "nc:StructuredAddress/nc:LocationCountyName", "nc:StructuredAddress/nc:LocationStateName",
		"nc:StructuredAddress/nc:LocationCountryISO3166Alpha3Code", "nc:StructuredAddress/nc:LocationPostalCode"}
	// An address: the full text (X1) or the structured parts (X2-A to G).
	intiAddress = append([]string{"nc:AddressFullText"}, intiStructured...)
	// A country-qualified identifier (2.007, 2.010, 2.011: items A, B).
	intiCountryID = []string{"int-i:LocationCountryISO3166Alpha3Code", "nc:IdentificationID"}
	// A typed miscellaneous identifier (2.012 to 2.016: items A, B).
	intiMiscID = []string{"int-i:MiscIDType", "nc:IdentificationID"}
)

func prefixed(pfx string, items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = pfx + "/" + it
	}
	return out
}

const (
	intiAct   = "int-i:RecordActivity/"
	intiSubj  = "int-i:RecordSubject/"
	intiOff   = "int-i:RecordOffence/"
	intiCivil = "int-i:RecordCivil/"
	intiMeta  = "int-i:RecordMetadata/"
	intiMisc  = "int-i:RecordMetadata/int-i:MiscellaneousIdentification/"
	intiResp  = "int-i:TransactionResponseData/"
	intiTMeta = "int-i:TransactionMetadata/"
)

var intiFields = []intiField{
	{19, intiAct + "b:RecordCreationDate", "", nil, []string{".@dt"}}, // DPR
	{23, intiAct + "int-i:CaptureOrganization", "", nil, append([]string{"nc:OrganizationIdentification/nc:IdentificationID", // OBU
		"nc:OrganizationName"}, prefixed("nc:LocationAddress", intiAddress)...)},
	{35, intiSubj + "nc:PersonBirthDate", "", nil, []string{"nc:Date@date"}},                             // DOB
	{37, intiSubj + "nc:PersonBirthLocation/nc:LocationAddress", "", nil, intiAddress},                   // POB
	{38, intiSubj + "nc:PersonCitizenshipISO3166Alpha3Code", "", nil, []string{"."}},                     // NAT
	{34, intiSubj + "int-i:PersonAliases", "int-i:PersonName", intiName, nil},                            // AKA
	{36, intiSubj + "int-i:PersonBirthDateRange", "", nil, []string{"nc:StartDate@dt", "nc:EndDate@dt"}}, // DBR
	{75, intiSubj + "int-i:PersonFather", "", nil, intiName},                                             // FFN
	{76, intiSubj + "int-i:PersonMother", "", nil, intiName},                                             // MMN
	{30, intiSubj + "int-i:PersonName", "", nil, intiName},                                               // NAM
	{39, intiSubj + "int-i:PersonSexCode", "", nil, []string{"."}},                                       // SEX
	{21, intiOff + "int-i:OffenceDescriptionCode", "", nil, []string{"."}},                               // RFP
	{54, intiOff + "int-i:OffenceDescriptionText", "", nil, []string{"."}},                               // OTY
	{55, intiOff + "int-i:OffenceDateTime", "", nil, []string{".@dt"}},                                   // DOO
	{56, intiOff + "int-i:OffenceDateTimeRange", "", nil, []string{"nc:StartDate@dt", "nc:EndDate@dt"}},  // DOR
	{22, intiOff + "int-i:ArrestLocation/nc:LocationAddress", "", nil, intiAddress},                      // POA
	{95, intiCivil + "int-i:CivilDescriptionCode", "", nil, []string{"."}},                               // CRF
	{96, intiCivil + "int-i:CivilDescriptionText", "", nil, []string{"."}},                               // COT
	{4, intiMeta + "int-i:RecordCreationDate", "", nil, []string{".@dt"}},                                // DAR
	{5, intiMeta + "int-i:RecordLastUpdateDate", "", nil, []string{".@dt"}},                              // DLU
	{90, intiMisc + "int-i:InterpolReferenceNumber", "", nil, []string{"."}},                             // IRN
	{91, intiMisc + "int-i:NationalPersonInquiryIdentifier", "", nil, []string{"."}},                     // NPI
	{10, intiMisc + "int-i:NationalPersonIdentifier", "", nil, intiCountryID},                            // CRN
	{7, intiMisc + "int-i:NationalCaseIdentifier", "", nil, intiCountryID},                               // CNO
	{8, intiMisc + "int-i:LatentCaseEvidenceIdentifier", "", nil, []string{"."}},                         // SQN
	{9, intiMisc + "int-i:LatentIdentifier", "", nil, []string{"."}},                                     // MID
	{93, intiMisc + "int-i:LatentUniqueIdentifier", "", nil, []string{"."}},                              // LID
	{11, intiMisc[:len(intiMisc)-1], "int-i:NationalBusinessReference", intiCountryID, nil},              // ORN
	{12, intiMisc + "int-i:MiscellaneousIdentificationID1", "", nil, intiMiscID},                         // MN1
	{13, intiMisc + "int-i:MiscellaneousIdentificationID2", "", nil, intiMiscID},                         // MN2
	{14, intiMisc + "int-i:MiscellaneousIdentificationID3", "", nil, intiMiscID},                         // MN3
	{15, intiMisc + "int-i:MiscellaneousIdentificationID4", "", nil, intiMiscID},                         // MN4
	{16, intiMisc + "int-i:MiscellaneousIdentificationID5", "", nil, intiMiscID},                         // MN5
	{63, intiMeta + "int-i:ContactInformation", "", nil, []string{"nc:ContactTelephoneNumber/nc:FullTelephoneNumber/nc:TelephoneNumberFullID", // INF
		"nc:OrganizationName", "nc:PersonFullName", "int-i:AdditionalContactInformationText"}},
	{92, intiMeta + "nc:ExpirationDate", "", nil, []string{"nc:Date@date"}}, // EXP
	// RLS: the candidates (2.064-A CSI, -B MVI) are the repeated part;
	// -C CTQ, -D CAC, -E SRC follow them in the first subfield.
	{64, intiResp + "int-i:RespondentsList", "int-i:TransactionCandidate",
		[]string{"int-i:CandidateSequenceID/nc:IdentificationID", "int-i:TransactionCandidateManualVerificationIndicator"},
		[]string{"int-i:TransactionCandidatesTotalQuantity", "int-i:TransactionCategoryCode", "int-i:TransactionSearchResultsCode"}},
	{74, intiResp + "int-i:ErrorMessage", "", nil, []string{"int-i:ErrorCode", "int-i:ErrorFieldMnemonicCode", "int-i:ErrorMessageText"}},             // ERM
	{77, intiResp + "int-i:LatentMatchingPosition", "", nil, []string{"int-i:LatentMatchingPositionSearch", "int-i:LatentMatchingPositionCandidate"}}, // LMP
	{94, intiTMeta + "int-i:ResultDeterminationMode", "", nil, []string{"."}},                                                                         // RDM
}

// intiFieldByNum indexes intiFields.
var intiFieldByNum = func() map[int]intiField {
	m := make(map[int]intiField, len(intiFields))
	for _, f := range intiFields {
		if _, dup := m[f.num]; dup {
			panic("ansinist: INT-I field mapped twice")
		}
		m[f.num] = f
	}
	return m
}()

// IsINTI reports whether a domain name (1.013 DOM, first item) is
// INTERPOL's INT-I.
func IsINTI(domain string) bool {
	return strings.HasPrefix(strings.ToUpper(strings.TrimSpace(domain)), "INT-I")
}

// Paths of the Type-2 user-defined container (2-2008 | 2011) and of the
// domain-defined detail inside it.
const (
	type2Container = "itl:UserDefinedDescriptiveText|itl:UserDefinedDescriptiveDetail"
	intiDomainPath = type2Container + "/int-i:DomainDefinedDescriptiveDetail"
)

// ---------------------------------------------------------------- reading

// intiType2 reads the INT-I domain tree of a Type-2 record into fields.
func (d *xmlReader) intiType2(rn *xnode, r *Record) {
	// INT-I's table writes some paths with itl:DomainDefinedDescriptiveDetail
	// (the abstract element INT-I's substitutes): take either, provided
	// the content is INT-I's.
	dd := rn.walk(parsePath(intiDomainPath))
	if dd == nil || (dd.space != NSINTI && (len(dd.kids) == 0 || dd.kids[0].space != NSINTI)) {
		return
	}
	dd.used = true
	for _, s := range intiFields {
		if f := d.intiField(dd, s); f != nil {
			r.Set(f)
		}
	}
}

// intiAltPaths are where INT-I's table (rather than its samples) puts
// some elements; the reader accepts both.
var intiAltPaths = map[int]string{
	8:  intiMeta + "int-i:LatentCaseEvidenceIdentifier",
	9:  intiMeta + "int-i:LatentIdentifier",
	93: intiMeta + "int-i:LatentUniqueIdentifier",
}

func (d *xmlReader) intiField(dd *xnode, s intiField) *Field {
	fe := dd.walk(parsePath(s.path))
	if fe == nil && intiAltPaths[s.num] != "" {
		fe = dd.walk(parsePath(intiAltPaths[s.num]))
	}
	if fe == nil {
		return nil
	}
	first, found := d.intiItems(fe, s.items, s.num)
	var groups []*xnode
	if s.group != "" {
		groups = fe.find(parsePath(s.group)[0])
	}
	f := &Field{Number: s.num}
	for i, g := range groups {
		sub, ok := d.intiItems(g, s.groupItems, s.num)
		if !ok {
			continue
		}
		if i == 0 {
			sub = append(sub, first...)
		}
		f.Subfields = append(f.Subfields, trimItems(sub))
	}
	if len(f.Subfields) == 0 {
		if !found {
			return nil
		}
		sub := append(make(Subfield, len(s.groupItems)), first...)
		f.Subfields = append(f.Subfields, trimItems(sub))
	}
	return f
}

// trimItems drops trailing empty items (absent elements), keeping one.
func trimItems(s Subfield) Subfield {
	n := len(s)
	for n > 1 && s[n-1] == "" {
		n--
	}
	return s[:n]
}

// intiItems reads the items under n; found tells whether any had a value.
func (d *xmlReader) intiItems(n *xnode, items []string, num int) (Subfield, bool) {
	sub := make(Subfield, len(items))
	found := false
	for i, it := range items {
		p, conv, _ := strings.Cut(it, "@")
		leaf := n.walk(parsePath(p))
		if leaf == nil {
			continue
		}
		if conv == "dt" {
			v, ok := d.intiDateTime(leaf, num)
			if ok {
				sub[i], found = v, true
				leaf.used = true
			}
			continue
		}
		if len(leaf.kids) > 0 || leaf.text == "" {
			continue // no value: reported as dropped if nothing else takes it
		}
		leaf.markUsed()
		v := leaf.text
		if conv == "date" {
			v = d.fromXML("date", v, 2, num)
		}
		sub[i], found = v, true
	}
	return sub, found
}

// intiDateTime reads an element holding nc:Date or nc:DateTime.
func (d *xmlReader) intiDateTime(n *xnode, num int) (string, bool) {
	for _, k := range n.kids {
		if k.text == "" || len(k.kids) > 0 {
			continue
		}
		switch k.local {
		case "Date":
			k.markUsed()
			if t, err := time.Parse("2006-01-02", k.text); err == nil {
				return t.Format("20060102"), true
			}
			d.warn("field 2.%03d: date %q not YYYY-MM-DD; kept as is, and written back as a DateTime", num, k.text)
			return k.text, true
		case "DateTime":
			k.markUsed()
			v, ok := dateTimeToTrad(k.text)
			if !ok {
				if isDigits(k.text) && len(k.text) == 8 {
					d.warn("field 2.%03d: date-time %q will be written back as a Date", num, k.text)
				}
				return k.text, true
			}
			return v, true
		}
	}
	return "", false
}

// dateTimeToTrad turns an xs:dateTime in UTC ("Z") or without a zone into
// YYYYMMDDhhmmssZ or YYYYMMDDhhmmss.
func dateTimeToTrad(v string) (string, bool) {
	if t, err := time.Parse("2006-01-02T15:04:05Z", v); err == nil && t.Format("2006-01-02T15:04:05Z") == v {
		return t.Format("20060102150405Z"), true
	}
	if t, err := time.Parse("2006-01-02T15:04:05", v); err == nil && t.Format("2006-01-02T15:04:05") == v {
		return t.Format("20060102150405"), true
	}
	return "", false
}

// tradToDateTime is the inverse of dateTimeToTrad; other values are
// returned unchanged.
func tradToDateTime(v string) string {
	if t, err := time.Parse("20060102150405Z", v); err == nil && t.Format("20060102150405Z") == v {
		return t.Format("2006-01-02T15:04:05Z")
	}
	if t, err := time.Parse("20060102150405", v); err == nil && t.Format("20060102150405") == v {
		return t.Format("2006-01-02T15:04:05")
	}
	return v
}

// ---------------------------------------------------------------- writing

// intiFits reports whether f can be written as INT-I elements and read
// back unchanged.
func intiFits(f *Field, s intiField) bool {
	if f.IsData() || len(f.Subfields) == 0 || (s.group == "" && len(f.Subfields) != 1) {
		return false
	}
	ng := len(s.groupItems)
	for i, sub := range f.Subfields {
		limit := ng
		if i == 0 {
			limit += len(s.items)
		}
		if len(sub) > limit || len(sub) == 0 || (len(sub) > 1 && sub[len(sub)-1] == "") {
			return false // more items than elements, or a trailing empty item
		}
		any, anyGroup := false, false
		for k, v := range sub {
			if v == "" {
				continue
			}
			if !xmlSafe(v) {
				return false
			}
			any = true
			if k < ng {
				anyGroup = true
			}
			p := ""
			if k < ng {
				p = s.groupItems[k]
			} else {
				p = s.items[k-ng]
			}
			if strings.HasSuffix(p, "@date") {
				if _, ok := toXML("date", v); !ok {
					return false
				}
			}
			if strings.HasSuffix(p, "@dt") && len(v) == 8 && isDigits(v) {
				if _, ok := toXML("date", v); !ok {
					return false
				}
			}
		}
		// Each subfield must come back: the first through any value,
		// later ones through their group element.
		if !any || (i > 0 && !anyGroup) || (i == 0 && s.group != "" && len(f.Subfields) > 1 && !anyGroup) {
			return false
		}
	}
	return true
}

// intiType2 writes the Type-2 fields INT-I defines as its domain tree and
// marks them done. It returns whether anything was written.
func (e *xmlEncoder) intiType2(rn *xnode, r *Record, done map[int]bool) bool {
	var todo []intiField
	for _, s := range intiFields {
		if f := r.Field(s.num); f != nil && !done[s.num] && intiFits(f, s) {
			todo = append(todo, s)
		}
	}
	if len(todo) == 0 {
		return false
	}
	dd := e.path(rn, parsePath(intiDomainPath))
	for _, s := range todo {
		f := r.Field(s.num)
		fe := e.path(dd, parsePath(s.path))
		ng := len(s.groupItems)
		// The repeated elements come first, then the field's own ones.
		for _, sub := range f.Subfields {
			if s.group != "" && anyValue(sub[:min(ng, len(sub))]) {
				g := e.child(fe, segment{alts: []string{s.group}, fresh: true})
				g.newAlways = true
				e.intiWriteItems(g, s.groupItems, sub[:min(ng, len(sub))])
			}
		}
		if sub := f.Subfields[0]; len(sub) > ng {
			e.intiWriteItems(fe, s.items, sub[ng:])
		}
		done[s.num] = true
	}
	return true
}

func anyValue(s Subfield) bool {
	for _, v := range s {
		if v != "" {
			return true
		}
	}
	return false
}

func (e *xmlEncoder) intiWriteItems(n *xnode, items []string, sub Subfield) {
	for k, v := range sub {
		if v == "" {
			continue
		}
		p, conv, _ := strings.Cut(items[k], "@")
		leaf := e.path(n, parsePath(p))
		switch conv {
		case "date":
			leaf.text, _ = toXML("date", v)
		case "dt":
			if len(v) == 8 && isDigits(v) {
				e.path(leaf, parsePath("nc:Date")).text, _ = toXML("date", v)
			} else {
				e.path(leaf, parsePath("nc:DateTime")).text = tradToDateTime(v)
			}
		default:
			leaf.text = v
		}
	}
}
