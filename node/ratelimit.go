package node

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiters holds one token bucket per principal (or, for the routes that
// need no credentials, per client address).
type limiters struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	by    map[string]*rate.Limiter
}

func newLimiters(perSecond float64, burst int) *limiters {
	r := rate.Limit(perSecond)
	if perSecond == 0 {
		r = rate.Inf
	}
	return &limiters{rate: r, burst: burst, by: map[string]*rate.Limiter{}}
}

// allow reports whether the principal may make a request now and, if not,
// how many whole seconds to wait (for Retry-After).
func (l *limiters) allow(name string) (bool, int) {
	l.mu.Lock()
	lim, ok := l.by[name]
	if !ok {
		if len(l.by) >= maxLimiters {
			l.prune()
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.by[name] = lim
	}
	l.mu.Unlock()
	r := lim.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return false, int(math.Ceil(max(d, time.Second).Seconds()))
	}
	return true, 0
}

// maxLimiters bounds the buckets kept: client addresses are many.
const maxLimiters = 4096

// prune drops the buckets that are full again (their principal or address
// has been idle for burst/rate): forgetting them changes no decision. If
// none is, it drops them all, a bounded leniency towards whoever floods
// the map with addresses. l.mu is held.
func (l *limiters) prune() {
	now := time.Now()
	for k, lim := range l.by {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.by, k)
		}
	}
	if len(l.by) >= maxLimiters {
		clear(l.by)
	}
}
