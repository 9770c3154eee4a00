package tenant

import (
	"math"
	"sync/atomic"
	"time"
)

// Rate is a quota: Limit requests per Window, sustained, of which up to
// Burst may arrive at once.
//
// Limit <= 0 means unlimited. Window <= 0 means one minute. Burst <= 0 means
// Limit (the whole window's allowance may be spent at once).
type Rate struct {
	Limit  int64         `json:"limit"`
	Window time.Duration `json:"window"`
	Burst  int64         `json:"burst"`
}

// Unlimited reports whether r admits everything.
func (r Rate) Unlimited() bool { return r.Limit <= 0 }

// Normalize returns r with the defaults of Window and Burst filled in.
func (r Rate) Normalize() Rate {
	if r.Limit <= 0 {
		return Rate{Window: r.Window, Burst: 0}
	}
	if r.Window <= 0 {
		r.Window = time.Minute
	}
	if r.Burst <= 0 {
		r.Burst = r.Limit
	}
	return r
}

// Interval is the GCRA emission interval, Window/Limit truncated to the
// nanosecond and at least one nanosecond (so a Rate is capped at 10⁹ per
// second). It is zero for an unlimited rate.
func (r Rate) Interval() time.Duration {
	if r.Unlimited() {
		return 0
	}
	r = r.Normalize()
	iv := r.Window / time.Duration(r.Limit)
	if iv < 1 {
		iv = 1
	}
	return iv
}

// Decision is the outcome of one admission request.
type Decision struct {
	// Allowed reports whether the request was admitted (and counted).
	Allowed bool
	// Limit is the rate's Limit per window; 0 when unlimited.
	Limit int64
	// Remaining is how many more single requests would be admitted right
	// now. It is -1 when the rate is unlimited.
	Remaining int64
	// RetryAfter is 0 when allowed. When denied it is how long until the
	// same request would be admitted; it is negative when the request can
	// never be admitted (it asks for more than the burst).
	RetryAfter time.Duration
	// ResetAfter is how long until the bucket is full again (0 when full).
	ResetAfter time.Duration
}

// Limits of the internal nanosecond clock. Times are taken as Unix
// nanoseconds clamped to [0, maxNanos] (1970 to about 2189); the emission
// interval and the tolerance are capped at maxTau (about 36 years). With these bounds no arithmetic in
// AllowN can overflow: TAT <= maxNanos+maxTau and TAT+inc <= MaxInt64.
const (
	maxTau   int64 = 1 << 60
	maxNanos int64 = math.MaxInt64 - 1<<61
)

func unixNanos(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	if s >= maxNanos/int64(time.Second) {
		return maxNanos
	}
	return min(t.UnixNano(), maxNanos)
}

// params is an immutable snapshot of a Rate, swapped atomically by SetRate
// so that interval and tolerance always change together.
type params struct {
	rate     Rate  // normalized
	interval int64 // emission interval T, ns
	burst    int64 // effective burst (capped so burst*interval <= maxTau)
	tau      int64 // tolerance burst*interval, ns
}

func newParams(r Rate) *params {
	r = r.Normalize()
	if r.Unlimited() {
		return &params{rate: r}
	}
	iv := min(int64(r.Interval()), maxTau)
	b := min(r.Burst, maxTau/iv) // >= 1 since iv <= maxTau
	return &params{rate: r, interval: iv, burst: b, tau: b * iv}
}

// Limiter admits requests at a Rate with the generic cell rate algorithm
// (GCRA). It is safe for concurrent use; Allow and AllowN are lock-free and
// do not allocate. The clock is injected: every call takes now explicitly.
//
// The whole state is one number, the theoretical arrival time (TAT): the
// instant at which the bucket would be full again. A request for n at now is
// admitted when max(TAT, now) + n·T - now <= τ, where T = Window/Limit is the
// emission interval and τ = Burst·T the tolerance; admitting it sets
// TAT = max(TAT, now) + n·T with a compare-and-swap, so of L+k concurrent
// requests at one instant on a full bucket of burst L exactly L are
// admitted. A denied request does not change the state: refused requests
// consume no quota.
//
// Persistence. State returns a snapshot to save; NewLimiter or Restore puts
// it back. A saved state resumes exactly: a restart neither resets the
// quota (requests admitted before the save still count until the time they
// would have refilled) nor double-counts (the state is an absolute instant,
// not a counter, so restoring the same state twice consumes nothing).
// Restore replaces the state; it does not merge. A zero TAT, or a TAT in the
// past, is a full bucket.
//
// Clock going backwards. The TAT never decreases, so a clock stepping back
// by d admits nothing extra: it only delays admissions by up to d, and
// RetryAfter reports the wait. The same holds for a state saved under a
// clock that was ahead. Times are read at nanosecond precision and clamped
// to 1970..2189; intervals and tolerances are capped at 2^60 ns (36 years).
//
// Changing the rate: SetRate keeps the TAT, so the time already owed
// carries over as time. ChangeRate keeps the number of requests already
// counted instead (the owed time is rescaled to the new interval), which is
// what a license upgrade or downgrade means: a tenant that used 2 of 2 and
// is raised to 1000 has 998 left, not a two-window wait.
//
// An unlimited rate admits everything and leaves the state untouched. The
// zero Limiter is unlimited.
type Limiter struct {
	tat atomic.Int64 // unix nanos; 0 = full bucket
	p   atomic.Pointer[params]
}

// NewLimiter returns a Limiter for r with the restored state s (use the
// zero LimiterState for a fresh, full bucket).
func NewLimiter(r Rate, s LimiterState) *Limiter {
	l := new(Limiter)
	l.p.Store(newParams(r))
	l.Restore(s)
	return l
}

// Allow is AllowN(now, 1).
func (l *Limiter) Allow(now time.Time) Decision { return l.AllowN(now, 1) }

// AllowN asks to admit n requests at once at now: all or none are admitted.
// n <= 0 consumes nothing and reports the current state.
func (l *Limiter) AllowN(now time.Time, n int64) Decision {
	p := l.p.Load()
	if p == nil || p.interval == 0 {
		return Decision{Allowed: true, Limit: 0, Remaining: -1}
	}
	n = max(n, 0)
	t := unixNanos(now)
	if n > p.burst {
		return p.deny(t, l.tat.Load(), -1)
	}
	inc := n * p.interval // <= tau <= maxTau
	for {
		old := l.tat.Load()
		base := max(old, t)
		next := base + inc
		if next-t > p.tau {
			return p.deny(t, old, time.Duration(next-t-p.tau))
		}
		if inc == 0 || l.tat.CompareAndSwap(old, next) {
			return Decision{
				Allowed:    true,
				Limit:      p.rate.Limit,
				Remaining:  (p.tau - (next - t)) / p.interval,
				ResetAfter: time.Duration(next - t),
			}
		}
	}
}

// Peek reports whether one request would be admitted at now, with the
// wait if not, without consuming anything. Callers that charge only
// failures (a guard against guessing) peek before the attempt and Allow
// after a failure.
func (l *Limiter) Peek(now time.Time) Decision {
	p := l.p.Load()
	if p == nil || p.interval == 0 {
		return Decision{Allowed: true, Limit: 0, Remaining: -1}
	}
	t := unixNanos(now)
	old := l.tat.Load()
	next := max(old, t) + p.interval
	if next-t > p.tau {
		return p.deny(t, old, time.Duration(next-t-p.tau))
	}
	return Decision{
		Allowed:    true,
		Limit:      p.rate.Limit,
		Remaining:  (p.tau - (max(old, t) - t)) / p.interval,
		ResetAfter: time.Duration(max(old-t, 0)),
	}
}

func (p *params) deny(t, tat int64, retry time.Duration) Decision {
	owed := max(tat-t, 0)
	return Decision{
		Allowed:    false,
		Limit:      p.rate.Limit,
		Remaining:  max(p.tau-owed, 0) / p.interval,
		RetryAfter: retry,
		ResetAfter: time.Duration(owed),
	}
}

// Refund gives back n requests admitted earlier, at now: the TAT moves back
// by n emission intervals, never before now, so a refund restores what was
// charged and never banks credit beyond a full bucket. It is for callers
// that charge an attempt before doing costly work and then find it should
// not have counted (a successful sign-in). n <= 0 changes nothing.
func (l *Limiter) Refund(now time.Time, n int64) {
	p := l.p.Load()
	if p == nil || p.interval == 0 || n <= 0 {
		return
	}
	t := unixNanos(now)
	dec := min(n, p.burst) * p.interval
	for {
		old := l.tat.Load()
		if old <= t {
			return
		}
		if l.tat.CompareAndSwap(old, max(old-dec, t)) {
			return
		}
	}
}

// State returns a snapshot of the limiter's state for persistence.
func (l *Limiter) State() LimiterState {
	tat := l.tat.Load()
	if tat <= 0 {
		return LimiterState{}
	}
	return LimiterState{TAT: time.Unix(0, tat).UTC(), Rate: l.Rate()}
}

// Restore replaces the limiter's state with s (see Limiter: Persistence).
func (l *Limiter) Restore(s LimiterState) {
	l.tat.Store(unixNanos(s.TAT))
}

// ChangeRate changes the rate at now, keeping the count of requests the
// bucket holds: the time owed beyond now is rescaled from the old emission
// interval to the new one. From or to an unlimited rate, the state is
// cleared (an unlimited rate counts nothing).
func (l *Limiter) ChangeRate(r Rate, now time.Time) {
	next := newParams(r)
	old := l.p.Swap(next)
	t := unixNanos(now)
	for {
		tat := l.tat.Load()
		var want int64
		if old != nil && old.interval != 0 && next.interval != 0 && tat > t {
			owed := tat - t
			// owed/old.interval requests, each now costing next.interval;
			// computed in float64 to avoid overflowing the product.
			want = t + int64(float64(owed)/float64(old.interval)*float64(next.interval))
		}
		if l.tat.CompareAndSwap(tat, want) {
			return
		}
	}
}

// SetRate changes the rate, keeping the state (a license change does not
// reset the quota).
func (l *Limiter) SetRate(r Rate) { l.p.Store(newParams(r)) }

// Rate returns the limiter's rate with defaults filled in.
func (l *Limiter) Rate() Rate {
	if p := l.p.Load(); p != nil {
		return p.rate
	}
	return Rate{}
}
