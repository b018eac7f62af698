package demo

import (
	"context"
	"fmt"
	"slices"

	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/partnership"
)

// serve leaves a step-2 case waiting at each partner (a US border search
// of one of the partner's residents, then a disclosure request), prints
// where each node's console is and the staff's tokens, and keeps the
// nodes running until ctx ends.
func serve(ctx context.Context, p *partnership.Partnership, o Options, partners []string) error {
	us := p.Members["US"]
	type pending struct{ partner, id string }
	var cases []pending
	for k, s := range partners {
		// The first of the partner's residents the US search finds (the
		// matcher may miss one on a poor impression).
		for i := 1; i <= 5; i++ {
			smp, err := samples(o.Seed, partnerBase(k)+i, 2)
			if err != nil {
				return err
			}
			res, err := us.Operator.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: s, Purpose: "border_screening",
				LegalBasis: "demo: border check", Officer: "US-officer-demo", Samples: smp})
			if err != nil {
				return fmt.Errorf("demo: search of %s for a case to serve: %w", s, err)
			}
			if res.Outcome != "hit" {
				continue
			}
			dc, err := us.Operator.RequestDisclosure(ctx, &node.ExchangeDisclosureRequest{Partner: s, Reference: res.Reference, Officer: "US-officer-demo"})
			if err != nil {
				return fmt.Errorf("demo: disclosure request to %s: %w", s, err)
			}
			cases = append(cases, pending{s, dc.Case})
			break
		}
	}
	fmt.Fprintf(o.Out2, "\nThe nodes keep running with their web consoles (Ctrl-C stops them). Sign in with a token:\n")
	for _, s := range append([]string{"US"}, partners...) {
		m := p.Members[s]
		fmt.Fprintf(o.Out2, "\n  %s  %s/console/\n", s, m.URL)
		names := make([]string, 0, len(m.Tokens))
		for n := range m.Tokens {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintf(o.Out2, "      %-14s %s\n", n, m.Tokens[n])
		}
	}
	if len(cases) > 0 {
		fmt.Fprintf(o.Out2, "\nWaiting for an examiner (the US asked for the agreed data after a hit):\n")
		for _, c := range cases {
			fmt.Fprintf(o.Out2, "  at %s: case %s; sign in to %s/console/ as %s-examiner and confirm or reject.\n", c.partner, c.id, p.Members[c.partner].URL, c.partner)
		}
		fmt.Fprintf(o.Out2, "Then, as US-operator at %s/console/operator, check the case (partner and case id) to see what was released.\n", us.URL)
	}
	<-ctx.Done()
	fmt.Fprintf(o.Out2, "stopping the nodes\n")
	return nil
}
