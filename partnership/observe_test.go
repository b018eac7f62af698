package partnership

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store"
)

// TestPartnerSearchesObserved checks what the PoC builds on: a node that
// answers partner searches counts them by decision in its metrics and
// hands each answer, with its candidates, to its observer; the partner
// sees only the opaque reply.
func TestPartnerSearchesObserved(t *testing.T) {
	ctx := context.Background()
	p, us, gb := startUSGB(t, 10)
	defer p.Close()
	var mu sync.Mutex
	var seen []node.PartnerSearch
	gb.Node.ObservePartnerSearches(func(ps node.PartnerSearch) {
		mu.Lock()
		seen = append(seen, node.PartnerSearch{Decision: ps.Decision, Candidates: append([]biometric.Candidate(nil), ps.Candidates...)})
		mu.Unlock()
	})
	for _, person := range []int{3, 500} {
		if _, err := us.Operator.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: "GB", Purpose: "border_screening",
			LegalBasis: "test", Officer: "officer-1", Samples: personSamples(t, person, 2)}); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0].Decision != biometric.Hit || len(seen[0].Candidates) == 0 || seen[0].Candidates[0].IdentityID != "GB-3" ||
		seen[1].Decision != biometric.NoHit || len(seen[1].Candidates) != 0 {
		t.Fatalf("observed %+v: want a hit on GB-003, then a no-hit", seen)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", gb.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+gb.Tokens["GB-auditor"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`ebsp_partner_search_decisions_total{decision="hit"} 1`, `ebsp_partner_search_decisions_total{decision="no_hit"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GB metrics lack %s", want)
		}
	}
}

// startUSGB starts a partnership of US and GB and enrols synthetic persons
// 0 to n-1 at GB as GB-0 ... (impression 1).
func startUSGB(t *testing.T, n int) (p *Partnership, us, gb *Member) {
	t.Helper()
	return startUSGBWith(t, n, nil)
}

// startUSGBWith is startUSGB with each node's configuration and engines
// adjusted by edit (Options.Node).
func startUSGBWith(t *testing.T, n int, edit func(state string, cfg *node.Config, engines map[biometric.Modality]engine.Engine)) (p *Partnership, us, gb *Member) {
	t.Helper()
	ctx := context.Background()
	p, err := Start(ctx, Options{Dir: t.TempDir(), Hub: "US", Partners: []string{"GB"}, Node: edit})
	if err != nil {
		t.Fatal(err)
	}
	us, gb = p.Members["US"], p.Members["GB"]
	for i := range n {
		if _, err := gb.Operator.Enroll(ctx, &node.EnrolRequest{Identity: node.IdentityInput{ID: fmt.Sprintf("GB-%d", i), Names: []string{"A Person"}},
			Provenance: store.Provenance{LegalBasis: "test"}, Samples: personSamples(t, i, 1)}); err != nil {
			p.Close()
			t.Fatal(err)
		}
	}
	return p, us, gb
}
