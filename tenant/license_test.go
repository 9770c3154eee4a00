package tenant_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/tenant"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func TestLicenseCheck(t *testing.T) {
	exp := t0.Add(24 * time.Hour)
	tests := []struct {
		name string
		lic  tenant.License
		now  time.Time
		want error // nil, or the sentinel that must match
	}{
		{"active", tenant.License{Status: tenant.StatusActive, ExpiresAt: exp}, t0, nil},
		{"active zero expiry never expires", tenant.License{Status: tenant.StatusActive}, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), nil},
		{"active 1ns before expiry", tenant.License{Status: tenant.StatusActive, ExpiresAt: exp}, exp.Add(-time.Nanosecond), nil},
		{"expired at exactly ExpiresAt", tenant.License{Status: tenant.StatusActive, ExpiresAt: exp}, exp, tenant.ErrLicenseExpired},
		{"expired after ExpiresAt", tenant.License{Status: tenant.StatusActive, ExpiresAt: exp}, exp.Add(time.Hour), tenant.ErrLicenseExpired},
		{"suspended", tenant.License{Status: tenant.StatusSuspended, ExpiresAt: exp}, t0, tenant.ErrLicenseSuspended},
		{"suspended zero expiry", tenant.License{Status: tenant.StatusSuspended}, t0, tenant.ErrLicenseSuspended},
		{"unknown status", tenant.License{Status: "paused"}, t0, tenant.ErrInvalidLicense},
		{"empty status", tenant.License{}, t0, tenant.ErrInvalidLicense},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.lic.Check(tc.now)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.ErrorIs(t, err, tenant.ErrInvalidLicense)
		})
	}
}

func TestSentinelsMatchInvalidLicense(t *testing.T) {
	for _, err := range []error{tenant.ErrLicenseExpired, tenant.ErrLicenseSuspended} {
		t.Run(err.Error(), func(t *testing.T) {
			require.True(t, errors.Is(err, tenant.ErrInvalidLicense))
			require.False(t, errors.Is(tenant.ErrInvalidLicense, err))
		})
	}
	require.False(t, errors.Is(tenant.ErrLicenseExpired, tenant.ErrLicenseSuspended))
	require.False(t, errors.Is(tenant.ErrLicenseSuspended, tenant.ErrLicenseExpired))
}

func TestStatusValid(t *testing.T) {
	tests := []struct {
		s    tenant.Status
		want bool
	}{
		{tenant.StatusActive, true},
		{tenant.StatusSuspended, true},
		{"", false},
		{"Active", false},
		{"deleted", false},
	}
	for _, tc := range tests {
		t.Run(string(tc.s), func(t *testing.T) {
			require.Equal(t, tc.want, tc.s.Valid())
		})
	}
}

func TestLimitsNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   tenant.Limits
		want tenant.Limits
	}{
		{
			name: "zero: unlimited counts, default windows",
			in:   tenant.Limits{},
			want: tenant.Limits{APIWindow: time.Minute, ValidationWindow: time.Minute},
		},
		{
			name: "bursts default to counts",
			in:   tenant.Limits{APIRequests: 100, Validations: 50},
			want: tenant.Limits{APIRequests: 100, APIWindow: time.Minute, APIBurst: 100, Validations: 50, ValidationWindow: time.Minute, ValidationBurst: 50},
		},
		{
			name: "explicit values kept",
			in:   tenant.Limits{APIRequests: 100, APIWindow: time.Hour, APIBurst: 10, Validations: 5, ValidationWindow: time.Second, ValidationBurst: 2, MaxUsers: 3, MaxLicenses: 4},
			want: tenant.Limits{APIRequests: 100, APIWindow: time.Hour, APIBurst: 10, Validations: 5, ValidationWindow: time.Second, ValidationBurst: 2, MaxUsers: 3, MaxLicenses: 4},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.Normalize()
			require.Equal(t, tc.want, got)
			require.Equal(t, got, got.Normalize(), "idempotent")
		})
	}
}

func TestLimitsRates(t *testing.T) {
	l := tenant.Limits{APIRequests: 120, APIBurst: 10, Validations: 30, ValidationWindow: time.Hour}
	require.Equal(t, tenant.Rate{Limit: 120, Window: time.Minute, Burst: 10}, l.APIRate())
	require.Equal(t, tenant.Rate{Limit: 30, Window: time.Hour, Burst: 30}, l.ValidationRate())
	require.True(t, tenant.Limits{}.APIRate().Unlimited())
	require.True(t, tenant.Limits{}.ValidationRate().Unlimited())
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		lic     tenant.License
		wantErr string
	}{
		{"ok", tenant.License{Status: tenant.StatusActive, Limits: tenant.Limits{APIRequests: 1}}, ""},
		{"ok suspended zero limits", tenant.License{Status: tenant.StatusSuspended}, ""},
		{"unknown status", tenant.License{Status: "x"}, "unknown status"},
		{"negative api_requests", tenant.License{Status: tenant.StatusActive, Limits: tenant.Limits{APIRequests: -1}}, "api_requests"},
		{"negative api_burst", tenant.License{Status: tenant.StatusActive, Limits: tenant.Limits{APIBurst: -1}}, "api_burst"},
		{"negative api_window", tenant.License{Status: tenant.StatusActive, Limits: tenant.Limits{APIWindow: -time.Second}}, "api_window"},
		{"negative validations", tenant.License{Status: tenant.StatusActive, Limits: tenant.Limits{Validations: -1}}, "validations"},
		{"negative validation_window", tenant.License{Status: tenant.StatusActive, Limits: tenant.Limits{ValidationWindow: -1}}, "validation_window"},
		{"negative validation_burst", tenant.License{Status: tenant.StatusActive, Limits: tenant.Limits{ValidationBurst: -1}}, "validation_burst"},
		{"negative max_users", tenant.License{Status: tenant.StatusActive, Limits: tenant.Limits{MaxUsers: -1}}, "max_users"},
		{"negative max_licenses", tenant.License{Status: tenant.StatusActive, Limits: tenant.Limits{MaxLicenses: -1}}, "max_licenses"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.lic.Validate()
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.NoError(t, tc.lic.Limits.Validate())
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestLicenseJSONRoundTrip(t *testing.T) {
	in := tenant.Tenant{
		ID: "t1", Name: "Acme",
		License: tenant.License{Plan: "pro", Status: tenant.StatusActive, ExpiresAt: t0, Limits: tenant.Limits{APIRequests: 10, ValidationBurst: 3}},
	}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	var out tenant.Tenant
	require.NoError(t, json.Unmarshal(b, &out))
	require.Equal(t, in, out)
}
