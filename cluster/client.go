package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ebsp/ebsp/biometric"
)

// Client is the node's side of a cluster: it routes enrolments and
// erasures to the owning shard and scatter-gathers searches.
type Client struct {
	nc      *nats.Conn
	prefix  string
	ring    *Ring
	timeout time.Duration

	searches, partial atomic.Int64

	// wmu serialises enrolments and erasures with a rebalance's pages;
	// removed, set until a rebalance has settled placement, holds the
	// identities erased since the client started.
	wmu     sync.Mutex
	removed map[string]bool
	// pageBytes bounds a rebalance page (handOffPageBytes; tests lower it).
	pageBytes int
}

// NewClient returns a client for the shards of ring. timeout bounds how
// long a search waits for a shard before it answers without it.
func NewClient(nc *nats.Conn, prefix string, ring *Ring, timeout time.Duration) *Client {
	// Until a Rebalance has settled placement, an identity may be on a
	// shard other than its owner: erasures go to every shard.
	return &Client{nc: nc, prefix: prefix, ring: ring, timeout: timeout, pageBytes: handOffPageBytes, removed: map[string]bool{}}
}

// Result is a scatter-gathered search.
type Result struct {
	// Candidates are the best of every shard that answered, best first.
	Candidates []biometric.Candidate
	// Partial is true when a shard did not answer (Missing names them):
	// an identity on it could not be found, so a no-hit is not a no-hit.
	Partial bool
	Missing []string
	// Templates and Identities are what the answering shards hold.
	Templates, Identities int
}

// Stats returns the searches made and how many of them were partial.
func (c *Client) Stats() (searches, partial int64) { return c.searches.Load(), c.partial.Load() }

// Search sends the probe to every shard and merges what they answer
// within the client's timeout.
func (c *Client) Search(ctx context.Context, samples []Sample, limit int, floor float64) (*Result, error) {
	body, err := json.Marshal(searchRequest{Samples: samples, Limit: limit, Floor: floor})
	if err != nil {
		return nil, err
	}
	shards := c.ring.Shards()
	replies := make([]*searchReply, len(shards))
	errs := make([]error, len(shards))
	var wg sync.WaitGroup
	for i, s := range shards {
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			msg, err := c.nc.RequestWithContext(rctx, subject(c.prefix, s, opSearch), body)
			if err != nil {
				errs[i] = err
				return
			}
			var r searchReply
			if err := json.Unmarshal(msg.Data, &r); err != nil {
				errs[i] = err
				return
			}
			if r.Error != "" {
				errs[i] = errors.New(r.Error)
				return
			}
			replies[i] = &r
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{}
	for i, r := range replies {
		if r == nil {
			res.Missing = append(res.Missing, shards[i])
			continue
		}
		res.Candidates = append(res.Candidates, r.Candidates...)
		res.Templates += r.Templates
		res.Identities += r.Identities
	}
	c.searches.Add(1)
	if len(res.Missing) > 0 {
		res.Partial = true
		c.partial.Add(1)
	}
	if len(res.Missing) == len(shards) {
		return res, fmt.Errorf("cluster: no shard answered the search (first: %v)", errs[0])
	}
	// An identity moving between shards (Rebalance) may be on two for a
	// moment: keep its best candidate once.
	best := map[string]int{}
	merged := res.Candidates[:0]
	for _, cd := range res.Candidates {
		if i, ok := best[cd.IdentityID]; ok {
			if cd.Score > merged[i].Score {
				merged[i] = cd
			}
			continue
		}
		best[cd.IdentityID] = len(merged)
		merged = append(merged, cd)
	}
	res.Candidates = merged
	sort.Slice(res.Candidates, func(i, j int) bool {
		a, b := res.Candidates[i], res.Candidates[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.IdentityID < b.IdentityID
	})
	if len(res.Candidates) > limit {
		res.Candidates = res.Candidates[:limit]
	}
	return res, nil
}

// Enrol sends identities to their owning shards (one request per shard)
// and returns when every shard has logged them.
func (c *Client) Enrol(ctx context.Context, es ...Enrolment) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.enrol(ctx, es)
}

// enrol sends enrolments to their owners; the caller holds wmu.
func (c *Client) enrol(ctx context.Context, es []Enrolment) error {
	by := map[string][]Enrolment{}
	for _, e := range es {
		by[c.ring.Owner(e.Identity)] = append(by[c.ring.Owner(e.Identity)], e)
	}
	for shard, batch := range by {
		var r reply
		if err := c.request(ctx, shard, opEnrol, enrolRequest{Identities: batch}, &r); err != nil {
			return err
		}
		if r.Error != "" {
			return fmt.Errorf("cluster: shard %s: enrol: %s", shard, r.Error)
		}
	}
	return nil
}

// Remove erases an identity on its shard and returns how many templates
// went.
//
// Until a rebalance has settled placement (a client's first Rebalance
// returned without error) the identity may still be on another shard, so
// the erasure goes to every shard; every one must answer.
func (c *Client) Remove(ctx context.Context, identity string) (int, error) {
	return c.remove(ctx, removeRequest{Identity: identity})
}

// RemoveTemplates erases some templates of an identity (retention of an
// expired encounter or sample), wherever Remove would send the erasure.
func (c *Client) RemoveTemplates(ctx context.Context, identity string, templates []string) (int, error) {
	if len(templates) == 0 {
		return 0, nil
	}
	return c.remove(ctx, removeRequest{Identity: identity, Templates: templates})
}

func (c *Client) remove(ctx context.Context, req removeRequest) (int, error) {
	identity := req.Identity
	c.wmu.Lock()
	defer c.wmu.Unlock()
	shards := []string{c.ring.Owner(identity)}
	if c.removed != nil {
		if len(req.Templates) == 0 {
			c.removed[identity] = true
		}
		shards = c.ring.Shards()
	}
	n := 0
	for _, shard := range shards {
		var r reply
		if err := c.request(ctx, shard, opRemove, req, &r); err != nil {
			return n, err
		}
		if r.Error != "" {
			return n, fmt.Errorf("cluster: shard %s: remove: %s", shard, r.Error)
		}
		n += r.Count
	}
	return n, nil
}

// Verify compares the samples with one identity's templates on its shard
// (1:1); found is false when the shard holds none of them. While a
// rebalance has settled placement, an identity not yet on its owner is
// looked for on every shard.
func (c *Client) Verify(ctx context.Context, identity string, samples []Sample) (score float64, found bool, err error) {
	shards := []string{c.ring.Owner(identity)}
	c.wmu.Lock()
	if c.removed != nil {
		shards = c.ring.Shards()
	}
	c.wmu.Unlock()
	for _, shard := range shards {
		var r verifyReply
		if err := c.request(ctx, shard, opVerify, verifyRequest{Identity: identity, Samples: samples}, &r); err != nil {
			return 0, false, err
		}
		if r.Error != "" {
			return 0, false, fmt.Errorf("cluster: shard %s: verify: %s", shard, r.Error)
		}
		if r.Found && (!found || r.Score > score) {
			score, found = r.Score, true
		}
	}
	return score, found, nil
}

// Ring returns the client's ring.
func (c *Client) Ring() *Ring { return c.ring }

// Info asks one shard for its size and its matcher's live heap (which
// costs the matcher a garbage collection).
func (c *Client) Info(ctx context.Context, shard string) (Info, error) {
	var in Info
	err := c.request(ctx, shard, opInfo, infoRequest{Heap: true}, &in)
	return in, err
}

// Size asks one shard for its size only.
func (c *Client) Size(ctx context.Context, shard string) (Info, error) {
	var in Info
	err := c.request(ctx, shard, opInfo, infoRequest{}, &in)
	return in, err
}

func (c *Client) request(ctx context.Context, shard, op string, req, out any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, max(c.timeout, 30*time.Second))
	defer cancel()
	msg, err := c.nc.RequestWithContext(rctx, subject(c.prefix, shard, op), body)
	if err != nil {
		return fmt.Errorf("cluster: shard %s: %s: %w", shard, op, err)
	}
	if err := json.Unmarshal(msg.Data, out); err != nil {
		return fmt.Errorf("cluster: shard %s: %s: bad reply: %w", shard, op, err)
	}
	return nil
}
