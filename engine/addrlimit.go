package engine

import (
	"net/netip"
	"sync"
	"time"

	"github.com/licensekit/licensekit/tenant"
)

// addrLimiter limits failures per client network: a single IPv4 address,
// or an IPv6 /64 (one host usually holds a whole /64, so counting single
// IPv6 addresses would give it billions of fresh budgets). Only failures
// are charged; a peek before the attempt refuses a network that is over.
//
// Memory is bounded: at most maxTrackedAddrs networks, split over shards
// with a lock each. A full shard forgets networks whose budget has fully
// refilled (never one that is still being limited), at most once a
// second; until then, networks it has no room for share one overflow
// budget, so a flood of fresh addresses is limited as one client rather
// than costing a scan per request or evicting the guessers it tracks.
type addrLimiter struct {
	rate   tenant.Rate
	shards [addrShards]addrShard
}

const (
	addrShards      = 16
	maxTrackedAddrs = 100_000
	shardCap        = maxTrackedAddrs / addrShards
	sweepEvery      = time.Second
)

type addrShard struct {
	mu        sync.Mutex
	m         map[netip.Prefix]*tenant.Limiter
	overflow  *tenant.Limiter
	lastSweep time.Time
}

func newAddrLimiter(r tenant.Rate) *addrLimiter {
	a := &addrLimiter{rate: r}
	for i := range a.shards {
		a.shards[i].m = make(map[netip.Prefix]*tenant.Limiter)
		a.shards[i].overflow = tenant.NewLimiter(r, tenant.LimiterState{})
	}
	return a
}

// network is the key an address is limited under.
func network(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, err := addr.Prefix(bits)
	if err != nil { // the zero Addr: no address at all
		return netip.Prefix{}
	}
	return p
}

func (a *addrLimiter) shard(key netip.Prefix) *addrShard {
	b := key.Addr().As16()
	h := uint32(2166136261)
	for _, c := range b[:8] {
		h = (h ^ uint32(c)) * 16777619
	}
	return &a.shards[h%addrShards]
}

// limiter returns the limiter for addr; with create, one is made (or the
// overflow shared) when addr has none yet. Without create it may be nil.
func (a *addrLimiter) limiter(addr netip.Addr, create bool, now time.Time) *tenant.Limiter {
	key := network(addr)
	s := a.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.m[key]; l != nil {
		return l
	}
	if len(s.m) >= shardCap {
		if now.Sub(s.lastSweep) >= sweepEvery || now.Before(s.lastSweep) {
			s.lastSweep = now
			for k, l := range s.m {
				if !l.State().TAT.After(now) {
					delete(s.m, k)
				}
			}
		}
		if len(s.m) >= shardCap {
			return s.overflow
		}
	}
	if !create {
		return nil
	}
	l := tenant.NewLimiter(a.rate, tenant.LimiterState{})
	s.m[key] = l
	return l
}

// check refuses an address whose network is over its failure budget.
func (a *addrLimiter) check(addr netip.Addr, now time.Time) error {
	l := a.limiter(addr, false, now)
	if l == nil {
		return nil
	}
	if d := l.Peek(now); !d.Allowed {
		return &LimitError{Kind: ErrTooManyAttempts, Decision: d}
	}
	return nil
}

// fail charges one failure to addr's network.
func (a *addrLimiter) fail(addr netip.Addr, now time.Time) {
	a.limiter(addr, true, now).Allow(now)
}
