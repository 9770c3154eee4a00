package tenant_test

import (
	"encoding/json"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/licensekit/licensekit/tenant"
)

// ten is 10 per 10s: emission interval 1s, burst 10, tolerance 10s.
var ten = tenant.Rate{Limit: 10, Window: 10 * time.Second}

func drain(t *testing.T, l *tenant.Limiter, now time.Time) int64 {
	t.Helper()
	var n int64
	for i := 0; i < 10_000; i++ {
		if !l.Allow(now).Allowed {
			return n
		}
		n++
	}
	t.Fatal("limiter never denied")
	return n
}

func TestRateDefaults(t *testing.T) {
	tests := []struct {
		name     string
		in       tenant.Rate
		want     tenant.Rate
		interval time.Duration
	}{
		{"defaults", tenant.Rate{Limit: 60}, tenant.Rate{Limit: 60, Window: time.Minute, Burst: 60}, time.Second},
		{"explicit", tenant.Rate{Limit: 4, Window: time.Second, Burst: 2}, tenant.Rate{Limit: 4, Window: time.Second, Burst: 2}, 250 * time.Millisecond},
		{"negative burst means limit", tenant.Rate{Limit: 4, Window: time.Second, Burst: -3}, tenant.Rate{Limit: 4, Window: time.Second, Burst: 4}, 250 * time.Millisecond},
		{"interval at least 1ns", tenant.Rate{Limit: 1 << 40, Window: time.Second}, tenant.Rate{Limit: 1 << 40, Window: time.Second, Burst: 1 << 40}, 1},
		{"unlimited", tenant.Rate{Limit: -5, Window: time.Second, Burst: 3}, tenant.Rate{Window: time.Second}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.in.Normalize())
			require.Equal(t, tc.interval, tc.in.Interval())
			require.Equal(t, tc.want, tenant.NewLimiter(tc.in, tenant.LimiterState{}).Rate())
		})
	}
}

func TestLimiterBurstThenDeny(t *testing.T) {
	tests := []struct {
		name  string
		rate  tenant.Rate
		burst int64
		retry time.Duration
	}{
		{"burst = limit", ten, 10, time.Second},
		{"burst below limit", tenant.Rate{Limit: 60, Window: time.Minute, Burst: 5}, 5, time.Second},
		{"burst above limit", tenant.Rate{Limit: 2, Window: time.Second, Burst: 7}, 7, 500 * time.Millisecond},
		{"burst 1", tenant.Rate{Limit: 3, Window: 3 * time.Hour, Burst: 1}, 1, time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := tenant.NewLimiter(tc.rate, tenant.LimiterState{})
			for i := int64(0); i < tc.burst; i++ {
				d := l.Allow(t0)
				require.True(t, d.Allowed, "request %d", i)
				require.Equal(t, tc.rate.Limit, d.Limit)
				require.Equal(t, tc.burst-1-i, d.Remaining, "Remaining counts down")
				require.Zero(t, d.RetryAfter)
				require.Equal(t, time.Duration(i+1)*tc.retry, d.ResetAfter)
			}
			d := l.Allow(t0)
			require.False(t, d.Allowed)
			require.Equal(t, tc.rate.Limit, d.Limit)
			require.Zero(t, d.Remaining)
			require.Equal(t, tc.retry, d.RetryAfter)
			require.Equal(t, time.Duration(tc.burst)*tc.retry, d.ResetAfter)

			// RetryAfter is exact: 1ns earlier is still denied, then admitted.
			d = l.Allow(t0.Add(tc.retry - 1))
			require.False(t, d.Allowed)
			require.Equal(t, time.Duration(1), d.RetryAfter)
			require.True(t, l.Allow(t0.Add(tc.retry)).Allowed)
			require.False(t, l.Allow(t0.Add(tc.retry)).Allowed)
		})
	}
}

func TestLimiterRefill(t *testing.T) {
	l := tenant.NewLimiter(ten, tenant.LimiterState{})
	require.EqualValues(t, 10, drain(t, l, t0))
	tests := []struct {
		after time.Duration
		want  int64
	}{
		{500 * time.Millisecond, 0},
		{time.Second, 1},
		{3 * time.Second, 2},
		{3*time.Second + 999*time.Millisecond, 0},
		{6 * time.Second, 3},
		{time.Hour, 10}, // a full bucket, never more than the burst
		{time.Hour + 10*time.Second, 10},
	}
	for _, tc := range tests {
		t.Run(tc.after.String(), func(t *testing.T) {
			require.Equal(t, tc.want, drain(t, l, t0.Add(tc.after)))
		})
	}
}

func TestLimiterDeniedDoesNotConsume(t *testing.T) {
	l := tenant.NewLimiter(ten, tenant.LimiterState{})
	drain(t, l, t0)
	before := l.State()
	for i := 0; i < 1000; i++ {
		now := t0.Add(time.Duration(i) * time.Millisecond / 2) // all before t0+1s
		require.False(t, l.Allow(now).Allowed)
		require.False(t, l.AllowN(now, 3).Allowed)
	}
	require.Equal(t, before, l.State(), "denials do not change the state")
	require.EqualValues(t, 1, drain(t, l, t0.Add(time.Second)))
}

func TestLimiterAllowN(t *testing.T) {
	l := tenant.NewLimiter(ten, tenant.LimiterState{})
	d := l.AllowN(t0, 7)
	require.True(t, d.Allowed)
	require.EqualValues(t, 3, d.Remaining)

	d = l.AllowN(t0, 5) // all or none
	require.False(t, d.Allowed)
	require.EqualValues(t, 3, d.Remaining)
	require.Equal(t, 2*time.Second, d.RetryAfter)

	d = l.AllowN(t0, 0) // a peek
	require.True(t, d.Allowed)
	require.EqualValues(t, 3, d.Remaining)
	require.True(t, l.AllowN(t0, -4).Allowed, "negative n is a peek")

	d = l.AllowN(t0, 11) // more than the burst: never
	require.False(t, d.Allowed)
	require.Negative(t, d.RetryAfter)
	require.EqualValues(t, 3, d.Remaining)
	require.False(t, l.AllowN(t0.Add(time.Hour), 11).Allowed)

	d = l.AllowN(t0, 3)
	require.True(t, d.Allowed)
	require.Zero(t, d.Remaining)
	require.Equal(t, 10*time.Second, d.ResetAfter)
}

func TestLimiterUnlimited(t *testing.T) {
	for name, l := range map[string]*tenant.Limiter{
		"limit 0":  tenant.NewLimiter(tenant.Rate{}, tenant.LimiterState{}),
		"negative": tenant.NewLimiter(tenant.Rate{Limit: -1, Window: time.Second}, tenant.LimiterState{TAT: t0.Add(time.Hour)}),
		"zero":     new(tenant.Limiter),
	} {
		t.Run(name, func(t *testing.T) {
			before := l.State()
			for i := 0; i < 1000; i++ {
				d := l.AllowN(t0, 1000)
				require.Equal(t, tenant.Decision{Allowed: true, Limit: 0, Remaining: -1}, d)
			}
			require.Equal(t, before, l.State())
		})
	}
}

func TestLimiterSetRateKeepsState(t *testing.T) {
	l := tenant.NewLimiter(ten, tenant.LimiterState{})
	drain(t, l, t0)
	// Upgrade to 100 per 10s: the 10s owed now refill every 100ms.
	l.SetRate(tenant.Rate{Limit: 100, Window: 10 * time.Second})
	require.False(t, l.Allow(t0).Allowed)
	require.EqualValues(t, 1, drain(t, l, t0.Add(100*time.Millisecond)))
	// To unlimited and back: the state is untouched meanwhile.
	st := l.State()
	l.SetRate(tenant.Rate{})
	require.True(t, l.Allow(t0).Allowed)
	require.Equal(t, st.TAT, l.State().TAT)
	l.SetRate(ten)
	require.False(t, l.Allow(t0.Add(100*time.Millisecond)).Allowed)
}

func TestLimiterConcurrentExact(t *testing.T) {
	const goroutines = 64
	for _, limit := range []int64{1, 7, 64, 100, 1000, 4099} {
		for _, extra := range []int64{1, 63, 5000} {
			total := limit + extra
			t.Run("", func(t *testing.T) {
				l := tenant.NewLimiter(tenant.Rate{Limit: limit, Window: time.Minute}, tenant.LimiterState{})
				var admitted, denied atomic.Int64
				var wg sync.WaitGroup
				start := make(chan struct{})
				for g := int64(0); g < goroutines; g++ {
					// Split total calls over the goroutines.
					calls := total / goroutines
					if g < total%goroutines {
						calls++
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						for range calls {
							if l.Allow(t0).Allowed {
								admitted.Add(1)
							} else {
								denied.Add(1)
							}
						}
					}()
				}
				close(start)
				wg.Wait()
				require.Equal(t, limit, admitted.Load(), "limit %d of %d", limit, total)
				require.Equal(t, extra, denied.Load())
				iv := time.Minute / time.Duration(limit)
				require.Equal(t, t0.Add(time.Duration(limit)*iv), l.State().TAT, "bucket exactly empty")
			})
		}
	}
}

func TestLimiterSaveRestore(t *testing.T) {
	tests := []struct {
		name string
		at   time.Duration // restore time after t0
		want int64
	}{
		{"same instant", 0, 6},
		{"2s later", 2 * time.Second, 8},
		{"long after: full bucket", time.Hour, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := tenant.NewLimiter(ten, tenant.LimiterState{})
			for i := 0; i < 4; i++ {
				require.True(t, l.Allow(t0).Allowed)
			}
			b, err := json.Marshal(l.State()) // persisted across a restart
			require.NoError(t, err)
			var st tenant.LimiterState
			require.NoError(t, json.Unmarshal(b, &st))

			l2 := tenant.NewLimiter(ten, st)
			l2.Restore(st) // restoring twice does not double count
			l2.Restore(st)
			require.Equal(t, tc.want, drain(t, l2, t0.Add(tc.at)))
			// and the original limiter, continued instead, agrees exactly.
			require.Equal(t, tc.want, drain(t, l, t0.Add(tc.at)))
			require.True(t, l.State().TAT.Equal(l2.State().TAT))
		})
	}
}

func TestLimiterRestoreStates(t *testing.T) {
	tests := []struct {
		name string
		st   tenant.LimiterState
		want int64
	}{
		{"zero state is a full bucket", tenant.LimiterState{}, 10},
		{"past TAT is a full bucket", tenant.LimiterState{TAT: t0.Add(-time.Hour)}, 10},
		{"TAT exactly now is a full bucket", tenant.LimiterState{TAT: t0}, 10},
		{"TAT 3s ahead", tenant.LimiterState{TAT: t0.Add(3 * time.Second)}, 7},
		{"TAT a full tolerance ahead", tenant.LimiterState{TAT: t0.Add(10 * time.Second)}, 0},
		{"TAT far ahead (clock skew)", tenant.LimiterState{TAT: t0.Add(time.Hour)}, 0},
		{"TAT before 1970", tenant.LimiterState{TAT: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}, 10},
		{"TAT far in the future", tenant.LimiterState{TAT: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := new(tenant.Limiter)
			l.SetRate(ten)
			l.Restore(tc.st)
			require.Equal(t, tc.want, drain(t, l, t0))
		})
	}
	// A fresh limiter reports the zero state.
	require.Equal(t, tenant.LimiterState{}, tenant.NewLimiter(ten, tenant.LimiterState{}).State())
}

func TestLimiterClockBackwards(t *testing.T) {
	t.Run("after a burst", func(t *testing.T) {
		l := tenant.NewLimiter(ten, tenant.LimiterState{})
		require.EqualValues(t, 10, drain(t, l, t0))
		st := l.State()
		d := l.Allow(t0.Add(-time.Hour))
		require.False(t, d.Allowed)
		require.Equal(t, time.Hour+time.Second, d.RetryAfter)
		require.Zero(t, d.Remaining)
		require.Equal(t, st, l.State())
		// Back to normal: exactly one interval's refill.
		require.EqualValues(t, 1, drain(t, l, t0.Add(time.Second)))
	})
	t.Run("partial use", func(t *testing.T) {
		l := tenant.NewLimiter(ten, tenant.LimiterState{})
		for i := 0; i < 5; i++ {
			require.True(t, l.Allow(t0).Allowed)
		}
		// 3s back: the 5s owed now look like 8s owed, so only 2 more;
		// back at t0 the other 3: never more than the burst in all.
		require.EqualValues(t, 2, drain(t, l, t0.Add(-3*time.Second)))
		require.EqualValues(t, 3, drain(t, l, t0))
		require.EqualValues(t, 0, drain(t, l, t0.Add(-time.Second)))
	})
	t.Run("before 1970", func(t *testing.T) {
		l := tenant.NewLimiter(ten, tenant.LimiterState{})
		require.EqualValues(t, 10, drain(t, l, t0))
		require.EqualValues(t, 0, drain(t, l, time.Time{}))
		require.EqualValues(t, 0, drain(t, l, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)))
	})
}

func TestLimiterExtremeRates(t *testing.T) {
	// A huge burst with a huge window must not overflow; the tolerance is
	// capped at 2^60 ns (about 36 years).
	l := tenant.NewLimiter(tenant.Rate{Limit: math.MaxInt64, Window: time.Duration(math.MaxInt64)}, tenant.LimiterState{})
	d := l.AllowN(t0, 1<<59)
	require.True(t, d.Allowed)
	require.False(t, l.AllowN(t0, math.MaxInt64).Allowed)
	require.Positive(t, d.Remaining)
	require.True(t, l.AllowN(time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC), 1).Allowed)

	l = tenant.NewLimiter(tenant.Rate{Limit: 1, Window: time.Duration(math.MaxInt64)}, tenant.LimiterState{})
	require.True(t, l.Allow(t0).Allowed)
	d = l.Allow(t0)
	require.False(t, d.Allowed)
	require.Positive(t, d.RetryAfter)
}

func TestLimiterAllowZeroAllocs(t *testing.T) {
	l := tenant.NewLimiter(tenant.Rate{Limit: 1000, Window: time.Second}, tenant.LimiterState{})
	now := t0
	allocs := testing.AllocsPerRun(1000, func() {
		now = now.Add(time.Millisecond)
		_ = l.Allow(now)
		_ = l.AllowN(now, 5000)
	})
	require.Zero(t, allocs)
}

// model is the reference: a token bucket holding credit in nanoseconds,
// written independently of the GCRA form.
type model struct {
	interval, tau int64
	credit        int64 // 0..tau
}

func (m *model) advance(dt int64) { m.credit = min(m.tau, m.credit+dt) }

func (m *model) take(n int64) (ok bool, remaining int64, retry time.Duration) {
	cost := n * m.interval
	switch {
	case cost > m.tau:
		return false, m.credit / m.interval, -1
	case cost <= m.credit:
		m.credit -= cost
		return true, m.credit / m.interval, 0
	default:
		return false, m.credit / m.interval, time.Duration(cost - m.credit)
	}
}

func TestLimiterMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		limit := rapid.Int64Range(1, 50).Draw(t, "limit")
		window := time.Duration(rapid.Int64Range(1, int64(time.Minute)).Draw(t, "window"))
		burst := rapid.Int64Range(0, 60).Draw(t, "burst")
		r := tenant.Rate{Limit: limit, Window: window, Burst: burst}

		interval := max(int64(window)/limit, 1)
		b := burst
		if b == 0 {
			b = limit
		}
		m := &model{interval: interval, tau: b * interval, credit: b * interval}

		l := tenant.NewLimiter(r, tenant.LimiterState{})
		now := t0.Add(time.Duration(rapid.Int64Range(0, int64(time.Hour)).Draw(t, "start")))
		steps := rapid.IntRange(1, 200).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			var dt int64
			if rapid.Bool().Draw(t, "advance") {
				dt = rapid.Int64Range(0, 3*interval).Draw(t, "dt")
			}
			n := rapid.Int64Range(0, b+2).Draw(t, "n")
			if rapid.IntRange(0, 9).Draw(t, "restart") == 0 {
				st := l.State()
				l = tenant.NewLimiter(r, st)
				if rapid.Bool().Draw(t, "restoreTwice") {
					l.Restore(st)
				}
			}
			now = now.Add(time.Duration(dt))
			m.advance(dt)

			d := l.AllowN(now, n)
			ok, rem, retry := m.take(n)
			if d.Allowed != ok || d.Remaining != rem || d.RetryAfter != retry {
				t.Fatalf("step %d (dt=%d n=%d): limiter %+v, model allowed=%v remaining=%d retry=%d",
					i, dt, n, d, ok, rem, retry)
			}
			if d.ResetAfter != time.Duration(m.tau-m.credit) {
				t.Fatalf("step %d: ResetAfter %v, model %v", i, d.ResetAfter, m.tau-m.credit)
			}
		}
	})
}

// With arbitrary clock jumps, backwards included, a limiter never admits
// more than Burst + (latest - earliest time seen) / interval.
func TestLimiterClockJumpsBounded(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		limit := rapid.Int64Range(1, 20).Draw(t, "limit")
		r := tenant.Rate{Limit: limit, Window: time.Second}
		interval := int64(time.Second) / limit
		l := tenant.NewLimiter(r, tenant.LimiterState{})
		var admitted int64
		lo, hi := t0, t0
		steps := rapid.IntRange(1, 300).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			now := t0.Add(time.Duration(rapid.Int64Range(-int64(5*time.Second), int64(5*time.Second)).Draw(t, "offset")))
			if now.Before(lo) {
				lo = now
			}
			if now.After(hi) {
				hi = now
			}
			n := rapid.Int64Range(1, 3).Draw(t, "n")
			if d := l.AllowN(now, n); d.Allowed {
				admitted += n
			}
			bound := limit + int64(hi.Sub(lo))/interval
			if admitted > bound {
				t.Fatalf("step %d: admitted %d > bound %d", i, admitted, bound)
			}
		}
	})
}

func BenchmarkLimiterAllow(b *testing.B) {
	l := tenant.NewLimiter(tenant.Rate{Limit: 1_000_000, Window: time.Second}, tenant.LimiterState{})
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		l.Allow(now)
	}
}

func BenchmarkLimiterAllowParallel(b *testing.B) {
	l := tenant.NewLimiter(tenant.Rate{Limit: 1_000_000, Window: time.Second}, tenant.LimiterState{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		now := t0
		for pb.Next() {
			now = now.Add(time.Microsecond)
			l.Allow(now)
		}
	})
}

func TestLimiterPeekDoesNotConsume(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := tenant.NewLimiter(tenant.Rate{Limit: 3, Window: 3 * time.Second, Burst: 3}, tenant.LimiterState{})
	for range 10 {
		require.True(t, l.Peek(now).Allowed)
	}
	require.Equal(t, int64(3), l.Peek(now).Remaining)
	for range 3 {
		require.True(t, l.Allow(now).Allowed)
	}
	d := l.Peek(now)
	require.False(t, d.Allowed)
	require.Equal(t, time.Second, d.RetryAfter)
	require.Equal(t, l.Allow(now).RetryAfter, d.RetryAfter)
	require.True(t, l.Peek(now.Add(time.Second)).Allowed)
}

func TestLimiterChangeRateKeepsCount(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := tenant.NewLimiter(tenant.Rate{Limit: 2, Window: time.Minute}, tenant.LimiterState{})
	require.True(t, l.Allow(now).Allowed)
	require.True(t, l.Allow(now).Allowed)
	require.False(t, l.Allow(now).Allowed)

	l.ChangeRate(tenant.Rate{Limit: 1000, Window: time.Minute}, now)
	d := l.Peek(now)
	require.True(t, d.Allowed)
	require.Equal(t, int64(998), d.Remaining, "two of the new 1000 already used")

	l.ChangeRate(tenant.Rate{Limit: 4, Window: time.Minute}, now)
	require.Equal(t, int64(2), l.Peek(now).Remaining, "and two of 4 after a downgrade")

	l.ChangeRate(tenant.Rate{}, now)
	require.True(t, l.Allow(now).Allowed)
	l.ChangeRate(tenant.Rate{Limit: 1, Window: time.Minute}, now)
	require.True(t, l.Allow(now).Allowed, "unlimited counted nothing")
	require.False(t, l.Allow(now).Allowed)
}

func TestLimiterRefund(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := tenant.Rate{Limit: 3, Window: time.Minute, Burst: 3}
	for _, c := range []struct {
		name            string
		charged, refund int64
		wantRemaining   int64
	}{
		{"one of three back", 3, 1, 1},
		{"all back", 3, 3, 3},
		{"more than charged stops at full", 1, 5, 3},
		{"nothing charged", 0, 2, 3},
		{"zero refund", 2, 0, 1},
		{"negative refund", 2, -1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := tenant.NewLimiter(r, tenant.LimiterState{})
			for range c.charged {
				require.True(t, l.Allow(now).Allowed)
			}
			l.Refund(now, c.refund)
			require.Equal(t, c.wantRemaining, l.Peek(now).Remaining)
		})
	}
	t.Run("unlimited", func(t *testing.T) {
		var l tenant.Limiter
		l.Refund(now, 1)
		require.True(t, l.Allow(now).Allowed)
	})
}
