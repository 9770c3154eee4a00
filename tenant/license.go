package tenant

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidLicense is the parent of every reason a tenant's platform
// license refuses service. Callers map it to the "Invalid license" refusal;
// test for it with errors.Is.
var ErrInvalidLicense = errors.New("invalid license")

// Reasons a platform license is invalid. Each matches ErrInvalidLicense
// under errors.Is.
var (
	ErrLicenseExpired   = fmt.Errorf("%w: expired", ErrInvalidLicense)
	ErrLicenseSuspended = fmt.Errorf("%w: suspended", ErrInvalidLicense)
)

// Default windows filled in by Limits.Normalize.
const (
	DefaultAPIWindow        = time.Minute
	DefaultValidationWindow = time.Minute
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	return s == StatusActive || s == StatusSuspended
}

// Check reports whether the license grants service at now. It returns nil
// when the license is active and not expired; ErrLicenseSuspended when
// suspended; ErrLicenseExpired from ExpiresAt on (expiry is exclusive: the
// license is valid at ExpiresAt-1ns and invalid at ExpiresAt; a zero
// ExpiresAt never expires); and an error wrapping ErrInvalidLicense for an
// unknown status. Every non-nil result matches ErrInvalidLicense.
func (l License) Check(now time.Time) error {
	switch l.Status {
	case StatusActive:
	case StatusSuspended:
		return ErrLicenseSuspended
	default:
		return fmt.Errorf("%w: unknown status %q", ErrInvalidLicense, string(l.Status))
	}
	if !l.ExpiresAt.IsZero() && !now.Before(l.ExpiresAt) {
		return ErrLicenseExpired
	}
	return nil
}

// Validate reports a malformed license: an unknown status or invalid limits.
// It does not look at the time; see Check.
func (l License) Validate() error {
	var errs []error
	if !l.Status.Valid() {
		errs = append(errs, fmt.Errorf("tenant: license: unknown status %q", string(l.Status)))
	}
	if err := l.Limits.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Normalize returns l with the documented defaults filled in: both windows
// default to one minute and each burst defaults to its request count. Zero
// counts (unlimited) stay zero. Normalize does not fix negative values;
// see Validate.
func (l Limits) Normalize() Limits {
	if l.APIWindow == 0 {
		l.APIWindow = DefaultAPIWindow
	}
	if l.APIBurst == 0 {
		l.APIBurst = l.APIRequests
	}
	if l.ValidationWindow == 0 {
		l.ValidationWindow = DefaultValidationWindow
	}
	if l.ValidationBurst == 0 {
		l.ValidationBurst = l.Validations
	}
	return l
}

// Validate reports negative counts, bursts or windows.
func (l Limits) Validate() error {
	var errs []error
	neg := func(name string, v int64) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("tenant: limits: %s is negative (%d)", name, v))
		}
	}
	neg("api_requests", l.APIRequests)
	neg("api_burst", l.APIBurst)
	neg("validations", l.Validations)
	neg("validation_burst", l.ValidationBurst)
	neg("max_users", l.MaxUsers)
	neg("max_licenses", l.MaxLicenses)
	if l.APIWindow < 0 {
		errs = append(errs, fmt.Errorf("tenant: limits: api_window is negative (%s)", l.APIWindow))
	}
	if l.ValidationWindow < 0 {
		errs = append(errs, fmt.Errorf("tenant: limits: validation_window is negative (%s)", l.ValidationWindow))
	}
	return errors.Join(errs...)
}

// APIRate is the rate of authenticated API requests, defaults filled in.
// APIRequests zero gives an unlimited Rate.
func (l Limits) APIRate() Rate {
	n := l.Normalize()
	return Rate{Limit: n.APIRequests, Window: n.APIWindow, Burst: n.APIBurst}
}

// ValidationRate is the rate of license-key validations, defaults filled in.
// Validations zero gives an unlimited Rate.
func (l Limits) ValidationRate() Rate {
	n := l.Normalize()
	return Rate{Limit: n.Validations, Window: n.ValidationWindow, Burst: n.ValidationBurst}
}
