package exchange

import (
	"encoding/pem"
	"strings"
	"testing"
	"time"
)

func testCreds(t testing.TB) (*NodeCredentials, *NodeCredentials) {
	t.Helper()
	now := time.Now()
	us, _ := NewCA("US", now, time.Hour*24*365)
	gb, _ := NewCA("GB", now, time.Hour*24*365)
	a, err := us.IssueNode("us-node", []string{"127.0.0.1"}, now, time.Hour*24*30)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gb.IssueNode("gb-node", []string{"127.0.0.1"}, now, time.Hour*24*30)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestAgreementValidation(t *testing.T) {
	us, gb := testCreds(t)
	good := func() *Agreement { return DefaultAgreement("US-GB-1", us.Party(""), gb.Party("https://127.0.0.1:1")) }
	a := good()
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	raw, _ := a.Marshal()
	back, err := ParseAgreement(raw)
	if err != nil {
		t.Fatal(err)
	}
	if back.Searches[Latent].CandidateCap != 10 || back.Searches[Tenprint].CandidateCap != 1 || back.Partner("US").State != "GB" {
		t.Fatalf("round trip %+v", back)
	}
	// Prüm defaults fill in when caps, allow-list and deadlines are left out.
	a = good()
	a.Searches = map[SearchType]SearchRule{Latent: {DailyQuota: 5}}
	a.Disclosure, a.Deadlines = nil, Deadlines{}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.Searches[Latent].CandidateCap != 10 || len(a.Disclosure) != 4 || time.Duration(a.Deadlines.Step2) != 48*time.Hour {
		t.Fatalf("defaults not applied: %+v", a)
	}

	cases := []struct {
		edit func(a *Agreement)
		want string
	}{
		{func(a *Agreement) { a.ID = "" }, "id"},
		{func(a *Agreement) { a.Parties[1] = a.Parties[0] }, "both parties are US"},
		{func(a *Agreement) { a.Parties[0].State = "usa" }, "parties[0].state"},
		{func(a *Agreement) { a.Parties[1].CACert = "junk" }, "parties[1].ca_cert is not a PEM"},
		{func(a *Agreement) { a.Parties[1].CACert = string(pemOf(gb.TLS.Certificate[0])) }, "not a CA certificate"},
		{func(a *Agreement) { a.Parties[0].LogKey = "x" }, "parties[0].log_key"},
		{func(a *Agreement) { a.Purposes = nil }, "no purposes"},
		{func(a *Agreement) { a.Purposes = append(a.Purposes, PurposeRule{Purpose: "tax"}) }, `"tax" is not one of`},
		{func(a *Agreement) { a.Purposes = []PurposeRule{{Purpose: SeriousCrime}} }, "min_offence_years > 0"},
		{func(a *Agreement) { a.Purposes = []PurposeRule{{Purpose: Visa, MinOffenceYears: 2}} }, "takes no min_offence_years"},
		{func(a *Agreement) { a.Modalities = nil }, "no modalities"},
		{func(a *Agreement) { a.Modalities = append(a.Modalities, "smell") }, `modalities[1] "smell" unknown`},
		{func(a *Agreement) { a.Searches[FaceSearch] = SearchRule{DailyQuota: 1} }, "face searches face, which is not a permitted modality"},
		{func(a *Agreement) { a.Searches["x"] = SearchRule{DailyQuota: 1} }, `search type "x" unknown`},
		{func(a *Agreement) { a.Searches[Latent] = SearchRule{CandidateCap: 500, DailyQuota: 1} }, "candidate_cap 500"},
		{func(a *Agreement) { a.Searches[Latent] = SearchRule{} }, "daily_quota must be at least 1"},
		{func(a *Agreement) { a.Disclosure = []string{"names", "religion"} }, `"religion" is not a disclosable field`},
		{func(a *Agreement) { a.Handling.DestroyAfter = 0 }, "destroy_after must be set"},
		{func(a *Agreement) { a.Retention = Duration(time.Hour) }, "shorter than the step-2 deadline"},
		{func(a *Agreement) { a.Retention = 0 }, "retention must be set"},
	}
	for i, c := range cases {
		a := good()
		c.edit(a)
		err := a.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: error %v, want one mentioning %q", i, err, c.want)
		}
	}
	if _, err := ParseAgreement([]byte(`{"id":"x","unknown_field":1}`)); err == nil || !strings.Contains(err.Error(), "unknown_field") {
		t.Errorf("unknown field: %v", err)
	}
	a = good()
	a.Suspended = true
	if a.InForce(time.Now()) == nil {
		t.Error("suspended agreement in force")
	}
	a = good()
	a.NotAfter = time.Now()
	a.NotBefore = time.Now().Add(-time.Hour)
	if a.InForce(time.Now().Add(time.Second)) == nil {
		t.Error("ended agreement in force")
	}
}

func TestPKISaveLoad(t *testing.T) {
	dir := t.TempDir()
	ca, err := NewCA("MX", time.Now(), time.Hour*24)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Save(dir + "/ca"); err != nil {
		t.Fatal(err)
	}
	ca2, err := LoadCA(dir + "/ca")
	if err != nil || ca2.State != "MX" || !ca2.Cert.Equal(ca.Cert) {
		t.Fatalf("LoadCA: %v", err)
	}
	nc, err := ca2.IssueNode("mx-node", []string{"localhost", "127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Save(dir + "/node"); err != nil {
		t.Fatal(err)
	}
	nc2, err := LoadNode(dir + "/node")
	if err != nil {
		t.Fatal(err)
	}
	if nc2.State != "MX" || nc2.Node != "mx-node" || nc2.LogKey != nc.LogKey || !nc2.SignKey.Equal(nc.SignKey) {
		t.Fatalf("LoadNode: %+v", nc2)
	}
	leaf := nc2.TLS.Certificate[0]
	if len(leaf) == 0 {
		t.Fatal("no TLS certificate")
	}
	if _, err := NewCA("mex", time.Now(), time.Hour); err == nil {
		t.Fatal("bad state code accepted")
	}
}

func pemOf(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}) }
