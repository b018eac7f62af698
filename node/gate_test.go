package node

import "testing"

// The examiner gate opens for a certificate examiner only with the node's
// secret for that name, and only when the name has the examiner role.
func TestCertificateExaminerGate(t *testing.T) {
	a, err := newAuthenticator(&Config{TLS: &TLSConfig{ClientRoles: map[string][]Role{
		"examiner-7": {RoleExaminer}, "post-17": {RoleSearcher}}}})
	if err != nil {
		t.Fatal(err)
	}
	gate := examinerAuth{a}
	for _, c := range []struct {
		name, examiner, secret string
		want                   bool
	}{
		{"certificate examiner with the node's secret", "cert:examiner-7", a.certGate("cert:examiner-7"), true},
		{"wrong secret", "cert:examiner-7", a.certGate("cert:post-17"), false},
		{"empty secret", "cert:examiner-7", "", false},
		{"certificate without the examiner role", "cert:post-17", a.certGate("cert:post-17"), false},
		{"unknown certificate", "cert:nobody", a.certGate("cert:nobody"), false},
		{"a token principal of the same name", "examiner-7", a.certGate("examiner-7"), false},
	} {
		if got := gate.Authenticate(c.examiner, c.secret); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	other, _ := newAuthenticator(&Config{})
	if other.certGate("cert:examiner-7") == a.certGate("cert:examiner-7") {
		t.Error("two processes share the gate key")
	}
}
