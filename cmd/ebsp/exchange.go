package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ebsp/ebsp/node"
)

func init() {
	register("exchange", "search partner states and decide step-2 cases through a node (client)", runExchange)
}

const exchangeUsage = `usage: ebsp exchange search --partner GB --purpose border_screening --legal-basis TEXT --officer ID SAMPLE...
       ebsp exchange disclose --partner GB --reference REF --officer ID [--fields names,date_of_birth,...]
       ebsp exchange status --partner GB CASE
       ebsp exchange cases
       ebsp exchange decide --confirm|--reject [--candidate ID] CASE

Clients of a node's partnership API (the node does the signing, mutual TLS
and audit logging):

search    step 1: hit (with a single-use reference) or no_hit; never personal data
disclose  step 2: ask for the agreed data after a hit; answers a case id
status    how a step-2 request stands; the release once the partner's examiner confirmed
cases     (examiner) the step-2 cases waiting at this node
decide    (examiner) confirm or reject a case; only a confirmation releases data

The node and token come from --node/--token-file or EBSP_NODE and
EBSP_TOKEN_FILE (or EBSP_TOKEN), as for ebsp identify.
`

func runExchange(args []string) int {
	subs := map[string]func([]string) int{}
	for _, a := range []string{"search", "disclose", "status", "cases", "decide"} {
		subs[a] = func(args []string) int { return exchangeAction(a, args) }
	}
	return dispatch("exchange", exchangeUsage+"\n'ebsp exchange <action> -h' lists the flags.", args, subs)
}

// exchangeAction runs one action; they share their flags.
func exchangeAction(action string, args []string) int {
	cf := newClientFlags("exchange "+action, exchangeUsage)
	partner := cf.fs.String("partner", "", "partner state (ISO 3166-1 alpha-2)")
	purpose := cf.fs.String("purpose", "border_screening", "purpose of the search, as the agreement names it")
	legal := cf.fs.String("legal-basis", "", "legal basis of the search")
	officer := cf.fs.String("officer", "", "pseudonymous id of the requesting officer")
	reference := cf.fs.String("reference", "", "step-1 reference of a hit")
	fields := cf.fs.String("fields", "", "comma-separated fields to ask for (default: the agreement's allow-list)")
	confirm := cf.fs.Bool("confirm", false, "confirm the match")
	reject := cf.fs.Bool("reject", false, "reject the match")
	candidate := cf.fs.String("candidate", "", "the gallery candidate confirmed")
	if ok, code := cf.parse(args); !ok {
		return code
	}
	cl, err := cf.client()
	if err != nil {
		return fail("exchange", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out any
	switch action {
	case "search":
		s, err := cf.samples()
		if err != nil {
			return fail("exchange", err)
		}
		res, err := cl.ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: *partner, Purpose: *purpose, LegalBasis: *legal, Officer: *officer, Samples: s})
		if err != nil {
			return fail("exchange", err)
		}
		out = res
		if !*cf.json {
			fmt.Printf("%s  reference %q  candidates %d\n", res.Outcome, res.Reference, res.CandidateCount)
			return 0
		}
	case "disclose":
		var f []string
		if *fields != "" {
			f = strings.Split(*fields, ",")
		}
		res, err := cl.RequestDisclosure(ctx, &node.ExchangeDisclosureRequest{Partner: *partner, Reference: *reference, Fields: f, Officer: *officer})
		if err != nil {
			return fail("exchange", err)
		}
		out = res
		if !*cf.json {
			fmt.Printf("case %s queued for the partner's examiners, deadline %s\n", res.Case, res.Deadline.Format(time.RFC3339))
			return 0
		}
	case "status":
		if cf.fs.NArg() != 1 {
			return fail("exchange", errors.New("status needs one CASE"))
		}
		res, err := cl.Disclosure(ctx, *partner, cf.fs.Arg(0))
		if err != nil {
			return fail("exchange", err)
		}
		out = res
	case "cases":
		res, err := cl.Cases(ctx)
		if err != nil {
			return fail("exchange", err)
		}
		out = res
		if !*cf.json {
			for _, c := range res {
				fmt.Printf("%s  from %s  %s  candidates %v  deadline %s\n", c.Case, c.Partner, c.Purpose, c.Candidates, c.Deadline.Format(time.RFC3339))
			}
			return 0
		}
	case "decide":
		if cf.fs.NArg() != 1 || *confirm == *reject {
			return fail("exchange", errors.New("decide needs one CASE and exactly one of --confirm, --reject"))
		}
		if err := cl.Decide(ctx, cf.fs.Arg(0), *confirm, *candidate); err != nil {
			return fail("exchange", err)
		}
		fmt.Println("decided")
		return 0
	default:
		fmt.Fprint(os.Stderr, exchangeUsage)
		return 2
	}
	return emitJSON("exchange", out)
}
