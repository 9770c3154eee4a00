package tenant

import "time"

// Status is the state of a tenant's platform license.
type Status string

const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
)

// Limits are the quotas of a platform license. A zero field means the
// documented default of that field (see each field).
type Limits struct {
	// APIRequests is the number of authenticated API requests admitted per
	// APIWindow, sustained. Zero means unlimited.
	APIRequests int64 `json:"api_requests"`
	// APIWindow is the window of APIRequests. Zero means one minute.
	APIWindow time.Duration `json:"api_window"`
	// APIBurst is how many requests may arrive at once above the sustained
	// rate. Zero means APIRequests (the whole window's allowance at once).
	APIBurst int64 `json:"api_burst"`
	// Validations is the number of license-key validations admitted per
	// ValidationWindow. Zero means unlimited.
	Validations int64 `json:"validations"`
	// ValidationWindow is the window of Validations. Zero means one minute.
	ValidationWindow time.Duration `json:"validation_window"`
	// ValidationBurst is how many validations may arrive at once above the
	// sustained rate. Zero means Validations.
	ValidationBurst int64 `json:"validation_burst,omitempty"`
	// MaxUsers caps the tenant's users. Zero means unlimited.
	MaxUsers int64 `json:"max_users"`
	// MaxLicenses caps the tenant's licenses. Zero means unlimited.
	MaxLicenses int64 `json:"max_licenses"`
}

// License is a tenant's platform license: its plan on the host's platform.
type License struct {
	Plan      string    `json:"plan"`
	Status    Status    `json:"status"`
	ExpiresAt time.Time `json:"expires_at"` // zero: never expires
	Limits    Limits    `json:"limits"`
}

// Tenant is one organisation using the host's licensing platform.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	License   License   `json:"license"`
	Policy    Policy    `json:"policy"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Policy holds a tenant's governance settings. Zero values disable each rule.
type Policy struct {
	// MaxTokenLifetime refuses user tokens whose expiry lies further ahead.
	MaxTokenLifetime time.Duration `json:"max_token_lifetime"`
	// MaxTokenAge is the rotation policy: tokens not rotated within it are
	// reported by the review.
	MaxTokenAge time.Duration `json:"max_token_age"`
	// DeactivateUnusedAfter deactivates tokens unused for this long.
	DeactivateUnusedAfter time.Duration `json:"deactivate_unused_after"`
}

// LimiterState is the persisted state of a Limiter: the GCRA theoretical
// arrival time. Saving it and restoring it resumes the quota exactly; a
// zero or past TAT is a full bucket. See Limiter for the full contract.
type LimiterState struct {
	TAT time.Time `json:"tat"`
	// Rate is the rate the TAT was counted under, so that a limiter
	// restored under a different rate can keep the count (ChangeRate).
	Rate Rate `json:"rate,omitzero"`
}
