package node

import (
	"io"
	"net/http"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/ebsp/ebsp/audit"
)

// get fetches path with role's token and returns status and body.
func (tn *testNode) get(t *testing.T, role Role, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", tn.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+roleTokens[role])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	observe("GET", path, resp.StatusCode)
	return resp.StatusCode, b
}

// nodeTiles is a tlog.TileReader over the node's /v1/audit/tile/ API, as a
// witness would use it.
type nodeTiles struct {
	t  *testing.T
	tn *testNode
}

func (r nodeTiles) Height() int { return audit.TileHeight }

func (r nodeTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		st, b := r.tn.get(r.t, RoleAuditor, "/v1/audit/"+audit.TilePath(tile))
		if st != 200 {
			r.t.Fatalf("%s: %d %s", audit.TilePath(tile), st, b)
		}
		out[i] = b
	}
	return out, nil
}

func (nodeTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// TestAuditTilesServed: the checkpoint and tiles a node serves let a
// witness, holding only the log's key, prove leaves and an older checkpoint
// against the latest one.
func TestAuditTilesServed(t *testing.T) {
	tn := newTestNode(t, nil)
	if st, _ := tn.get(t, RoleAuditor, "/v1/audit/checkpoint"); st != 404 {
		t.Fatalf("checkpoint of a node without a log: %d, want 404", st)
	}
	now := time.Now().Add(-time.Hour)
	creds, lg := enableTestExchange(t, tn, now, 365*24*time.Hour)
	v, err := note.NewVerifier(creds.LogKey)
	if err != nil {
		t.Fatal(err)
	}
	leaves := func(from, n int) []audit.Leaf {
		out := make([]audit.Leaf, n)
		for i := range out {
			out[i] = audit.Leaf{Time: now.Add(time.Duration(from+i) * time.Second), Kind: audit.KindRequestSent, Partner: "GB"}
		}
		return out
	}
	if _, err := lg.Append(leaves(0, 300)...); err != nil {
		t.Fatal(err)
	}
	old, _, _ := lg.Checkpoint()
	if _, err := lg.Append(leaves(300, 400)...); err != nil {
		t.Fatal(err)
	}
	lg.AppendUnsynced(leaves(700, 1)...) // not durable: in no tile served

	st, signed := tn.get(t, RoleAuditor, "/v1/audit/checkpoint")
	if st != 200 {
		t.Fatalf("checkpoint: %d %s", st, signed)
	}
	cp, err := audit.OpenCheckpoint(signed, v)
	if err != nil || cp.Size != 700 {
		t.Fatalf("checkpoint %+v: %v", cp, err)
	}
	hashes := tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: cp.Hash}, nodeTiles{t, tn})
	for _, i := range []int64{0, 255, 256, 511, 699} {
		p, err := tlog.ProveRecord(cp.Size, i, hashes)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := lg.Leaf(i)
		if err := audit.CheckInclusion(cp, i, leaf, p); err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
	}
	oc, _ := audit.OpenCheckpoint(old, v)
	if h, err := tlog.TreeHash(oc.Size, hashes); err != nil || h != oc.Hash {
		t.Fatalf("older checkpoint not consistent with the tiles: %v", err)
	}

	for _, c := range []struct {
		path string
		want int
	}{
		{"/v1/audit/tile/0/001", 200},
		{"/v1/audit/tile/0/002.p/188", 200},
		{"/v1/audit/tile/0/002.p/189", 404}, // leaf 700 is not durable
		{"/v1/audit/tile/0/003", 404},
		{"/v1/audit/tile/1/000.p/3", 404},
		{"/v1/audit/tile/1/000.p/2", 200},
		{"/v1/audit/tile/entries/000", 404},
		{"/v1/audit/tile/0/1", 400},
		{"/v1/audit/tile/0/000.p/256", 400},
		{"/v1/audit/tile/x/000", 400},
	} {
		if st, b := tn.get(t, RoleAuditor, c.path); st != c.want {
			t.Errorf("%s: %d %s, want %d", c.path, st, b, c.want)
		}
	}
	lg.Close()
	if st, _ := tn.get(t, RoleAuditor, "/v1/audit/tile/0/001"); st != 503 {
		t.Errorf("tile of a closed log: %d, want 503", st)
	}
}
