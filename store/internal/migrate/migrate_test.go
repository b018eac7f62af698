package migrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("CREATE TABLE b (x);")},
		"m/0001_init.sql": {Data: []byte("CREATE TABLE a (x);")},
		"m/README":        {Data: []byte("not a migration")},
	}
	ms, err := Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 1 || ms[1].Version != 2 || ms[1].Name != "0002_more.sql" || !strings.Contains(ms[0].SQL, "TABLE a") {
		t.Fatalf("Load = %+v", ms)
	}
	p, err := Pending(ms, 1)
	if err != nil || len(p) != 1 || p[0].Version != 2 {
		t.Fatalf("Pending(1) = %+v, %v", p, err)
	}
	if p, err := Pending(ms, 2); err != nil || len(p) != 0 {
		t.Fatalf("Pending(2) = %+v, %v", p, err)
	}
	if _, err := Pending(ms, 3); err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("Pending(3) = %v, want a refusal", err)
	}
}

func TestLoadRejects(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"gap":       {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"repeat":    {"m/0001_a.sql": {}, "m/01_b.sql": {}},
		"no number": {"m/init.sql": {}},
		"zero":      {"m/0000_a.sql": {}},
		"empty":     {"m/README": {}},
	} {
		if ms, err := Load(fsys, "m"); err == nil {
			t.Errorf("%s: Load = %+v, want an error", name, ms)
		}
	}
}
