package audit

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Key rotation. A node replaces its checkpoint key (KeyUseLog) or its
// message-signing key (KeyUseSign) by a statement signed with the old key
// that names the new one, and records the statement as a key_rotation leaf
// of its log. Whoever trusts the old key can then trust the new one
// without a new agreement (KeyRing.Add), and whoever holds checkpoints
// signed by the old key can still verify them: the ring keeps every key
// it was given or introduced to.
//
// A retired checkpoint key is good only for the history before its
// retirement: a checkpoint that only it signs may commit to no more leaves
// than there were before the rotation leaf (its index). So a stolen old
// key cannot sign a fork of the history written after the rotation.

// Key uses in KeyRotation.Use.
const (
	KeyUseLog  = "log"  // the checkpoint key of the log
	KeyUseSign = "sign" // the node's message-signing key (its certificate names it)
)

// KeyRotation is a node's signed statement that it replaced a key. Old and
// New are note verifier keys ("name+hash+base64(0x01||Ed25519 public
// key)"): for a log key, the log's origin is the name; for a signing key,
// the name is the node's signing name and the key's hash doubles as its
// short id. Sig is the Ed25519 signature of the old key over Statement.
type KeyRotation struct {
	Use       string    `json:"use"`
	Old       string    `json:"old"`
	New       string    `json:"new"`
	NotBefore time.Time `json:"not_before"`         // the new key is valid from
	NotAfter  time.Time `json:"not_after,omitzero"` // and until (a signing key: its certificate's)
	Sig       []byte    `json:"sig"`                // by the old key over Statement
}

// rotationDomain separates these signatures from any other use of a key.
const rotationDomain = "ebsp key rotation v1\n"

// Statement returns the bytes the old key signs: a domain line, then one
// line each for the use, the old and the new key, and the validity
// (RFC 3339, UTC; an empty line for no end). Keys and use are printable
// ASCII without newlines (Validate), so the lines cannot run into each
// other.
func (r *KeyRotation) Statement() []byte {
	end := ""
	if !r.NotAfter.IsZero() {
		end = r.NotAfter.UTC().Format(time.RFC3339Nano)
	}
	return []byte(rotationDomain + r.Use + "\n" + r.Old + "\n" + r.New + "\n" + r.NotBefore.UTC().Format(time.RFC3339Nano) + "\n" + end + "\n")
}

// Sign signs the statement with the old key's signer.
func (r *KeyRotation) Sign(old note.Signer) error {
	if err := r.validateShape(); err != nil {
		return err
	}
	v, _ := note.NewVerifier(r.Old)
	if old.Name() != v.Name() || old.KeyHash() != v.KeyHash() {
		return fmt.Errorf("audit: key rotation: the signer %s+%08x is not the old key %s", old.Name(), old.KeyHash(), r.Old)
	}
	sig, err := old.Sign(r.Statement())
	if err != nil {
		return fmt.Errorf("audit: signing the key rotation: %v", err)
	}
	r.Sig = sig
	return nil
}

// validateShape checks the fields, not the signature.
func (r *KeyRotation) validateShape() error {
	if r.Use != KeyUseLog && r.Use != KeyUseSign {
		return fmt.Errorf("audit: key rotation: use %q is neither %q nor %q", r.Use, KeyUseLog, KeyUseSign)
	}
	var names [2]string
	for i, k := range []string{r.Old, r.New} {
		if len(k) > maxFieldLen || strings.ContainsAny(k, "\n\r") {
			return fmt.Errorf("audit: key rotation: key %q too long or not one line", k)
		}
		v, err := note.NewVerifier(k)
		if err != nil {
			return fmt.Errorf("audit: key rotation: %v", err)
		}
		names[i] = v.Name()
	}
	if r.Old == r.New {
		return errors.New("audit: key rotation: old and new key are the same")
	}
	if names[0] != names[1] {
		return fmt.Errorf("audit: key rotation: the new key is named %q, the old one %q", names[1], names[0])
	}
	if r.NotBefore.IsZero() || (!r.NotAfter.IsZero() && !r.NotAfter.After(r.NotBefore)) {
		return errors.New("audit: key rotation: validity must start, and end after it starts")
	}
	return nil
}

// Check verifies the statement's shape and that the old key signed it.
func (r *KeyRotation) Check() error {
	if err := r.validateShape(); err != nil {
		return err
	}
	v, _ := note.NewVerifier(r.Old)
	if !v.Verify(r.Statement(), r.Sig) {
		return fmt.Errorf("audit: key rotation to %s: the signature does not verify with the old key %s", r.New, r.Old)
	}
	return nil
}

// KeyRing holds the checkpoint keys of one log (one origin): the keys a
// verifier was given, and each key a rotation signed by a key of the ring
// introduced, with where the old key retired. Keys are told apart by name
// and key hash, as signed notes name them. It is not safe for concurrent
// use.
type KeyRing struct {
	origin string
	keys   []ringKey
}

type ringKey struct {
	text    string // the verifier key, when known
	v       note.Verifier
	retired int64 // index of the rotation leaf that retired it; -1 while current
}

// NewKeyRing makes a ring of note verifier keys ("name+hash+keydata"),
// all of one log (one name).
func NewKeyRing(keys ...string) (*KeyRing, error) {
	vs := make([]note.Verifier, len(keys))
	for i, s := range keys {
		v, err := note.NewVerifier(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("audit: log key: %v", err)
		}
		vs[i] = v
	}
	k, err := NewKeyRingOf(vs...)
	if err != nil {
		return nil, err
	}
	for i, s := range keys {
		k.keys[i].text = strings.TrimSpace(s)
	}
	return k, nil
}

// NewKeyRingOf makes a ring of verifiers, all of one log (one name).
func NewKeyRingOf(vs ...note.Verifier) (*KeyRing, error) {
	if len(vs) == 0 {
		return nil, errors.New("audit: a key ring needs at least one key")
	}
	k := &KeyRing{origin: vs[0].Name()}
	for _, v := range vs {
		if v.Name() != k.origin {
			return nil, fmt.Errorf("audit: log key %s+%08x is for another log than %q", v.Name(), v.KeyHash(), k.origin)
		}
		if k.find(v.Name(), v.KeyHash()) == nil {
			k.keys = append(k.keys, ringKey{v: v, retired: -1})
		}
	}
	return k, nil
}

func (k *KeyRing) find(name string, hash uint32) *ringKey {
	for i := range k.keys {
		if k.keys[i].v.Name() == name && k.keys[i].v.KeyHash() == hash {
			return &k.keys[i]
		}
	}
	return nil
}

// Origin returns the log's origin (the keys' name).
func (k *KeyRing) Origin() string { return k.origin }

// Keys returns the keys of the ring, in the order they joined it: the
// verifier key where the ring was given it, else "name+hash".
func (k *KeyRing) Keys() []string {
	out := make([]string, len(k.keys))
	for i, r := range k.keys {
		out[i] = r.text
		if r.text == "" {
			out[i] = fmt.Sprintf("%s+%08x", r.v.Name(), r.v.KeyHash())
		}
	}
	return out
}

// Add takes the log-key rotation recorded at leaf index of the log: its
// old key must be in the ring and have signed it. The old key retires at
// index; the new key joins. Rotations of signing keys are not for the
// ring and are refused.
func (k *KeyRing) Add(index int64, r *KeyRotation) error {
	if r.Use != KeyUseLog {
		return fmt.Errorf("audit: rotation of a %s key is not a log key rotation", r.Use)
	}
	if err := r.Check(); err != nil {
		return err
	}
	ov, _ := note.NewVerifier(r.Old)
	old := k.find(ov.Name(), ov.KeyHash())
	// The signature is checked again with the ring's own key, so that a
	// key that only shares the trusted key's name and hash cannot pass.
	if old == nil || !old.v.Verify(r.Statement(), r.Sig) {
		return fmt.Errorf("audit: key rotation at leaf %d is signed by %s, which is not a trusted key of %s", index, r.Old, k.origin)
	}
	if old.retired < 0 || index < old.retired {
		old.retired = index
	}
	nv, _ := note.NewVerifier(r.New)
	if k.find(nv.Name(), nv.KeyHash()) == nil {
		k.keys = append(k.keys, ringKey{text: r.New, v: nv, retired: -1})
	}
	return nil
}

// Open verifies a signed checkpoint with the ring: a signature by a key of
// the ring, the origin of the ring, and a tree size that a key retired at
// leaf r may sign (at most r leaves) unless a current key signed too.
func (k *KeyRing) Open(signed []byte) (Checkpoint, error) {
	vs := make([]note.Verifier, len(k.keys))
	for i, r := range k.keys {
		vs[i] = r.v
	}
	n, err := note.Open(signed, note.VerifierList(vs...))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint signature: %v", err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return c, err
	}
	if c.Origin != k.origin {
		return c, fmt.Errorf("audit: checkpoint origin %q is not the log %q", c.Origin, k.origin)
	}
	retired := int64(-1)
	for _, s := range n.Sigs {
		for _, r := range k.keys {
			if r.v.KeyHash() == s.Hash && r.v.Name() == s.Name {
				if r.retired < 0 || c.Size <= r.retired {
					return c, nil
				}
				retired = r.retired
			}
		}
	}
	return c, fmt.Errorf("audit: checkpoint of size %d is signed only by a key retired at leaf %d (it may sign at most %d leaves)", c.Size, retired, retired)
}

// RingFromLeaves builds the ring of a log from the keys given and the
// log-key rotations among leaves, in order. A rotation that does not
// chain (its old key not trusted, a bad signature) is reported in
// problems and not taken; signing-key rotations are checked (their
// signature) but not taken.
func RingFromLeaves(leaves [][]byte, keys ...note.Verifier) (ring *KeyRing, problems []string, err error) {
	if ring, err = NewKeyRingOf(keys...); err != nil {
		return nil, nil, err
	}
	for i, b := range leaves {
		if err := ring.addLeaf(int64(i), b); err != nil {
			problems = append(problems, fmt.Sprintf("leaf %d: %v", i, err))
		}
	}
	return ring, problems, nil
}

// addLeaf takes leaf i of the log if it is a log-key rotation, checks it
// if it is a signing-key rotation, and ignores any other leaf. The error
// is a rotation that does not chain.
func (k *KeyRing) addLeaf(i int64, b []byte) error {
	if !strings.Contains(string(b), `"rotation"`) {
		return nil
	}
	l, err := DecodeLeaf(b)
	if err != nil || l.Kind != KindKeyRotation || l.Rotation == nil {
		return nil
	}
	if l.Rotation.Use == KeyUseSign {
		return l.Rotation.Check()
	}
	return k.Add(i, l.Rotation)
}
