package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ebsp/ebsp/store"
)

// faultyStore is the node's real store whose enrolments fail, while set,
// with the error an engine gives for a full disk or a lost server (the
// engines' own tests produce those errors for real: store/sqlite
// TestFullIsErrFull, store/postgres TestLostServerIsErrUnavailable).
type faultyStore struct {
	store.Store
	fail atomic.Pointer[error]
}

func (f *faultyStore) Enroll(ctx context.Context, e store.Enrolment) error {
	if p := f.fail.Load(); p != nil {
		return fmt.Errorf("engine: enroll: %w: injected", *p)
	}
	return f.Store.Enroll(ctx, e)
}

// TestStorageFaults: a full store answers 507 storage_full, an unreachable
// one 503 storage_unavailable, both with Retry-After, and /readyz says so;
// once writes succeed again and the hold has passed, the node is ready.
func TestStorageFaults(t *testing.T) {
	fs := &faultyStore{}
	tn := newTestNodeOver(t, nil, func(st store.Store) store.Store { fs.Store = st; return fs })
	n, srv := tn.Node, tn.srv
	ready := func() (int, string) {
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := ready(); st != 200 {
		t.Fatalf("/readyz before: %d %s", st, body)
	}
	for i, c := range []struct {
		err    error
		status int
		code   string
	}{
		{store.ErrFull, 507, CodeStorageFull},
		{store.ErrUnavailable, 503, CodeStorageUnavailable},
	} {
		fs.fail.Store(&c.err)
		req, _ := http.NewRequest("POST", srv.URL+"/v1/enrolments", bytes.NewReader(must(json.Marshal(enrolBody(fmt.Sprintf("F%d", i), person(t, i, 1))))))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+roleTokens[RoleEnroller])
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		observe("POST", "/v1/enrolments", resp.StatusCode)
		if resp.StatusCode != c.status || resp.Header.Get("Retry-After") == "" {
			t.Errorf("enrol with %v: %d, Retry-After %q; want %d with Retry-After", c.err, resp.StatusCode, resp.Header.Get("Retry-After"), c.status)
		}
		if st, body := ready(); st != 503 || !strings.Contains(body, c.code) {
			t.Errorf("/readyz after %v: %d %s, want 503 %s", c.err, st, body, c.code)
		}
	}
	fs.fail.Store(nil)
	if st, body := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("F9", person(t, 9, 1))); st != 201 {
		t.Fatalf("enrol after the fault: %d %v", st, body)
	}
	// The hold has not passed: still reported. Move the fault back in time.
	n.storageFault.Load().at = n.storageFault.Load().at.Add(-storageFaultHold)
	if st, body := ready(); st != 200 {
		t.Errorf("/readyz after the hold: %d %s", st, body)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
