package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/partnership"
	"github.com/ebsp/ebsp/store"
)

// TestExchangeCommands walks step 1 and step 2 with the ebsp exchange
// commands, as an officer at the US node and an examiner at the GB node.
func TestExchangeCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a partnership")
	}
	bin := buildEbsp(t)
	dir := t.TempDir()
	p, err := partnership.Start(t.Context(), partnership.Options{Dir: filepath.Join(dir, "nodes"), Hub: "US", Partners: []string{"GB"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	us, gb := p.Members["US"], p.Members["GB"]
	for i := range 5 {
		if _, err := gb.Operator.Enroll(t.Context(), &node.EnrolRequest{Identity: node.IdentityInput{ID: fmt.Sprintf("GB-%d", i), Names: []string{"Test Person"}},
			Provenance: store.Provenance{LegalBasis: "test"}, Samples: []node.SampleInput{isoSample(t, uint64(300+i), biometric.RightIndex)}}); err != nil {
			t.Fatal(err)
		}
	}
	probe := filepath.Join(dir, "probe.iso")
	if err := os.WriteFile(probe, isoSample(t, 302, biometric.RightIndex).Data, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(m *partnership.Member, c *node.Client, args ...string) string {
		cmd := exec.Command(bin, append([]string{"exchange"}, args...)...)
		cmd.Env = append(os.Environ(), "EBSP_NODE="+m.URL, "EBSP_TOKEN="+c.Token, "EBSP_TOKEN_FILE=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ebsp exchange %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	var hit struct{ Outcome, Reference string }
	out := run(us, us.Operator, "search", "--json", "--partner", "GB", "--legal-basis", "test", "--officer", "o-1", "2="+probe)
	if err := json.Unmarshal([]byte(out), &hit); err != nil || hit.Outcome != "hit" {
		t.Fatalf("search: %q %v", out, err)
	}
	var dc node.DisclosureCase
	out = run(us, us.Operator, "disclose", "--json", "--partner", "GB", "--reference", hit.Reference, "--officer", "o-1", "--fields", "names")
	if err := json.Unmarshal([]byte(out), &dc); err != nil || dc.Case == "" {
		t.Fatalf("disclose: %q %v", out, err)
	}
	if out := run(gb, gb.Examiner, "cases"); !strings.Contains(out, dc.Case) || !strings.Contains(out, "GB-2") {
		t.Fatalf("cases: %q", out)
	}
	run(gb, gb.Examiner, "decide", "--confirm", "--candidate", "GB-2", dc.Case)
	var st node.DisclosureStatus
	out = run(us, us.Operator, "status", "--json", "--partner", "GB", dc.Case)
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Release == nil || st.Release.Fields["names"] != "Test Person" {
		t.Fatalf("status: %q %v", out, err)
	}
}
