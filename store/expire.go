package store

import (
	"context"
	"time"

	"github.com/ebsp/ebsp/biometric"
)

// ExpiredTemplate names a template deleted because the sample or encounter
// it came from reached its own expiry, so that the in-memory gallery can
// drop it too.
type ExpiredTemplate struct {
	IdentityID string
	TemplateID string
	Modality   biometric.Modality
}

// RecordExpirer is implemented by engines that enforce the expiry of
// encounters and samples, not only of whole identities (Store.ExpireBefore).
// Both engines of this module implement it. It is a separate interface so
// that Store stays as the node first used it.
type RecordExpirer interface {
	// ExpireRecordsBefore deletes, in one transaction, every encounter and
	// every sample whose own expiry is before t, with what hangs off them,
	// and returns the templates that went. The identities stay (their own
	// expiry governs them), even if no encounter is left.
	ExpireRecordsBefore(ctx context.Context, t time.Time) ([]ExpiredTemplate, error)
}

// CeilMicro is t rounded up to a whole microsecond, the precision engines
// store times in: a stored time s is before t exactly when s is before
// CeilMicro(t).
func CeilMicro(t time.Time) time.Time {
	c := t.Truncate(time.Microsecond)
	if c.Before(t) {
		c = c.Add(time.Microsecond)
	}
	return c
}
