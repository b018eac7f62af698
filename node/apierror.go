package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ebsp/ebsp/store"
)

// defaultRetry is the Retry-After of a storage failure.
const defaultRetry = 30 * time.Second

// Error codes of the API. They are stable: clients switch on them. Each has
// one HTTP status, so a client can rely on either.
const (
	CodeBadJSON            = "bad_json"            // 400: body is not valid JSON, or has trailing data
	CodeUnknownField       = "unknown_field"       // 400: a field the schema does not have
	CodeInvalidField       = "invalid_field"       // 400: a field has a wrong type or value
	CodeUnauthenticated    = "unauthenticated"     // 401: no or bad credentials
	CodeForbidden          = "forbidden"           // 403: the role may not do this
	CodeNotFound           = "not_found"           // 404: no such identity or route
	CodeMethodNotAllowed   = "method_not_allowed"  // 405
	CodeDuplicateID        = "duplicate_id"        // 409: an id already in use
	CodeCaseState          = "case_state"          // 409: a step-2 case is not in a state for that decision
	CodeUnknownCase        = "unknown_case"        // 404: no step-2 case of that id
	CodeNotCandidate       = "not_a_candidate"     // 404: the confirmed identity is not a candidate of the case
	CodeUnknownAgreement   = "unknown_agreement"   // 404: no agreement of that id
	CodePartnerLogFork     = "partner_log_fork"    // 409: the partner's log does not extend the checkpoint held here; evidence kept
	CodePartnerUnavailable = "partner_unavailable" // 502: the partner's endpoint did not answer, or failed
	CodeCertificateRevoked = "certificate_revoked" // 403: a revocation list names this node's certificate (the partner refused it) or the partner's (refused here)
	CodeStorageUnavailable = "storage_unavailable" // 503: the store or audit log failed or is unreachable; retry
	CodeStorageFull        = "storage_full"        // 507: the disk or database is full; nothing was written
	CodeShardsUnavailable  = "shards_unavailable"  // 503: the gallery's matcher shards did not answer (cluster); retry
	CodeBodyTooLarge       = "body_too_large"      // 413
	CodeUnsupportedMedia   = "unsupported_media"   // 415: body is not application/json
	CodeBadSample          = "bad_sample"          // 422: sample data unreadable (corrupt image, bad template)
	CodeSampleTooLarge     = "sample_too_large"    // 422: image dimensions over the limit
	CodeLowQuality         = "low_quality"         // 422: sample below the quality gate
	CodeTooFewMinutiae     = "too_few_minutiae"    // 422: fingerprint template below the minutiae gate
	CodeNotAFingerprint    = "not_a_fingerprint"   // 422: a fingerprint image without fingerprint ridges (a face photo, a document, noise)
	CodeUnsupported        = "unsupported"         // 422: modality or format this node cannot use for that call
	CodeRateLimited        = "rate_limited"        // 429
	CodeUnavailable        = "unavailable"         // 503: not ready
	CodeInternal           = "internal"            // 500
)

var codeStatus = map[string]int{
	CodeBadJSON: 400, CodeUnknownField: 400, CodeInvalidField: 400,
	CodeUnauthenticated: 401, CodeForbidden: 403, CodeNotFound: 404,
	CodeMethodNotAllowed: 405, CodeDuplicateID: 409, CodeCaseState: 409, CodeBodyTooLarge: 413,
	CodeUnsupportedMedia: 415, CodeBadSample: 422, CodeSampleTooLarge: 422,
	CodeLowQuality: 422, CodeTooFewMinutiae: 422, CodeNotAFingerprint: 422, CodeUnsupported: 422, CodeRateLimited: 429,
	CodeUnavailable: 503, CodeInternal: 500, CodeShardsUnavailable: 503,
	CodeUnknownCase: 404, CodeNotCandidate: 404, CodeUnknownAgreement: 404, CodeStorageUnavailable: 503, CodeStorageFull: 507,
	CodePartnerLogFork: 409, CodePartnerUnavailable: 502, CodeCertificateRevoked: 403,
}

// apiError is an error with a machine-readable code; handlers return it and
// writeError renders it as {"error":{"code":..., "message":...}}.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Sample is the index in the request's samples of the one refused,
	// where the refusal is about one sample an officer can capture again
	// (low_quality, too_few_minutiae).
	Sample *int `json:"sample,omitempty"`
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter time.Duration `json:"-"`
	status     int           // when set, instead of the code's status
	cause      error
}

func (e *apiError) Unwrap() error { return e.cause }

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(code, msg string) *apiError { return &apiError{Code: code, Message: msg} }

// sampleErr is errf about samples[i], naming it in the message and in
// the error's sample field.
func sampleErr(i int, code, msg string) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf("samples[%d]: %s", i, msg), Sample: &i}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	status, ok := codeStatus[e.Code]
	if !ok {
		status = 500
	}
	if e.status != 0 {
		status = e.status
	}
	if e.RetryAfter == 0 && status == http.StatusServiceUnavailable && e.Code != CodeUnavailable {
		e.RetryAfter = defaultRetry
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, status, map[string]*apiError{"error": e})
}

// storageFault is the latest write the store refused for want of space or
// of a server: /readyz reports it for storageFaultHold after.
type storageFault struct {
	code string
	at   time.Time
}

// storageFaultHold is how long /readyz reports a storage fault after the
// last failed write: long enough for a load balancer to see it, short
// enough that a node whose disk was freed or whose database came back is
// ready again without a restart.
const storageFaultHold = 30 * time.Second

// storageError maps a full or unreachable store to 507 storage_full or
// 503 storage_unavailable with Retry-After, and remembers it for /readyz;
// nil for any other error.
func (n *Node) storageError(err error) *apiError {
	var ae *apiError
	switch {
	case errors.Is(err, store.ErrFull):
		ae = &apiError{Code: CodeStorageFull, Message: "the node's storage is full; nothing was written", RetryAfter: time.Minute, cause: err}
	case errors.Is(err, store.ErrUnavailable):
		ae = &apiError{Code: CodeStorageUnavailable, Message: "the node's store is unreachable; nothing was written", RetryAfter: 5 * time.Second, cause: err}
	default:
		return nil
	}
	n.storageFault.Store(&storageFault{code: ae.Code, at: time.Now()})
	return ae
}
