// Package tenant models the organisations using a licensekit platform: their
// platform license (status, expiry, limits), their governance policy, and the
// quota policy that admits or refuses their requests.
//
// # Where to start
//
// [Tenant] holds a [License]; [License.Check] tells whether it grants service
// at a given time (every refusal matches [ErrInvalidLicense] under
// errors.Is). [Limits.APIRate] and [Limits.ValidationRate] turn its limits
// into [Rate] values, and a [Limiter] per tenant and per rate admits requests
// with [Limiter.Allow]. The package is pure: no I/O, no goroutines, and the
// clock is injected — every time-dependent call takes now explicitly.
//
// # GCRA in five lines
//
// A rate of Limit per Window has an emission interval T = Window/Limit and a
// tolerance τ = Burst·T. The only state is the theoretical arrival time TAT.
// A request of n at now is admitted iff max(TAT, now) + n·T − now ≤ τ;
// admitting it sets TAT to that max plus n·T (one compare-and-swap).
// So a full bucket takes Burst at once, then one request per T refills.
//
// # Persistence contract
//
// [Limiter.State] returns a [LimiterState] (the TAT) to save; [NewLimiter] or
// [Limiter.Restore] resumes from it exactly. A restart neither resets the
// quota (requests admitted before the save still count) nor double-counts
// (restoring the same state twice consumes nothing, since the state is an
// instant, not a counter). A zero or past TAT is a full bucket. Denied
// requests never change the state, and a clock going backwards never admits
// more than the burst.
package tenant
