package exchange

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ebsp/ebsp/audit"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Key rotation of a node's credentials (`ebsp pki rotate`). The new key
// replaces the old in the credentials directory; the old key's public
// part goes to retired/, its private part is not kept; and the rotation
// statement, signed by the old key (audit.KeyRotation), goes to
// rotations/. When the node starts, its responder records every statement
// its log does not hold yet as a key_rotation leaf (recordRotations), and
// serves them to partners (PathKeys), so that:
//
//   - after a log-key rotation, a partner that trusts the key of the
//     agreement learns the new key from the statement the old key signed,
//     checkpoints of both keys verify (`ebsp audit verify` with the
//     agreement's key walks the rotation leaves), and the consistency
//     between an old checkpoint and a new one is checked as before; the
//     agreement files need not change;
//   - after a signing-key rotation, partners accept the new key at once
//     (its certificate chains to the same CA), and the old one until its
//     certificate expires or the CA revokes it (`ebsp pki revoke`): that
//     is the overlap. Each envelope carries its signing certificate, so a
//     kept envelope stays verifiable by the key it names.

// Directories of a node's credentials that rotation fills.
const (
	RotationsDir = "rotations" // the signed rotation statements, in order
	RetiredDir   = "retired"   // public parts of retired keys
)

// SignKeyName is the name a node's signing key has in rotation statements.
func SignKeyName(state, node string) string {
	return "ebsp.example/" + strings.ToLower(state) + "/" + node + "/sign"
}

// SignVerifierKey returns the note verifier key of a node's Ed25519
// signing key: the form rotation statements name it in. Its key hash is
// the key's short id.
func SignVerifierKey(state, node string, pub ed25519.PublicKey) string {
	k, err := note.NewEd25519VerifierKey(SignKeyName(state, node), pub)
	if err != nil {
		panic(err) // only for a malformed name, which IssueNode refuses
	}
	return k
}

// signNoteSigner wraps a node's Ed25519 signing key as a note signer, to
// sign rotation statements with it.
func signNoteSigner(state, node string, key ed25519.PrivateKey) (note.Signer, error) {
	vkey := SignVerifierKey(state, node, key.Public().(ed25519.PublicKey))
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", v.Name(), v.KeyHash(), base64.StdEncoding.EncodeToString(append([]byte{1}, key.Seed()...)))
	return note.NewSigner(skey)
}

// LogKeys returns the node's log keys, oldest first: the key the first
// log-key rotation retired (the one older agreements hold), each key a
// rotation introduced, and so the current one last.
func (nc *NodeCredentials) LogKeys() []string {
	var out []string
	for _, r := range nc.Rotations {
		if r.Use == audit.KeyUseLog {
			if len(out) == 0 {
				out = append(out, r.Old)
			}
			out = append(out, r.New)
		}
	}
	if len(out) == 0 {
		out = []string{nc.LogKey}
	}
	return out
}

// rotated returns a copy of nc's files with the rotation statement r
// added and the old key's public part retired under name.
func (nc *NodeCredentials) rotated(r *audit.KeyRotation, retiredName string, retired []byte) (map[string][]byte, error) {
	files := maps.Clone(nc.files)
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	n := len(nc.Rotations) + 1
	files[filepath.Join(RotationsDir, fmt.Sprintf("%04d-%s.json", n, r.Use))] = append(b, '\n')
	files[filepath.Join(RetiredDir, fmt.Sprintf("%04d-%s", n, retiredName))] = retired
	return files, nil
}

// RotateLog replaces the checkpoint key of the node's log by a new one of
// the same origin and returns the new credentials (Save writes them). The
// statement is signed by the old key.
func (nc *NodeCredentials) RotateLog(now time.Time) (*NodeCredentials, error) {
	skey, vkey, err := audit.GenerateKey(nc.LogSigner.Name())
	if err != nil {
		return nil, err
	}
	r := &audit.KeyRotation{Use: audit.KeyUseLog, Old: nc.LogKey, New: vkey, NotBefore: now.UTC()}
	if err := r.Sign(nc.LogSigner); err != nil {
		return nil, err
	}
	files, err := nc.rotated(r, LogPubFile, nc.files[LogPubFile])
	if err != nil {
		return nil, err
	}
	files[LogKeyFile] = []byte(skey + "\n")
	files[LogPubFile] = []byte(vkey + "\n")
	return credentialsFromFiles(files)
}

// RotateSign issues the node a new Ed25519 signing key and certificate
// from ca (the CA of its credentials), valid from now for validity, and
// returns the new credentials (Save writes them). The statement is signed
// by the old key.
func (ca *CA) RotateSign(nc *NodeCredentials, now time.Time, validity time.Duration) (*NodeCredentials, error) {
	if !ca.Cert.Equal(nc.CACert) {
		return nil, fmt.Errorf("exchange: the credentials of %s/%s are not of the CA %s", nc.State, nc.Node, ca.Cert.Subject)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      nc.SignCert.Subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("exchange: issuing signing certificate: %v", err)
	}
	cert, _ := x509.ParseCertificate(der)
	return nc.RotateSignTo(cert, key)
}

// RotateSignTo replaces the node's signing key by key, certified by cert
// (issued by the state's PKI: it must chain to the node's CA, name the
// node, and certify key), and returns the new credentials (Save writes
// them). The statement is signed by the old key.
func (nc *NodeCredentials) RotateSignTo(cert *x509.Certificate, key ed25519.PrivateKey) (*NodeCredentials, error) {
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	switch {
	case !ok || !pub.Equal(key.Public()):
		return nil, errors.New("exchange: the new signing certificate does not certify the new Ed25519 key")
	case cert.CheckSignatureFrom(nc.CACert) != nil:
		return nil, fmt.Errorf("exchange: the new signing certificate is not issued by the CA %s", nc.CACert.Subject)
	case cert.Subject.CommonName != nc.Node || !slices.Equal(cert.Subject.Country, []string{nc.State}):
		return nil, fmt.Errorf("exchange: the new signing certificate names %s/%s, the node is %s/%s", cert.Subject.Country, cert.Subject.CommonName, nc.State, nc.Node)
	case cert.KeyUsage&x509.KeyUsageDigitalSignature == 0:
		return nil, errors.New("exchange: the new signing certificate lacks the digital signature key usage")
	}
	oldSigner, err := signNoteSigner(nc.State, nc.Node, nc.SignKey)
	if err != nil {
		return nil, err
	}
	r := &audit.KeyRotation{Use: audit.KeyUseSign, Old: SignVerifierKey(nc.State, nc.Node, nc.SignCert.PublicKey.(ed25519.PublicKey)),
		New: SignVerifierKey(nc.State, nc.Node, pub), NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC()}
	if err := r.Sign(oldSigner); err != nil {
		return nil, err
	}
	files, err := nc.rotated(r, SignCertFile, nc.files[SignCertFile])
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	files[SignCertFile] = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	files[SignKeyFile] = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return credentialsFromFiles(files)
}

// readRotationFiles adds the rotation statements and retired keys under
// dir to files, by their path relative to dir.
func readRotationFiles(dir string, files map[string][]byte) error {
	for _, sub := range []string{RotationsDir, RetiredDir} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("exchange: node credentials: %v", err)
		}
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			name := filepath.Join(sub, e.Name())
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return fmt.Errorf("exchange: node credentials: %v", err)
			}
			files[name] = b
		}
	}
	return nil
}

// loadRotations parses the rotation statements among files, in name
// order, checks each one's signature, and checks that they chain: each
// log (signing) rotation's old key is the previous one's new key, and the
// last one's new key is the current log (signing) key.
func (nc *NodeCredentials) loadRotations() error {
	var names []string
	for name := range nc.files {
		if strings.HasPrefix(name, RotationsDir+string(filepath.Separator)) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	last := map[string]string{}
	for _, name := range names {
		var r audit.KeyRotation
		d := json.NewDecoder(strings.NewReader(string(nc.files[name])))
		d.DisallowUnknownFields()
		if err := d.Decode(&r); err != nil {
			return fmt.Errorf("exchange: %s: %v", name, err)
		}
		if err := r.Check(); err != nil {
			return fmt.Errorf("exchange: %s: %v", name, err)
		}
		if prev, ok := last[r.Use]; ok && prev != r.Old {
			return fmt.Errorf("exchange: %s: retires %s, but the %s key before it was %s", name, r.Old, r.Use, prev)
		}
		last[r.Use] = r.New
		nc.Rotations = append(nc.Rotations, r)
	}
	if k, ok := last[audit.KeyUseLog]; ok && k != nc.LogKey {
		return fmt.Errorf("exchange: the last log key rotation introduces %s, but %s holds %s", k, LogPubFile, nc.LogKey)
	}
	if k, ok := last[audit.KeyUseSign]; ok && k != SignVerifierKey(nc.State, nc.Node, nc.SignKey.Public().(ed25519.PublicKey)) {
		return fmt.Errorf("exchange: the last signing key rotation introduces %s, which is not the key of %s", k, SignKeyFile)
	}
	return nil
}

// PathKeys serves the node's key rotations to partners (mutual TLS):
// each key_rotation leaf with its index and an inclusion proof in the
// checkpoint of the reply (KeysReply). A client that meets a checkpoint
// signed by a key it does not know fetches it (Client.learnKeys).
const PathKeys = "/exchange/v1/audit/keys"

// KeysReply is the body of PathKeys.
type KeysReply struct {
	Checkpoint []byte          `json:"checkpoint"` // signed, by the current log key
	Rotations  []RotationProof `json:"rotations"`  // in log order
}

// RotationProof is one key_rotation leaf of the log and its inclusion
// proof in KeysReply.Checkpoint.
type RotationProof struct {
	Index     int64    `json:"index"`
	Leaf      []byte   `json:"leaf"`
	Inclusion [][]byte `json:"inclusion"`
}

// rotationAt is a key_rotation leaf of the responder's log.
type rotationAt struct {
	index int64
	leaf  []byte
}

// recordRotations appends to the log, as key_rotation leaves, the
// rotation statements of the credentials the log does not hold yet, and
// keeps every rotation leaf of this node's credentials for PathKeys. It
// reads the whole log once at start, and only for a node whose
// credentials hold rotations.
func (r *Responder) recordRotations(nc *NodeCredentials, now time.Time) error {
	if len(nc.Rotations) == 0 {
		return nil
	}
	have := map[string]rotationAt{} // by signature
	err := r.log.Scan(0, func(i int64, leaf []byte) error {
		if !bytes.Contains(leaf, []byte(`"kind":"key_rotation"`)) {
			return nil
		}
		l, err := audit.DecodeLeaf(leaf)
		if err == nil && l.Rotation != nil {
			have[string(l.Rotation.Sig)] = rotationAt{i, slices.Clone(leaf)}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("exchange: reading the log for key rotations: %v", err)
	}
	for i := range nc.Rotations {
		rot := nc.Rotations[i]
		at, ok := have[string(rot.Sig)]
		if !ok {
			idx, err := r.log.Append(audit.Leaf{Time: now, Kind: audit.KindKeyRotation, Rotation: &rot})
			if err != nil {
				return fmt.Errorf("exchange: recording the %s key rotation: %v", rot.Use, err)
			}
			leaf, err := r.log.Leaf(idx)
			if err != nil {
				return err
			}
			at = rotationAt{idx, leaf}
			r.logger.Info("key rotation recorded in the log", "use", rot.Use, "leaf", idx, "new_key", rot.New)
		}
		r.rotations = append(r.rotations, at)
	}
	return nil
}

// keysReply builds the PathKeys reply.
func (r *Responder) keysReply() (*KeysReply, error) {
	cp, size, err := r.log.Checkpoint()
	if err != nil {
		return nil, err
	}
	rep := &KeysReply{Checkpoint: cp, Rotations: []RotationProof{}}
	for _, at := range r.rotations {
		proof, err := r.log.InclusionProof(at.index, size)
		if err != nil {
			return nil, err
		}
		rp := RotationProof{Index: at.index, Leaf: at.leaf}
		for _, h := range proof {
			rp.Inclusion = append(rp.Inclusion, h[:])
		}
		rep.Rotations = append(rep.Rotations, rp)
	}
	return rep, nil
}

// learnKeys fetches the partner's key rotations and, if each log-key
// rotation chains from the key of the agreement (signed by a key already
// trusted) and each leaf is in the log the reply's checkpoint commits to,
// takes the keys they introduce. It returns whether the ring grew.
func (c *Client) learnKeys(ctx context.Context) (bool, error) {
	b, err := c.get(ctx, PathKeys)
	if err != nil {
		return false, err
	}
	var rep KeysReply
	if err := decodeBody(b, &rep); err != nil {
		return false, fmt.Errorf("exchange: %s: %v", PathKeys, err)
	}
	ring, err := audit.NewKeyRingOf(c.partner.LogVerifier())
	if err != nil {
		return false, err
	}
	for _, rp := range rep.Rotations {
		l, err := audit.DecodeLeaf(rp.Leaf)
		if err != nil || l.Kind != audit.KindKeyRotation || l.Rotation == nil {
			return false, fmt.Errorf("exchange: %s: leaf %d is not a key rotation", PathKeys, rp.Index)
		}
		if l.Rotation.Use != audit.KeyUseLog {
			continue
		}
		if err := ring.Add(rp.Index, l.Rotation); err != nil {
			return false, fmt.Errorf("exchange: %s of %s: %v", PathKeys, c.partner.addr(), err)
		}
	}
	cp, err := ring.Open(rep.Checkpoint)
	if err != nil {
		return false, fmt.Errorf("exchange: %s: checkpoint: %v", PathKeys, err)
	}
	for _, rp := range rep.Rotations {
		proof := make(tlog.RecordProof, len(rp.Inclusion))
		for i, h := range rp.Inclusion {
			if len(h) != tlog.HashSize {
				return false, errors.New("exchange: malformed inclusion proof")
			}
			copy(proof[i][:], h)
		}
		if err := audit.CheckInclusion(cp, rp.Index, rp.Leaf, proof); err != nil {
			return false, fmt.Errorf("exchange: %s: rotation leaf %d: %v", PathKeys, rp.Index, err)
		}
	}
	c.mu.Lock()
	grew := len(ring.Keys()) > len(c.ring.Keys())
	if grew {
		c.ring = ring
	}
	c.mu.Unlock()
	return grew, nil
}

// openCheckpoint verifies a signed checkpoint of the partner's log with
// the keys this client trusts; if none signed it, it learns the partner's
// key rotations (once) and tries again.
func (c *Client) openCheckpoint(ctx context.Context, signed []byte) (audit.Checkpoint, error) {
	c.mu.Lock()
	cp, err := c.ring.Open(signed)
	c.mu.Unlock()
	if err == nil {
		return cp, nil
	}
	if grew, lerr := c.learnKeys(ctx); lerr != nil || !grew {
		if lerr != nil {
			err = fmt.Errorf("%v; and the partner's key rotations: %v", err, lerr)
		}
		return cp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ring.Open(signed)
}

// LogKeys returns the keys of the partner's log this client trusts: the
// agreement's, then those the partner's rotations introduced.
func (c *Client) LogKeys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ring.Keys()
}
