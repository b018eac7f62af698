package node

import (
	"context"
	"testing"
)

// TestEnrolIdempotent: an enrolment sent again with the same encounter id
// (in the body or as Idempotency-Key) answers the first result with 200
// and "replayed", and enrols nobody twice; the same id under another
// identity, or with other samples, is 409 duplicate_id.
func TestEnrolIdempotent(t *testing.T) {
	tn := newTestNode(t, nil)
	ctx := context.Background()
	count := func() int {
		i, _, err := tn.store.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	// No identity id: the server assigns it, the retry must find it.
	body := map[string]any{"provenance": map[string]any{"legal_basis": "test"}, "samples": person(t, 1, 1),
		"encounter": map[string]any{"id": "visa-2026-0001"}}
	st, first := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", body)
	if st != 201 {
		t.Fatalf("first: %d %v", st, first)
	}
	st, again := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", body)
	if st != 200 || again["identity_id"] != first["identity_id"] || again["replayed"] != true || count() != 1 {
		t.Fatalf("retry: %d %v (first %v), %d identities", st, again, first["identity_id"], count())
	}
	// The same id under another identity, or with fewer samples: a clash.
	other := enrolBody("SOMEONE-ELSE", person(t, 2, 1))
	other["encounter"] = map[string]any{"id": "visa-2026-0001"}
	if st, b := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", other); st != 409 || errCode(b) != CodeDuplicateID {
		t.Fatalf("same encounter id, other identity: %d %v", st, b)
	}
	fewer := map[string]any{"provenance": map[string]any{"legal_basis": "test"}, "samples": person(t, 1, 1)[:1],
		"encounter": map[string]any{"id": "visa-2026-0001"}}
	if st, b := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", fewer); st != 409 || errCode(b) != CodeDuplicateID {
		t.Fatalf("same encounter id, other samples: %d %v", st, b)
	}
	// The client assigns an encounter id when the request has none.
	cl := NewClient(tn.srv.URL, roleTokens[RoleEnroller], nil)
	req := &EnrolRequest{Identity: IdentityInput{Names: []string{"A B"}}, Samples: person(t, 3, 1)}
	req.Provenance.LegalBasis = "test"
	r1, err := cl.Enroll(ctx, req)
	if err != nil || r1.EncounterID == "" {
		t.Fatalf("client enrol: %+v %v", r1, err)
	}
	req.Encounter.ID = r1.EncounterID // what the client's own retry sends
	r2, err := cl.Enroll(ctx, req)
	if err != nil || !r2.Replayed || r2.IdentityID != r1.IdentityID || count() != 2 {
		t.Fatalf("client retry: %+v %v, %d identities", r2, err, count())
	}
}
