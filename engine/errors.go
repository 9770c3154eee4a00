package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// Errors returned by the engine. Check them with errors.Is; the HTTP
// adapter maps each to one status of the HTTP contract.
var (
	// ErrInvalidToken: a credential is missing, malformed, unknown,
	// expired, revoked, presented from a disallowed address, or another
	// tenant's. The error never says which; the audit log does.
	ErrInvalidToken = errors.New("invalid token")
	// ErrAccessDenied: the actor may not perform the operation.
	ErrAccessDenied = errors.New("access denied")
	// ErrInvalidLicense: the tenant's platform license is expired or
	// suspended. It is tenant.ErrInvalidLicense, so both names match.
	ErrInvalidLicense = tenant.ErrInvalidLicense
	// ErrLicenseLimit: the tenant is over its platform license's request or
	// validation limit. The error is a *LimitError carrying the wait.
	ErrLicenseLimit = errors.New("too many requests (reached license limit)")
	// ErrTooManyAttempts: one client address failed too many exchanges or
	// validations; it is a *LimitError too.
	ErrTooManyAttempts = errors.New("too many requests")
	// ErrNotFound: the record does not exist in the actor's tenant.
	ErrNotFound = store.ErrNotFound
	// ErrAlreadyExists: a record with that ID or unique attribute exists.
	ErrAlreadyExists = store.ErrAlreadyExists
	// ErrInvalidInput: an argument is malformed; the message says which.
	ErrInvalidInput = errors.New("invalid input")
	// ErrStale: the record changed since the caller read it (a token
	// rotated since the caller showed it); nothing was changed.
	ErrStale = errors.New("changed since it was read")
	// ErrClosed: the Engine was closed; it performs no more operations.
	ErrClosed = errors.New("engine: closed")
	// ErrInvalidGrant: a refresh token is not (or no longer) valid. OAuth
	// calls this invalid_grant; it matches ErrInvalidToken too.
	ErrInvalidGrant = fmt.Errorf("%w: invalid grant", ErrInvalidToken)
)

// LimitError reports a refused admission and when to try again.
type LimitError struct {
	// Kind is ErrLicenseLimit or ErrTooManyAttempts.
	Kind error
	// Decision is the limiter's answer: limit, remaining, retry-after.
	Decision tenant.Decision
}

func (e *LimitError) Error() string { return e.Kind.Error() }

// Unwrap makes errors.Is(err, ErrLicenseLimit) (or ErrTooManyAttempts) hold.
func (e *LimitError) Unwrap() error { return e.Kind }

// RetryAfter is how long the caller should wait, rounded up to a second
// as HTTP's Retry-After requires; at least one second.
func (e *LimitError) RetryAfter() time.Duration {
	d := e.Decision.RetryAfter
	if d <= 0 {
		return time.Second
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

func invalidInput(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidInput, fmt.Sprintf(format, args...))
}
