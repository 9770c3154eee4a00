package bench

import (
	"strconv"
	"testing"
	"time"

	"github.com/licensekit/licensekit/tenant"
	"golang.org/x/time/rate"
)

// BenchmarkQuota admits requests round-robin over 1000 tenants, each
// tenant's limiter looked up in a map by tenant ID. The limit is high
// enough that every request is admitted.
func BenchmarkQuota(b *testing.B) {
	const tenants = 1000
	ids := make([]string, tenants)
	for i := range ids {
		ids[i] = "tenant-" + strconv.Itoa(i)
	}
	b.Run("licensekit", func(b *testing.B) {
		m := make(map[string]*tenant.Limiter, tenants)
		r := tenant.Rate{Limit: 1_000_000_000, Window: time.Second, Burst: 1_000_000_000}
		for _, id := range ids {
			m[id] = tenant.NewLimiter(r, tenant.LimiterState{})
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if !m[ids[i%tenants]].Allow(time.Now()).Allowed {
				b.Fatal("refused")
			}
		}
	})
	b.Run("x-time-rate", func(b *testing.B) {
		m := make(map[string]*rate.Limiter, tenants)
		for _, id := range ids {
			m[id] = rate.NewLimiter(1_000_000_000, 1_000_000_000)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if !m[ids[i%tenants]].Allow() {
				b.Fatal("refused")
			}
		}
	})
}
