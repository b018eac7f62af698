// Package strictjson decodes configuration files (node configurations,
// scenarios) as RFC 8259 JSON, strictly: a field the target does not have is
// an error, as is anything after the one value, so that a misspelt setting
// never falls back silently to its default. Errors say where, as a line and
// column (both from 1, columns in bytes), in one line:
//
//	node.json:7:3: unknown field "tokns"
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// Error is a decoding error at a place in the input.
type Error struct {
	Name   string // file name, or what the input is ("scenario")
	Line   int    // 1-based; 0 when the place is not known
	Column int    // 1-based, in bytes
	Err    error
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.Name, message(e.Err))
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.Name, e.Line, e.Column, message(e.Err))
}

func (e *Error) Unwrap() error { return e.Err }

// message drops encoding/json's "json: " prefix: the position says it is
// JSON already.
func message(err error) string {
	s := err.Error()
	if len(s) > 6 && s[:6] == "json: " {
		return s[6:]
	}
	return s
}

// Decode decodes data, named name in errors, into v.
func Decode(name string, data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return &Error{Name: name, Err: errors.New("empty: want a JSON object")}
		}
		off := offset(data, err)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			off = int64(len(data))
			err = errors.New("unexpected end of input: an object or string is not closed")
		}
		return at(name, data, off, err)
	}
	off := dec.InputOffset()
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return at(name, data, skipSpace(data, off), errors.New("data after the JSON value"))
	}
	return nil
}

// unknownField is how encoding/json words an unknown field; it gives no
// offset.
var unknownField = regexp.MustCompile(`^json: unknown field ("(?:[^"\\]|\\.)*")$`)

// offset finds where in data err happened, or -1.
func offset(data []byte, err error) int64 {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// The offset is just past the byte that was wrong.
		return max(se.Offset-1, 0)
	case errors.As(err, &te):
		return valueStart(data, te.Offset)
	}
	if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
		name, uerr := strconv.Unquote(m[1])
		if uerr != nil {
			return -1
		}
		// The field's key: its quoted name followed by a colon. The first
		// such key is where it is, unless the same name is also a known
		// field elsewhere, which configurations here do not have.
		q, _ := json.Marshal(name)
		key := regexp.MustCompile(regexp.QuoteMeta(string(q)) + `\s*:`)
		if loc := key.FindIndex(data); loc != nil {
			return int64(loc[0])
		}
	}
	return -1
}

// valueStart steps back from the end of a value (where an
// UnmarshalTypeError points) to its start, for string, number and literal
// values; for others it returns end.
func valueStart(data []byte, end int64) int64 {
	if end <= 0 || end > int64(len(data)) {
		return end
	}
	i := end - 1
	if data[i] == '"' {
		for i--; i > 0; i-- {
			if data[i] == '"' && data[i-1] != '\\' {
				return i
			}
		}
		return 0
	}
	for i > 0 && bytes.IndexByte([]byte(" \t\r\n,:[{"), data[i-1]) < 0 {
		i--
	}
	return i
}

func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n"), data[off]) >= 0 {
		off++
	}
	return off
}

// at makes the Error for offset off of data (off < 0: place unknown).
func at(name string, data []byte, off int64, err error) error {
	if off < 0 || off > int64(len(data)) {
		return &Error{Name: name, Err: err}
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return &Error{Name: name, Line: line, Column: col, Err: err}
}
