package engine

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

func TestAddrLimiterIPv6CountsPer64(t *testing.T) {
	a := newAddrLimiter(tenant.Rate{Limit: 5, Window: time.Minute, Burst: 5})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		require.NoError(t, a.check(netip.MustParseAddr(fmt.Sprintf("2001:db8:1:2::%x", i+1)), now))
		a.fail(netip.MustParseAddr(fmt.Sprintf("2001:db8:1:2::%x", i+1)), now)
	}
	require.ErrorIs(t, a.check(netip.MustParseAddr("2001:db8:1:2::ffff"), now), ErrTooManyAttempts, "same /64")
	require.NoError(t, a.check(netip.MustParseAddr("2001:db8:1:3::1"), now), "another /64")
	require.NoError(t, a.check(netip.MustParseAddr("192.0.2.1"), now))
}

func TestAddrLimiterBoundedAndCheapWhenFull(t *testing.T) {
	a := newAddrLimiter(tenant.Rate{Limit: 30, Window: time.Minute, Burst: 30})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	addr := func(i int) netip.Addr {
		return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
	}
	// A guesser that is being limited.
	guesser := netip.MustParseAddr("198.51.100.9")
	for range 30 {
		a.fail(guesser, now)
	}
	require.ErrorIs(t, a.check(guesser, now), ErrTooManyAttempts)
	// A flood of fresh addresses fills every shard...
	for i := range 2 * maxTrackedAddrs {
		a.fail(addr(i), now)
	}
	total := 0
	for i := range a.keyed.shards {
		total += len(a.keyed.shards[i].m)
	}
	require.LessOrEqual(t, total, maxTrackedAddrs)
	// ...without evicting the guesser, who stays limited.
	require.ErrorIs(t, a.check(guesser, now), ErrTooManyAttempts)
	// A fresh address of a full shard shares the overflow budget.
	fresh := addr(3 * maxTrackedAddrs)
	key := network(fresh)
	require.Same(t, a.keyed.shard(key).overflow, a.keyed.limiter(key, true, now))
	// Once budgets have refilled, the next sweep frees room.
	later := now.Add(time.Hour)
	a.fail(netip.MustParseAddr("203.0.113.1"), later)
	require.NotNil(t, a.keyed.limiter(network(netip.MustParseAddr("203.0.113.1")), false, later))
}
