package node

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ebsp/ebsp/audit"
)

// The node's transparency log, read-only, as a C2SP tlog-tiles server with
// the prefix /v1/audit: the latest signed checkpoint at <prefix>/checkpoint
// and the hash tiles at <prefix>/tile/<L>/<N>[.p/<W>], so that partners and
// witnesses can fetch them with any tlog-tiles client and check the proofs
// and checkpoints they hold. Entry bundles (<prefix>/tile/entries/...) are
// not served: the leaves are the exchange's metadata with every partner,
// and one partner is not to read another's (least disclosure); a partner
// gets the leaves that concern it with their inclusion proofs.

// auditLog returns the node's log, or a 404 when the node keeps none.
func (n *Node) auditLog() (*audit.Log, error) {
	l, _ := n.AuditLog()
	if l == nil {
		return nil, errf(CodeNotFound, "this node takes part in no partnership and keeps no transparency log")
	}
	return l, nil
}

func (n *Node) handleAuditCheckpoint(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	l, err := n.auditLog()
	if err != nil {
		return err
	}
	signed, _, err := l.Checkpoint()
	if err != nil {
		return auditReadError(err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err = w.Write(signed)
	return err
}

func (n *Node) handleAuditTile(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	l, err := n.auditLog()
	if err != nil {
		return err
	}
	p := r.PathValue("path")
	if strings.HasPrefix(p, "entries/") {
		return errf(CodeNotFound, "entry bundles are not served: the leaves are partners' exchange metadata; a partner receives its own with their inclusion proofs")
	}
	t, err := audit.ParseTilePath("tile/" + p)
	if err != nil {
		return errf(CodeInvalidField, "tile path: "+err.Error())
	}
	data, err := l.ReadTile(t)
	if errors.Is(err, audit.ErrNoTile) {
		return errf(CodeNotFound, err.Error())
	}
	if err != nil {
		return auditReadError(err)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if t.W == 1<<audit.TileHeight {
		// A full tile never changes (tlog-tiles: clients may cache it for ever).
		w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, err = w.Write(data)
	return err
}

// auditReadError is a log that could not be read (closed after a failed
// write, a disk error): 503, retry.
func auditReadError(err error) *apiError {
	return &apiError{Code: CodeStorageUnavailable, Message: "the transparency log could not be read; retry", RetryAfter: 5 * time.Second, cause: err}
}
