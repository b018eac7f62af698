package node

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net/http"
	"slices"
	"strings"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/formats/raster"
	"github.com/ebsp/ebsp/formats/wsq"
	"github.com/ebsp/ebsp/store"
)

// This file is what a user interface served beside the API (package
// console) needs of the node: the same authentication, rate limits and
// exchange operations as the API, never a second copy of them.

// Mount serves h under prefix (a path ending in "/") from Handler, beside
// the API routes, from now on; h does its own authentication.
func (n *Node) Mount(prefix string, h http.Handler) {
	n.mountMu.Lock()
	defer n.mountMu.Unlock()
	n.mounts = append(n.mounts, mount{prefix, h})
}

type mount struct {
	prefix string
	h      http.Handler
}

// mounted returns the handler mounted for path, or nil.
func (n *Node) mounted(path string) http.Handler {
	n.mountMu.Lock()
	defer n.mountMu.Unlock()
	for _, m := range n.mounts {
		if strings.HasPrefix(path, m.prefix) {
			return m.h
		}
	}
	return nil
}

// Authenticate returns the caller of r by its verified client certificate
// or bearer token, as the API authenticates it, or nil.
func (n *Node) Authenticate(r *http.Request) *Principal { return n.auth.authenticate(r) }

// AuthenticateToken returns the principal of a bearer token, or nil.
func (n *Node) AuthenticateToken(tok string) *Principal { return n.auth.authenticateToken(tok) }

// Allow takes one request from key's rate limit (the API's per-principal
// limit); when it is spent it returns false and the seconds to wait.
func (n *Node) Allow(key string) (bool, int) { return n.limits.allow(key) }

// State is the node's state code.
func (n *Node) State() string { return n.cfg.State }

// Agreements returns the agreements the node holds (nil when the exchange
// is off). They are shared: callers must not change them.
func (n *Node) Agreements() []*exchange.Agreement {
	if n.exchange == nil {
		return nil
	}
	return n.exchange.setup.Agreements
}

// AuditLog returns the node's transparency log and the note verifier key
// of its checkpoints, or nil and "" when the exchange is off.
func (n *Node) AuditLog() (*audit.Log, string) {
	if n.exchange == nil {
		return nil, ""
	}
	return n.exchange.setup.Log, n.exchange.setup.Credentials.LogKey
}

// FingerComparison is one finger of a probe beside the candidate's finger
// of the same position: both templates, the matcher's pairing of their
// minutiae (indices into Probe.Minutiae and Gallery.Minutiae) and, when
// the gallery holds the image, the image the gallery template came from.
type FingerComparison struct {
	Position     biometric.FingerPosition
	Probe        fingerprint.Template
	Gallery      fingerprint.Template // zero when the candidate has no such finger
	GalleryImage *image.Gray
	Pairing      fingerprint.Pairing
}

// CandidateComparison is what an examiner looks at for one candidate of a
// case: the fingers side by side, the candidate's fused score as the
// gallery search computes it, and the hit threshold for that many fingers.
type CandidateComparison struct {
	Identity  string
	Fingers   []FingerComparison
	Score     float64
	Threshold float64
}

// CompareCandidate compares a case's probe with a gallery identity, for
// the examiner: per finger position the best-scoring stored sample with
// its minutiae pairing. Biometric data only: no biographic field is read.
func (n *Node) CompareCandidate(ctx context.Context, probe exchange.Probe, identity string) (*CandidateComparison, error) {
	rec, err := n.Identity(ctx, identity)
	if err != nil {
		return nil, err
	}
	out := &CandidateComparison{Identity: identity}
	q, err := n.fingerQuery(probe.Fingers)
	if err != nil {
		return nil, err
	}
	for _, f := range probe.Fingers {
		m := fingerprint.NewMatcher(f.Template)
		fc := FingerComparison{Position: f.Position, Probe: f.Template}
		for _, s := range rec.Samples {
			if s.Modality != biometric.Finger || (s.Position != f.Position && s.Position != 0 && f.Position != 0) {
				continue
			}
			g, img, err := n.galleryFinger(&s)
			if err != nil {
				// A sample the node cannot read again is not evidence; the
				// others still are.
				n.log.Warn("examiner view: stored sample unreadable", "sample", s.ID, "err", err.Error())
				continue
			}
			if p := m.Pairing(fingerprint.Prepare(g)); fc.Gallery.Minutiae == nil || p.Score > fc.Pairing.Score {
				fc.Gallery, fc.GalleryImage, fc.Pairing = g, img, p
			}
		}
		out.Fingers = append(out.Fingers, fc)
	}
	if len(q.probes) > 0 {
		if out.Score, _, err = n.galleryVerify(ctx, biometric.Finger, q, identity); err != nil {
			return nil, err
		}
		out.Threshold, _ = n.policy(biometric.Finger).Thresholds(len(q.probes))
	}
	return out, nil
}

// galleryFinger returns the template of a stored fingerprint sample, as
// the engine makes it at enrolment, and the sample's image when it is one.
func (n *Node) galleryFinger(s *store.Sample) (fingerprint.Template, *image.Gray, error) {
	in := SampleInput{Modality: s.Modality, Position: s.Position, Format: s.Format, Data: s.Data}
	tmpl, _, err := engine.Finger{}.Template(&in, n.cfg.MaxImagePixels)
	if err != nil {
		return fingerprint.Template{}, nil, err
	}
	t, err := engine.DecodeFinger(tmpl)
	if err != nil {
		return fingerprint.Template{}, nil, err
	}
	var img *image.Gray
	switch {
	case s.Format == "wsq":
		img, _, err = wsq.DecodeBytes(s.Data, &wsq.DecodeOptions{MaxPixels: n.cfg.MaxImagePixels})
	case slices.Contains([]string{"png", "jpeg", "bmp", "tiff"}, s.Format):
		img, _, err = raster.Decode(s.Data, n.cfg.MaxImagePixels)
	}
	if err != nil {
		return fingerprint.Template{}, nil, fmt.Errorf("image: %w", err)
	}
	return t, img, nil
}

// ErrorStatus is the HTTP status the API would answer for err: the status
// of its code for an API error, 500 for anything else.
func ErrorStatus(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		if st, ok := codeStatus[ae.Code]; ok {
			return st
		}
	}
	return http.StatusInternalServerError
}
