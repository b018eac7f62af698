package node

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ebsp/ebsp/exchange"
)

// TestExchangeErrorStatus: what a partner answered, and what the node's own
// responder refused, reach the operator as a status and a code of their
// own, never 500.
func TestExchangeErrorStatus(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		code   string
		retry  string
	}{
		{&exchange.LogForkError{Partner: "GB", Detail: "x"}, 409, CodePartnerLogFork, ""},
		{fmt.Errorf("exchange: %w: /exchange/v1/step1: connection refused", exchange.ErrPartnerUnreachable), 502, CodePartnerUnavailable, ""},
		{&exchange.Refusal{Status: 503, Reason: exchange.ReasonStorage, RetryAfter: 30 * time.Second}, 502, CodePartnerUnavailable, "30"},
		{&exchange.Refusal{Status: 429, Reason: exchange.ReasonQuota, RetryAfter: time.Hour}, 429, CodeRateLimited, "3600"},
		{&exchange.Refusal{Status: 409, Reason: exchange.ReasonReferenceUsed}, 409, CodeCaseState, ""},
		{&exchange.Refusal{Status: 403, Reason: exchange.ReasonRevoked}, 403, CodeCertificateRevoked, ""},
		{fmt.Errorf("exchange: %w: /exchange/v1/step1: %w", exchange.ErrPartnerUnreachable, &exchange.Refusal{Status: 403, Reason: exchange.ReasonRevoked}), 403, CodeCertificateRevoked, ""},
	} {
		var ae *apiError
		if !errors.As(refusalError(c.err), &ae) {
			t.Fatalf("%v: no API error", c.err)
		}
		w := httptest.NewRecorder()
		writeError(w, ae)
		if w.Code != c.status || ae.Code != c.code || w.Header().Get("Retry-After") != c.retry {
			t.Errorf("%v: %d %s Retry-After %q, want %d %s %q", c.err, w.Code, ae.Code, w.Header().Get("Retry-After"), c.status, c.code, c.retry)
		}
	}
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("exchange: %w: %q", exchange.ErrUnknownCase, "x"), 404, CodeUnknownCase},
		{fmt.Errorf("exchange: %w", exchange.ErrNotCandidate), 404, CodeNotCandidate},
		{fmt.Errorf("exchange: %w", exchange.ErrUnknownAgreement), 404, CodeUnknownAgreement},
		{fmt.Errorf("exchange: %w", exchange.ErrCaseState), 409, CodeCaseState},
		{fmt.Errorf("exchange: %w", exchange.ErrInvalid), 400, CodeInvalidField},
		{fmt.Errorf("exchange: %w: disk full", exchange.ErrStorage), 503, CodeStorageUnavailable},
	} {
		var ae *apiError
		if !errors.As(exchangeError(c.err), &ae) {
			t.Fatalf("%v: no API error", c.err)
		}
		w := httptest.NewRecorder()
		writeError(w, ae)
		if w.Code != c.status || ae.Code != c.code {
			t.Errorf("%v: %d %s, want %d %s", c.err, w.Code, ae.Code, c.status, c.code)
		}
	}
}
