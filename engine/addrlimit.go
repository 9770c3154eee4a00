package engine

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"

	"github.com/licensekit/licensekit/tenant"
)

// addrLimiter limits failures per client network: a single IPv4 address,
// or an IPv6 /64 (one host usually holds a whole /64, so counting single
// IPv6 addresses would give it billions of fresh budgets). Only failures
// are charged; a peek before the attempt refuses a network that is over.
type addrLimiter struct{ keyed *keyedLimiter[netip.Prefix] }

func newAddrLimiter(r tenant.Rate) *addrLimiter {
	return &addrLimiter{keyed: newKeyedLimiter[netip.Prefix](r)}
}

// keyedLimiter holds one limiter per key, in bounded memory: at most
// maxTrackedAddrs keys, split over shards with a lock each. A full shard
// forgets keys whose budget has fully refilled (never one that is still
// being limited), at most once a second; until then, keys it has no room
// for share one overflow budget, so a flood of fresh keys is limited as
// one client rather than costing a scan per request or evicting the
// guessers it tracks. Keys are spread over the shards by a hash with a
// random seed per limiter, so no one can choose keys that all land in one
// shard (nor do related keys, such as IPv4 addresses, cluster).
type keyedLimiter[K comparable] struct {
	rate   tenant.Rate
	seed   maphash.Seed
	shards [addrShards]keyedShard[K]
}

const (
	addrShards      = 16
	maxTrackedAddrs = 100_000
	shardCap        = maxTrackedAddrs / addrShards
	sweepEvery      = time.Second
)

type keyedShard[K comparable] struct {
	mu        sync.Mutex
	m         map[K]*tenant.Limiter
	overflow  *tenant.Limiter
	lastSweep time.Time
}

func newKeyedLimiter[K comparable](r tenant.Rate) *keyedLimiter[K] {
	a := &keyedLimiter[K]{rate: r, seed: maphash.MakeSeed()}
	for i := range a.shards {
		a.shards[i].m = make(map[K]*tenant.Limiter)
		a.shards[i].overflow = tenant.NewLimiter(r, tenant.LimiterState{})
	}
	return a
}

func (a *keyedLimiter[K]) shard(key K) *keyedShard[K] {
	return &a.shards[maphash.Comparable(a.seed, key)%addrShards]
}

// network is the key an address is limited under.
func network(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits) // the zero Addr gives the zero Prefix: one key for every request without an address
	return p
}

// limiter returns the limiter for key; with create, one is made (or the
// overflow shared) when key has none yet. Without create it may be nil.
func (a *keyedLimiter[K]) limiter(key K, create bool, now time.Time) *tenant.Limiter {
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

// check refuses a key that is over its budget, charging nothing.
func (a *keyedLimiter[K]) check(key K, now time.Time) error {
	l := a.limiter(key, false, now)
	if l == nil {
		return nil
	}
	if d := l.Peek(now); !d.Allowed {
		return &LimitError{Kind: ErrTooManyAttempts, Decision: d}
	}
	return nil
}

// admit charges one attempt to key, or refuses it when key is over.
func (a *keyedLimiter[K]) admit(key K, now time.Time) error {
	if d := a.limiter(key, true, now).Allow(now); !d.Allowed {
		return &LimitError{Kind: ErrTooManyAttempts, Decision: d}
	}
	return nil
}

// refund gives back an attempt admit charged (see tenant.Limiter.Refund).
func (a *keyedLimiter[K]) refund(key K, now time.Time) {
	if l := a.limiter(key, false, now); l != nil {
		l.Refund(now, 1)
	}
}

// fail charges one failure to key.
func (a *keyedLimiter[K]) fail(key K, now time.Time) {
	a.limiter(key, true, now).Allow(now)
}

// check refuses an address whose network is over its failure budget.
func (a *addrLimiter) check(addr netip.Addr, now time.Time) error {
	return a.keyed.check(network(addr), now)
}

// fail charges one failure to addr's network.
func (a *addrLimiter) fail(addr netip.Addr, now time.Time) {
	a.keyed.fail(network(addr), now)
}
