package node

import (
	"encoding/json"
	"net/http"
)

// Error codes of the API. They are stable: clients switch on them. Each has
// one HTTP status, so a client can rely on either.
const (
	CodeBadJSON          = "bad_json"           // 400: body is not valid JSON, or has trailing data
	CodeUnknownField     = "unknown_field"      // 400: a field the schema does not have
	CodeInvalidField     = "invalid_field"      // 400: a field has a wrong type or value
	CodeUnauthenticated  = "unauthenticated"    // 401: no or bad credentials
	CodeForbidden        = "forbidden"          // 403: the role may not do this
	CodeNotFound         = "not_found"          // 404: no such identity or route
	CodeMethodNotAllowed = "method_not_allowed" // 405
	CodeDuplicateID      = "duplicate_id"       // 409: an id already in use
	CodeCaseState        = "case_state"         // 409: a step-2 case is not in a state for that decision
	CodeBodyTooLarge     = "body_too_large"     // 413
	CodeUnsupportedMedia = "unsupported_media"  // 415: body is not application/json
	CodeBadSample        = "bad_sample"         // 422: sample data unreadable (corrupt image, bad template)
	CodeSampleTooLarge   = "sample_too_large"   // 422: image dimensions over the limit
	CodeLowQuality       = "low_quality"        // 422: sample below the quality gate
	CodeUnsupported      = "unsupported"        // 422: modality or format this node cannot use for that call
	CodeRateLimited      = "rate_limited"       // 429
	CodeUnavailable      = "unavailable"        // 503: not ready
	CodeInternal         = "internal"           // 500
)

var codeStatus = map[string]int{
	CodeBadJSON: 400, CodeUnknownField: 400, CodeInvalidField: 400,
	CodeUnauthenticated: 401, CodeForbidden: 403, CodeNotFound: 404,
	CodeMethodNotAllowed: 405, CodeDuplicateID: 409, CodeCaseState: 409, CodeBodyTooLarge: 413,
	CodeUnsupportedMedia: 415, CodeBadSample: 422, CodeSampleTooLarge: 422,
	CodeLowQuality: 422, CodeUnsupported: 422, CodeRateLimited: 429,
	CodeUnavailable: 503, CodeInternal: 500,
}

// apiError is an error with a machine-readable code; handlers return it and
// writeError renders it as {"error":{"code":..., "message":...}}.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(code, msg string) *apiError { return &apiError{Code: code, Message: msg} }

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
	writeJSON(w, status, map[string]*apiError{"error": e})
}
