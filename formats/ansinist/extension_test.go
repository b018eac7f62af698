package ansinist

import "testing"

// extensionMisplaced lists the ebsp elements of an XML document (2011
// edition) that stand where the 1-2011 schema has no extension point for
// them (see extension.xsd): an ebsp:Field must be a record's
// itl:UserDefinedFields (right after ImageReferenceIdentification, before
// any standard element) or inside ebsp's Type-2 detail containers, which
// must be the domain-defined detail (first) or other details of
// itl:UserDefinedDescriptiveDetail.
func extensionMisplaced(root *xnode) []string {
	var bad []string
	for _, rec := range root.kids {
		if rec.space == NSExtension {
			if rec.local != "Record" {
				bad = append(bad, "root/"+rec.local)
			}
			continue
		}
		// Data records: ebsp:Field only in one run right after the IDC.
		state := 0 // 0: before IDC, 1: in the extension run, 2: after it
		for i, k := range rec.kids {
			switch {
			case k.local == "ImageReferenceIdentification" || (i == 0 && k.local == "RecordCategoryCode"):
				state = 1
			case k.space == NSExtension && k.local == "Field":
				if state != 1 || rec.local == "PackageInformationRecord" {
					bad = append(bad, rec.local+"/ebsp:Field "+attr(k, "tag"))
				}
			case k.space == NSExtension:
				bad = append(bad, rec.local+"/ebsp:"+k.local)
			default:
				state = 2
				bad = append(bad, misplacedBelow(k, rec.local)...)
			}
		}
	}
	return bad
}

func misplacedBelow(n *xnode, path string) []string {
	path += "/" + n.local
	var bad []string
	for i, k := range n.kids {
		if k.space != NSExtension {
			bad = append(bad, misplacedBelow(k, path)...)
			continue
		}
		ok := false
		switch k.local {
		case "DomainDefinedDescriptiveDetail":
			ok = n.local == "UserDefinedDescriptiveDetail" && i == 0
		case "OtherDescriptiveDetail":
			ok = n.local == "UserDefinedDescriptiveDetail" && i > 0
		}
		for _, f := range k.kids {
			ok = ok && f.space == NSExtension && f.local == "Field"
		}
		if !ok {
			bad = append(bad, path+"/ebsp:"+k.local)
		}
	}
	return bad
}

func attr(n *xnode, name string) string {
	for _, a := range n.attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// TestExtensionSchema checks that extension.xsd declares every element
// and attribute the writer uses.
func TestExtensionSchema(t *testing.T) {
	root, err := parseXML(ExtensionSchema)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	var walk func(n *xnode)
	walk = func(n *xnode) {
		if n.local == "element" || n.local == "attribute" {
			declared[attr(n, "name")] = true
		}
		if n.local == "element" && attr(n, "substitutionGroup") != "" {
			declared[attr(n, "name")+" in "+attr(n, "substitutionGroup")] = true
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(root)
	for _, want := range []string{"Field in itl:UserDefinedFields", "DomainDefinedDescriptiveDetail in itl:DomainDefinedDescriptiveDetail",
		"OtherDescriptiveDetail in itl:OtherDescriptiveDetail", "Record in itl:PackageDataRecord", "Raw", "Data", "Subfield", "Item", "tag", "encoding"} {
		if !declared[want] {
			t.Errorf("extension.xsd does not declare %s", want)
		}
	}
	if attr(root, "targetNamespace") != NSExtension {
		t.Errorf("extension.xsd target namespace %q, want %q", attr(root, "targetNamespace"), NSExtension)
	}
	// The checker itself must catch a misplaced field.
	bad := &xnode{local: "NISTBiometricInformationExchangePackage", kids: []*xnode{{local: "PackageFingerprintImageRecord", kids: []*xnode{
		{local: "RecordCategoryCode"}, {local: "ImageReferenceIdentification"}, {local: "FingerImpressionImage"},
		{space: NSExtension, local: "Field", attrs: nil}}}}}
	if got := extensionMisplaced(bad); len(got) != 1 {
		t.Errorf("misplaced field not caught: %v", got)
	}
}
