package tenant_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/tenant"
)

func ExampleNewLimiter() {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	// 3 requests per second, all of them at once if need be.
	l := tenant.NewLimiter(tenant.Rate{Limit: 3, Window: time.Second}, tenant.LimiterState{})
	for i := 0; i < 4; i++ {
		d := l.Allow(now)
		fmt.Println(d.Allowed, d.Remaining, d.RetryAfter)
	}
	// One emission interval later, one more request is admitted.
	fmt.Println(l.Allow(now.Add(time.Second / 3)).Allowed)
	// Output:
	// true 2 0s
	// true 1 0s
	// true 0 0s
	// false 0 333.333333ms
	// true
}

func ExampleLimiter_State() {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	rate := tenant.Rate{Limit: 5, Window: time.Minute}
	l := tenant.NewLimiter(rate, tenant.LimiterState{})
	l.AllowN(now, 4)

	saved := l.State() // persist this, e.g. as JSON
	restarted := tenant.NewLimiter(rate, saved)
	restarted.Restore(saved) // restoring again consumes nothing
	fmt.Println(restarted.Allow(now).Allowed, restarted.Allow(now).Allowed)
	// Output:
	// true false
}

func ExampleLicense_Check() {
	lic := tenant.License{
		Plan:      "pro",
		Status:    tenant.StatusActive,
		ExpiresAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	fmt.Println(lic.Check(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)))
	err := lic.Check(lic.ExpiresAt)
	fmt.Println(err, errors.Is(err, tenant.ErrLicenseExpired), errors.Is(err, tenant.ErrInvalidLicense))

	lic.Status = tenant.StatusSuspended
	fmt.Println(lic.Check(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)))
	// Output:
	// <nil>
	// invalid license: expired true true
	// invalid license: suspended
}
