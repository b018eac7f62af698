package exchange

import (
	"maps"
	"sync"
	"time"
)

// ReceivedRecord is data a partner released to this node, with its tags.
type ReceivedRecord struct {
	Partner    string
	Release    Release
	ReceivedAt time.Time
}

// Received holds released data on the requesting side, in memory, and
// destroys them by their destroy-by date (Sweep) or at once when the
// agreement is suspended.
type Received struct {
	mu   sync.Mutex
	recs map[string]ReceivedRecord // by case id
}

func (r *Received) put(caseID, partner string, rel Release, now time.Time) {
	rel.Fields = maps.Clone(rel.Fields)
	r.mu.Lock()
	r.recs[caseID] = ReceivedRecord{Partner: partner, Release: rel, ReceivedAt: now}
	r.mu.Unlock()
}

// Get returns the record of a case, if still held.
func (r *Received) Get(caseID string) (ReceivedRecord, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.recs[caseID]
	rec.Release.Fields = maps.Clone(rec.Release.Fields)
	return rec, ok
}

// Len returns the number of records held.
func (r *Received) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.recs)
}

// Sweep destroys records whose destroy-by date is not after now.
func (r *Received) Sweep(now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for id, rec := range r.recs {
		if !now.Before(rec.Release.Handling.DestroyBy) {
			clear(rec.Release.Fields)
			delete(r.recs, id)
			n++
		}
	}
	return n
}

func (r *Received) destroyAll() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.recs)
	for id, rec := range r.recs {
		clear(rec.Release.Fields)
		delete(r.recs, id)
	}
	return n
}
