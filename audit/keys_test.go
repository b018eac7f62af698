package audit

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

func keyPair(t *testing.T, origin string) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := GenerateKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

func verifier(t *testing.T, vkey string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// rotatedLog is a log in dir of n leaves under a first key, then a log-key
// rotation to a second key and its key_rotation leaf (leaf n). It returns
// the log, open under the second key, both keys and the checkpoint the
// first key signed of the first n leaves.
func rotatedLog(t *testing.T, dir, origin string, n int) (l *Log, s1 note.Signer, k1 string, s2 note.Signer, k2 string, cp1 []byte) {
	t.Helper()
	s1, k1 = keyPair(t, origin)
	s2, k2 = keyPair(t, origin)
	l, err := Open(dir, s1)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, n)
	if cp1, _, err = l.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	rot := &KeyRotation{Use: KeyUseLog, Old: k1, New: k2, NotBefore: time.Now().UTC()}
	if err := rot.Sign(s1); err != nil {
		t.Fatal(err)
	}
	if l, err = Open(dir, s2); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if _, err := l.Append(Leaf{Time: time.Now(), Kind: KindKeyRotation, Rotation: rot}); err != nil {
		t.Fatal(err)
	}
	return l, s1, k1, s2, k2, cp1
}

// TestVerifyAcrossLogKeyRotation: a log whose checkpoint key was rotated
// (the statement signed by the old key, a key_rotation leaf) verifies from
// the first key alone: checkpoints of both keys, and the consistency
// between them. A rotation signed by a key the verifier does not trust is
// reported and introduces nothing; the retired key cannot sign past its
// rotation; several keys can be given instead of the chain.
func TestVerifyAcrossLogKeyRotation(t *testing.T) {
	const origin = "ebsp.test/gb/gb-node/audit"
	l, s1, k1, s2, k2, cp1 := rotatedLog(t, t.TempDir(), origin, 3)
	rot := &KeyRotation{Use: KeyUseLog, Old: k1, New: k2, NotBefore: time.Now().UTC()}
	if err := rot.Sign(s2); err == nil {
		t.Fatal("a rotation signed by the new key instead of the old one")
	}
	fill(t, l, 2)
	cp2, _, err := l.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	kept := []SignedCheckpoint{{Source: "cp1", Signed: cp1}, {Source: "cp2", Signed: cp2}}

	r := Verify(l.Leaves(), verifier(t, k1), kept)
	if !r.OK() || len(r.Keys) != 2 || r.Keys[1] != k2 {
		t.Fatalf("rotated log from the first key: %+v", r)
	}
	// Without the chain the new key's checkpoint does not verify...
	if r := Verify(l.Leaves()[:3], verifier(t, k1), kept[1:]); r.OK() {
		t.Fatal("a checkpoint of the new key verified without the rotation")
	}
	// ...and with both keys given it does, whatever the leaves say.
	if r := VerifyKeys(l.Leaves(), []note.Verifier{verifier(t, k2), verifier(t, k1)}, kept); !r.OK() {
		t.Fatalf("both keys given: %q", r.Problems)
	}

	// The retired key signs a checkpoint of the whole log: refused.
	stale, err := note.Sign(&note.Note{Text: mustParse(t, cp2).Text()}, s1)
	if err != nil {
		t.Fatal(err)
	}
	mustProblem(t, Verify(l.Leaves(), verifier(t, k1), []SignedCheckpoint{{Source: "stale", Signed: stale}}), "retired at leaf 3")

	// A rotation signed by an untrusted key (an attacker's) in a log
	// with the same origin: reported, and its key does not verify.
	s3, k3 := keyPair(t, origin)
	s4, k4 := keyPair(t, origin)
	bad := &KeyRotation{Use: KeyUseLog, Old: k3, New: k4, NotBefore: time.Now().UTC()}
	if err := bad.Sign(s3); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(Leaf{Time: time.Now(), Kind: KindKeyRotation, Rotation: bad}); err != nil {
		t.Fatal(err)
	}
	forged, _ := note.Sign(&note.Note{Text: Checkpoint{Origin: origin, Size: l.Size(), Hash: mustTreeHash(t, l)}.Text()}, s4)
	r = Verify(l.Leaves(), verifier(t, k1), []SignedCheckpoint{{Source: "forged", Signed: forged}})
	mustProblem(t, r, "not a trusted key")
	mustProblem(t, r, "checkpoint forged")

	// A leaf of another kind may not carry a rotation, nor a rotation
	// leaf lack one.
	if _, err := (Leaf{Time: time.Now(), Kind: KindRequest, Rotation: rot}).Encode(); err == nil {
		t.Error("a request leaf with a rotation encoded")
	}
	if _, err := (Leaf{Time: time.Now(), Kind: KindKeyRotation}).Encode(); err == nil {
		t.Error("a key_rotation leaf without its statement encoded")
	}
}

// mustParse reads a signed checkpoint's text without checking signatures.
func mustParse(t *testing.T, signed []byte) Checkpoint {
	t.Helper()
	_, err := note.Open(signed, note.VerifierList())
	var u *note.UnverifiedNoteError
	if !errors.As(err, &u) {
		t.Fatal(err)
	}
	c, err := ParseCheckpoint(u.Note.Text)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustTreeHash(t *testing.T, l *Log) (h [32]byte) {
	t.Helper()
	x, err := l.TreeHash(l.Size())
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// FuzzKeyRotationLeaf: a key_rotation leaf from the wire (a partner's
// PathKeys reply, a log) decodes, and is taken by a ring only if its old
// key is the ring's and signed it; nothing panics.
func FuzzKeyRotationLeaf(f *testing.F) {
	const origin = "ebsp.test/gb/gb-node/audit"
	skey, k1, _ := GenerateKey(origin)
	s1, _ := note.NewSigner(skey)
	_, k2, _ := GenerateKey(origin)
	rot := &KeyRotation{Use: KeyUseLog, Old: k1, New: k2, NotBefore: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	rot.Sign(s1)
	good, _ := Leaf{Time: rot.NotBefore, Kind: KindKeyRotation, Rotation: rot}.Encode()
	f.Add(good)
	f.Add([]byte(`{"time":"2026-06-01T00:00:00Z","kind":"key_rotation","rotation":{"use":"sign","old":"a+1+AQ","new":"b","not_before":"2026-06-01T00:00:00Z","sig":""}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeLeaf(b)
		if err != nil || l.Rotation == nil {
			return
		}
		ring, err := NewKeyRing(k1)
		if err != nil {
			t.Fatal(err)
		}
		if err := ring.Add(0, l.Rotation); err == nil {
			if l.Rotation.Old != k1 || !verifier(t, k1).Verify(l.Rotation.Statement(), l.Rotation.Sig) {
				t.Fatalf("ring took a rotation its key did not sign: %+v", l.Rotation)
			}
		}
	})
}

// TestVerifyTilesAcrossLogKeyRotation: a partner that kept a checkpoint of
// the old key checks it against the log published after the rotation
// (signed by the new key) with both keys; with the old key alone the
// published checkpoint does not verify.
func TestVerifyTilesAcrossLogKeyRotation(t *testing.T) {
	const origin = "ebsp.test/gb/gb-node/audit"
	pub := t.TempDir()
	l, _, k1, _, k2, cp1 := rotatedLog(t, t.TempDir(), origin, 5)
	fill(t, l, 4)
	if err := l.Publish(pub, 0); err != nil {
		t.Fatal(err)
	}
	kept := []SignedCheckpoint{{Source: "cp1", Signed: cp1}}
	src := NewTileSource(context.Background(), pub, "")
	if r := VerifyTilesKeys(src, []note.Verifier{verifier(t, k1), verifier(t, k2)}, kept); !r.OK() || r.Leaves != 10 {
		t.Fatalf("both keys: %+v", r)
	}
	mustProblem(t, VerifyTiles(src, verifier(t, k1), kept), "published checkpoint")
}
