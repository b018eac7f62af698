package partnership

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/node"
)

// copyTree copies the regular files under src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBackupRestore follows docs/deploy.md's backup of a stopped node (the
// data directory: store and transparency log) and restores it into a fresh
// directory: the restored log verifies against every checkpoint the
// partner kept (and a stale copy does not), and the restored store holds
// the records.
func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	p, us, gb := startUSGB(t, 5)
	defer p.Close()
	for i := range 3 {
		if _, err := us.Operator.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: "GB", Purpose: "border_screening",
			LegalBasis: "test", Officer: "o-1", Samples: personSamples(t, i, 2)}); err != nil {
			t.Fatal(err)
		}
	}
	var kept []audit.SignedCheckpoint
	for i, c := range us.Node.PartnerCheckpoints("GB") {
		kept = append(kept, audit.SignedCheckpoint{Source: fmt.Sprintf("US kept #%d", i), Signed: c})
	}
	if len(kept) == 0 {
		t.Fatal("the US kept no checkpoint of GB's log")
	}
	src := filepath.Dir(gb.LogDir)
	gb.Close() // backup of a stopped node
	restored := filepath.Join(t.TempDir(), "GB-restored")
	copyTree(t, src, restored)

	e, err := audit.LoadExport(filepath.Join(restored, "audit"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(gb.LogPubKey)
	if err != nil {
		t.Fatal(err)
	}
	if rep := e.Verify("restored", v, kept); !rep.OK() {
		t.Fatalf("restored log against the US's checkpoints: %v", rep.Problems)
	}
	// A stale backup (the last two leaves missing) is caught by the
	// checkpoints the partner kept.
	stale := &audit.Export{Leaves: e.Leaves[:len(e.Leaves)-2]}
	if rep := stale.Verify("stale", v, kept); rep.OK() {
		t.Fatal("a log missing its last leaves verified against the partner's checkpoints")
	}
	cfg := &node.Config{State: "GB", DataDir: restored, Store: "sqlite"}
	st, err := node.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if ids, _, err := st.Counts(ctx); err != nil || ids != 5 {
		t.Fatalf("restored store: %d identities, %v; want 5", ids, err)
	}
	if rec, err := st.Identity(ctx, "GB-3"); err != nil || len(rec.Samples) != 2 {
		t.Fatalf("restored GB-3: %+v %v", rec, err)
	}
}
