package exchange

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/ebsp/ebsp/audit"
)

// Junk: a message that fails the envelope checks (malformed, unsigned,
// badly signed, for another node or agreement, expired, replayed) or comes
// over a TLS connection of another state than the one it names. Whoever
// sends it holds a TLS client certificate of a partner CA (the handshake
// refused anyone else), but the message proves nothing more, so it gets no
// leaf of its own: one leaf per message would let any holder of such a
// certificate grow the log at will, outside any quota. Junk is counted per
// TLS peer state and reason, the counts are written as one refusal leaf
// each (with Count) by the next Sweep, and each peer may send junkBurst
// such messages, refilled at junkRate per second; beyond that the
// endpoint answers 429 too_many_invalid without reading the message.

// ReasonJunkLimited refuses a peer that sent too many invalid messages.
const ReasonJunkLimited = "too_many_invalid"

const (
	junkRate  = 1.0 // invalid messages per second per peer, sustained
	junkBurst = 20
)

type junkKey struct{ peer, reason string }

type junkBucket struct {
	tokens float64
	last   time.Time
}

// junkCounter holds the counts and per-peer buckets. Its own lock: junk
// must not wait for the responder's.
type junkCounter struct {
	mu      sync.Mutex
	counts  map[junkKey]int
	buckets map[string]*junkBucket
}

// bucket refills and returns peer's bucket. Callers hold j.mu.
func (j *junkCounter) bucket(peer string, now time.Time) *junkBucket {
	if j.buckets == nil {
		j.buckets, j.counts = map[string]*junkBucket{}, map[junkKey]int{}
	}
	b := j.buckets[peer]
	if b == nil {
		b = &junkBucket{tokens: junkBurst, last: now}
		j.buckets[peer] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(junkBurst, b.tokens+el*junkRate)
	}
	b.last = now
	return b
}

// limited reports whether peer has used up its junk allowance, and if so
// counts the message and says when to retry.
func (j *junkCounter) limited(peer string, now time.Time) (bool, time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.bucket(peer, now)
	if b.tokens >= 1 {
		return false, 0
	}
	j.counts[junkKey{peer, ReasonJunkLimited}]++
	return true, time.Duration((1 - b.tokens) / junkRate * float64(time.Second))
}

// add counts one junk message of peer.
func (j *junkCounter) add(peer, reason string, now time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.bucket(peer, now)
	b.tokens = max(0, b.tokens-1)
	j.counts[junkKey{peer, reason}]++
}

// take returns the counts and clears them.
func (j *junkCounter) take() map[junkKey]int {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.counts
	j.counts = map[junkKey]int{}
	return c
}

// plainRefusal is an unsigned refusal reply.
func plainRefusal(rf *Refusal) Response {
	body := RefusalReply{Reason: rf.Reason, Detail: rf.Detail}
	if rf.RetryAfter > 0 {
		body.RetryAfterSeconds = int((rf.RetryAfter + time.Second - 1) / time.Second)
	}
	b, _ := json.Marshal(body)
	return Response{Status: rf.Status, RetryAfter: rf.RetryAfter, Body: b}
}

// junk answers an invalid message: counted, no leaf, an unsigned reply.
func (r *Responder) junk(peer string, rf *Refusal) Response {
	r.junkCount.add(peer, rf.Reason, r.now())
	r.logger.Debug("exchange: invalid message", "peer", peer, "reason", rf.Reason)
	return plainRefusal(rf)
}

// flushJunk writes the junk counts since the last flush as refusal leaves,
// one per peer and reason, with their Count.
func (r *Responder) flushJunk(now time.Time) error {
	for k, n := range r.junkCount.take() {
		if _, err := r.log.Append(audit.Leaf{Time: now, Kind: audit.KindRefusal, Partner: k.peer, Reason: k.reason, Count: n}); err != nil {
			return err
		}
	}
	return nil
}

// junkLimited is what the endpoint answers a peer over its junk
// allowance.
func junkLimited(retry time.Duration) Response {
	rf := refuse(http.StatusTooManyRequests, ReasonJunkLimited, "too many invalid messages from this peer; retry later")
	rf.RetryAfter = retry
	return plainRefusal(rf)
}
