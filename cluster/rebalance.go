package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"
)

// Rebalancing moves every identity a shard holds but the ring places on
// another shard (after a shard is added, say) to its owner:
//
//  1. the client asks each shard for a page of its misplaced identities
//     with their stored templates (handoff), read from the shard log, so
//     that what moves is exactly what was acknowledged;
//  2. it enrols the page on the owners, which skip a template they hold
//     already, so a copy sent twice, or an identity enrolled on its new
//     owner while the move was under way, is kept once;
//  3. it tells the source to drop the page (release), which it logs as
//     erasures; only then the next page.
//
// A search during the move is sent to every shard and candidates are
// merged by identity, so an identity held by two shards for a moment is
// neither lost nor counted twice. Enrolments during it go to the new
// owner (the client's ring); an erasure before placement is settled goes
// to every shard and is remembered, so that a page read before it does
// not bring the identity back. Pages and
// erasures are serialised by the client's write lock. A move cut short
// (a crash, a shard down) is finished by running it again.

// handOff is a source shard's side of a rebalance: the misplaced
// identities, read from the log when the first page is asked for.
type handOff struct {
	ring string
	ids  []string
	tmpl map[string][]Template
}

// handOffPageBytes bounds the template data of one page, well inside the
// NATS server's default 1 MB message once encoded as JSON (base64).
const handOffPageBytes = 384 << 10

func (m *Matcher) onHandOff(msg *nats.Msg) {
	var req handOffRequest
	if err := json.Unmarshal(msg.Data, &req); err != nil {
		respond(msg, handOffReply{Error: "bad handoff request: " + err.Error()})
		return
	}
	ring, err := NewRing(req.Ring)
	if err != nil {
		respond(msg, handOffReply{Error: err.Error()})
		return
	}
	if m.log == nil {
		respond(msg, handOffReply{Error: "a matcher without a shard log cannot hand identities off"})
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	key := strings.Join(req.Ring, ",")
	if req.After == "" || m.handOff == nil || m.handOff.ring != key {
		if !m.g.AnyIdentity(func(id string) bool { return ring.Owner(id) != m.cfg.Shard }) {
			// Nothing to move (every start of a node asks): no log read.
			m.handOff = nil
			respond(msg, handOffReply{})
			return
		}
		h, err := m.misplaced(ring)
		if err != nil {
			respond(msg, handOffReply{Error: err.Error()})
			return
		}
		h.ring = key
		m.handOff = h
	}
	h := m.handOff
	i, _ := slices.BinarySearch(h.ids, req.After)
	if i < len(h.ids) && h.ids[i] == req.After {
		i++
	}
	limit := max(req.MaxBytes, 1)
	var out handOffReply
	size := 0
	for ; i < len(h.ids) && (size < limit || len(out.Identities) == 0); i++ {
		id := h.ids[i]
		var keep []Template
		for _, t := range h.tmpl[id] {
			// Only what the shard still holds: an erasure since the log
			// was read is not undone.
			if m.g.HasTemplate(id, t.ID) {
				keep = append(keep, t)
				size += len(t.Data)
			}
		}
		if len(keep) > 0 {
			out.Identities = append(out.Identities, Enrolment{Identity: id, Templates: keep})
		}
	}
	out.More = i < len(h.ids)
	if !out.More {
		m.handOff = nil
	}
	respond(msg, out)
}

// misplaced reads the shard log for the identities held here that ring
// places elsewhere; the caller holds m.mu, so the log does not move.
func (m *Matcher) misplaced(ring *Ring) (*handOff, error) {
	f, err := os.Open(m.logPath())
	if err != nil {
		return nil, fmt.Errorf("cluster: handoff: %w", err)
	}
	defer f.Close()
	h := &handOff{tmpl: map[string][]Template{}}
	_, err = readRecords(f, m.log.size, m.logPath(), func(_ int64, r logRecord) error {
		if ring.Owner(r.identity) == m.cfg.Shard {
			return nil
		}
		switch r.op {
		case logEnrol:
			h.tmpl[r.identity] = append(h.tmpl[r.identity], r.tmpl...)
		case logRemove:
			delete(h.tmpl, r.identity)
		case logRemoveTemplates:
			// What the gallery no longer holds is left out of a page
			// (onHandOff), so the templates may stay listed here.
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for id := range h.tmpl {
		h.ids = append(h.ids, id)
	}
	slices.Sort(h.ids)
	return h, nil
}

func (m *Matcher) onRelease(msg *nats.Msg) {
	var req releaseRequest
	if err := json.Unmarshal(msg.Data, &req); err != nil {
		respond(msg, reply{Error: "bad release request: " + err.Error()})
		return
	}
	ring, err := NewRing(req.Ring)
	if err != nil {
		respond(msg, reply{Error: err.Error()})
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var recs []logRecord
	for _, id := range req.Identities {
		if id != "" && ring.Owner(id) != m.cfg.Shard {
			recs = append(recs, logRecord{op: logRemove, identity: id})
		}
	}
	if m.log != nil && len(recs) > 0 {
		if err := m.log.append(recs...); err != nil {
			respond(msg, reply{Error: err.Error()})
			return
		}
	}
	n := 0
	for _, r := range recs {
		n += m.g.Remove(r.identity)
	}
	respond(msg, reply{Count: n})
}

// RebalanceStats says what a rebalance moved.
type RebalanceStats struct {
	Identities, Templates int
}

// Rebalance moves every identity that a shard of the client's ring holds
// but the ring places elsewhere to its owner (see the comment at the top
// of this file), and then counts placement as settled. Every shard must
// answer: a shard that is down leaves its misplaced identities where they
// are (still found by searches), and Rebalance returns an error; running
// it again finishes the move.
func (c *Client) Rebalance(ctx context.Context) (RebalanceStats, error) {
	var st RebalanceStats
	c.wmu.Lock()
	if c.removed == nil {
		c.removed = map[string]bool{}
	}
	c.wmu.Unlock()
	shards := c.ring.Shards()
	var errs []error
	for _, src := range shards {
		if err := c.handOffShard(ctx, src, shards, &st); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return st, errors.Join(errs...)
	}
	// Settled: from now on an identity is only on its owner.
	c.wmu.Lock()
	c.removed = nil
	c.wmu.Unlock()
	return st, nil
}

// handOffShard moves one source shard's misplaced identities, page by
// page, each page under the write lock.
func (c *Client) handOffShard(ctx context.Context, src string, shards []string, st *RebalanceStats) error {
	after := ""
	for {
		more, last, err := c.handOffPage(ctx, src, shards, after, st)
		if err != nil || !more {
			return err
		}
		after = last
	}
}

func (c *Client) handOffPage(ctx context.Context, src string, shards []string, after string, st *RebalanceStats) (more bool, last string, err error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var page handOffReply
	if err := c.request(ctx, src, opHandOff, handOffRequest{Ring: shards, After: after, MaxBytes: c.pageBytes}, &page); err != nil {
		return false, "", err
	}
	if page.Error != "" {
		return false, "", fmt.Errorf("cluster: shard %s: handoff: %s", src, page.Error)
	}
	var move []Enrolment
	var ids []string
	for _, e := range page.Identities {
		last = e.Identity
		ids = append(ids, e.Identity)
		if c.removed[e.Identity] {
			continue // erased during the move: the page read it before
		}
		move = append(move, e)
		st.Identities++
		st.Templates += len(e.Templates)
	}
	if err := c.enrol(ctx, move); err != nil {
		return false, "", err
	}
	var r reply
	if err := c.request(ctx, src, opRelease, releaseRequest{Ring: shards, Identities: ids}, &r); err != nil {
		return false, "", err
	}
	if r.Error != "" {
		return false, "", fmt.Errorf("cluster: shard %s: release: %s", src, r.Error)
	}
	return page.More, last, nil
}
