package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/exchange"
)

func TestPKICommand(t *testing.T) {
	dir := t.TempDir()
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	stdout := os.Stdout
	os.Stdout = devnull
	defer func() { os.Stdout = stdout }()
	p := func(s ...string) string { return filepath.Join(append([]string{dir}, s...)...) }
	for _, args := range [][]string{
		{"init", "--state", "US", "--out", p("us-ca")},
		{"init", "--state", "GB", "--out", p("gb-ca")},
		{"node", "--ca", p("us-ca"), "--name", "us-node", "--out", p("us-node")},
		{"node", "--ca", p("gb-ca"), "--name", "gb-node", "--host", "127.0.0.1", "--out", p("gb-node"), "--json"},
		{"agreement", "--id", "US-GB-T", "--a", p("us-node"), "--b", p("gb-node"), "--endpoint-b", "https://127.0.0.1:9", "--out", p("ag.json")},
	} {
		if rc := runPKI(args); rc != 0 {
			t.Fatalf("ebsp pki %v: exit %d", args, rc)
		}
	}
	a, err := exchange.LoadAgreement(p("ag.json"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Partner("US").Node != "gb-node" || a.Partner("US").Endpoint != "https://127.0.0.1:9" {
		t.Fatalf("agreement parties %+v", a.Parties)
	}
	if _, err := exchange.LoadNode(p("gb-node")); err != nil {
		t.Fatal(err)
	}
	if rc := runPKI([]string{"init", "--state", "usa", "--out", p("bad")}); rc != 1 {
		t.Fatalf("bad state: exit %d", rc)
	}
}
