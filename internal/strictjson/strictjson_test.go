package strictjson

import (
	"errors"
	"strings"
	"testing"
)

type config struct {
	State  string `json:"state"`
	Tokens []struct {
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	} `json:"tokens"`
	Burst int `json:"burst"`
}

func TestDecodeErrorPlaces(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"{\n  \"state\": \"USA\",\n}", `node.json:3:1: invalid character '}' looking for beginning of object key string`},
		{"{\n  \"state\": \"USA\"\n  \"burst\": 1}", `node.json:3:3: invalid character '"' after object key:value pair`},
		{"{\n  \"state\": \"USA\",\n  \"tokns\": []\n}", `node.json:3:3: unknown field "tokns"`},
		{"{\"tokens\": [{\"name\": \"a\", \"rolez\": []}]}", `node.json:1:27: unknown field "rolez"`},
		{"{\n  \"burst\": \"400\"\n}", `node.json:2:12: cannot unmarshal string into Go struct field config.burst of type int`},
		{"{\n  \"burst\": 4.5\n}", `node.json:2:12: cannot unmarshal number 4.5 into Go struct field config.burst of type int`},
		{"{\"state\": \"USA\"} {}", `node.json:1:18: data after the JSON value`},
		{"{\"state\": \"USA\"", `node.json:1:16: unexpected end of input: an object or string is not closed`},
		{"", `node.json: empty: want a JSON object`},
	} {
		var v config
		err := Decode("node.json", []byte(c.in), &v)
		if err == nil {
			t.Errorf("%q: no error", c.in)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.in, err, c.want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error is more than one line", c.in)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: not an *Error", c.in)
		}
	}
}

func TestDecodeGood(t *testing.T) {
	var v config
	if err := Decode("x", []byte(`{"state":"USA","tokens":[{"name":"a","roles":["admin"]}]}`+"\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.State != "USA" || len(v.Tokens) != 1 || v.Tokens[0].Roles[0] != "admin" {
		t.Fatalf("decoded %+v", v)
	}
}

// FuzzDecode: any input gives a value or one-line error, never a panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"state":"USA"}`, "{\n\"tokns\":1}", `{"burst":"x"}`, `{`, `"\u00`, `{"state":"a"}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v config
		if err := Decode("f", b, &v); err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error %q", err)
		}
	})
}
