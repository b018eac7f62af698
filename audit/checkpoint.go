package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is the body of a signed checkpoint, as C2SP tlog-checkpoint
// defines it: the origin line, the tree size in decimal, the base64 root
// hash, each ending in a newline, then optional extension lines (kept but
// not interpreted here).
type Checkpoint struct {
	Origin     string
	Size       int64
	Hash       tlog.Hash
	Extensions []string
}

// Text returns the note text of c.
func (c Checkpoint) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Hash[:]))
	for _, e := range c.Extensions {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.String()
}

// ParseCheckpoint parses checkpoint note text (without signatures).
func ParseCheckpoint(text string) (Checkpoint, error) {
	var c Checkpoint
	if !strings.HasSuffix(text, "\n") {
		return c, errors.New("audit: checkpoint text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return c, fmt.Errorf("audit: checkpoint has %d lines, want at least 3 (origin, size, hash)", len(lines))
	}
	c.Origin = lines[0]
	if c.Origin == "" {
		return c, errors.New("audit: checkpoint line 1: empty origin")
	}
	// Decimal without sign or leading zeros (tlog-checkpoint: "ASCII decimal").
	if lines[1] == "" || (len(lines[1]) > 1 && lines[1][0] == '0') || strings.TrimLeft(lines[1], "0123456789") != "" {
		return c, fmt.Errorf("audit: checkpoint line 2: tree size %q is not a decimal number", lines[1])
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return c, fmt.Errorf("audit: checkpoint line 2: tree size %q: %v", lines[1], err)
	}
	c.Size = n
	h, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return c, fmt.Errorf("audit: checkpoint line 3: root hash %q is not %d bytes of base64", lines[2], tlog.HashSize)
	}
	copy(c.Hash[:], h)
	for i, e := range lines[3:] {
		if e == "" {
			return c, fmt.Errorf("audit: checkpoint line %d: empty extension line", i+4)
		}
	}
	c.Extensions = lines[3:]
	return c, nil
}

// OpenCheckpoint verifies a signed checkpoint with the log's verifier and
// parses it. The origin must be the verifier's name: a checkpoint signed by
// the right key for another log is not this log's.
func OpenCheckpoint(signed []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint signature: %v", err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return c, err
	}
	if c.Origin != v.Name() {
		return c, fmt.Errorf("audit: checkpoint origin %q is not the log %q", c.Origin, v.Name())
	}
	return c, nil
}

// GenerateKey makes a new Ed25519 checkpoint key pair for the log named
// origin, in the note key encodings ("PRIVATE+KEY+origin+hash+data" and
// "origin+hash+data").
func GenerateKey(origin string) (signerKey, verifierKey string, err error) {
	return note.GenerateKey(rand.Reader, origin)
}

// CheckInclusion checks that leaf (encoded bytes) is leaf index of the tree
// committed to by c, using an inclusion proof from the log.
func CheckInclusion(c Checkpoint, index int64, leaf []byte, proof tlog.RecordProof) error {
	if index < 0 || index >= c.Size {
		return fmt.Errorf("audit: leaf %d is outside checkpoint of size %d", index, c.Size)
	}
	if err := tlog.CheckRecord(proof, c.Size, c.Hash, index, tlog.RecordHash(leaf)); err != nil {
		return fmt.Errorf("audit: leaf %d not proven in tree %d: %v", index, c.Size, err)
	}
	return nil
}

// CheckConsistency checks that new extends old, using a consistency proof
// from the log. Checkpoints of equal size must have equal hashes.
func CheckConsistency(old, new Checkpoint, proof tlog.TreeProof) error {
	switch {
	case old.Size > new.Size:
		return fmt.Errorf("audit: fork or rollback: checkpoint of size %d cannot extend one of size %d", new.Size, old.Size)
	case old.Size == 0:
		return nil
	case old.Size == new.Size:
		if !bytes.Equal(old.Hash[:], new.Hash[:]) {
			return fmt.Errorf("audit: fork: two checkpoints of size %d with different hashes", old.Size)
		}
		return nil
	}
	if err := tlog.CheckTree(proof, new.Size, new.Hash, old.Size, old.Hash); err != nil {
		return fmt.Errorf("audit: fork: tree %d is not an extension of tree %d: %v", new.Size, old.Size, err)
	}
	return nil
}
