package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// decodeJSON reads one JSON value from the request body into v, refusing
// unknown fields, trailing data and bodies over the limit (the handler chain
// wraps the body in http.MaxBytesReader). The error is an *apiError whose
// message says what was wrong and where.
func decodeJSON(r *http.Request, v any) *apiError {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errf(CodeUnsupportedMedia, fmt.Sprintf("content type %q: want application/json", ct))
		}
	}
	return decodeJSONBody(r.Body, v)
}

func decodeJSONBody(body io.Reader, v any) *apiError {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return errf(CodeBadJSON, "unexpected data after the JSON value")
	}
	return nil
}

func jsonError(err error) *apiError {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return errf(CodeBodyTooLarge, fmt.Sprintf("request body over the limit of %d bytes", mbe.Limit))
	case errors.As(err, &se):
		return errf(CodeBadJSON, fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se))
	case errors.As(err, &ute):
		return errf(CodeInvalidField, fmt.Sprintf("field %q: got JSON %s, want %s", ute.Field, ute.Value, ute.Type))
	case errors.Is(err, io.EOF):
		return errf(CodeBadJSON, "empty body: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errf(CodeBadJSON, "truncated JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errf(CodeUnknownField, strings.TrimPrefix(err.Error(), "json: "))
	}
	return errf(CodeInvalidField, err.Error())
}
