package console

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 seconds"},
		{time.Second, "1 second"},
		{45 * time.Second, "45 seconds"},
		{time.Minute, "1 minute"},
		{15 * time.Minute, "15 minutes"},
		{90 * time.Minute, "1 hour 30 minutes"},
		{2 * time.Hour, "2 hours"},
		{24 * time.Hour, "24 hours"},
		{30 * 24 * time.Hour, "30 days"},
		{90 * 24 * time.Hour, "90 days"},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			require.Equal(t, tc.want, formatDuration(tc.d))
		})
	}
}

func TestWaitDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "1 second"},
		{time.Millisecond, "1 second"},
		{time.Second, "1 second"},
		{1500 * time.Millisecond, "2 seconds"},
		{time.Minute, "1 minute"},
		{61 * time.Second, "1 minute 1 second"},
		{64 * time.Second, "1 minute 4 seconds"},
		{14*time.Minute + time.Second, "14 minutes 1 second"},
		{15 * time.Minute, "15 minutes"},
		{50*time.Hour + 2*time.Second, "50 hours 2 seconds"},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			require.Equal(t, tc.want, waitDuration(tc.d))
		})
	}
}

// The Retry-After header and the page say the same wait: the limiter's,
// rounded up to a second, never 0.
func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		d            time.Duration
		header, text string
	}{
		{0, "1", "1 second"},
		{200 * time.Millisecond, "1", "1 second"},
		{time.Second, "1", "1 second"},
		{63*time.Second + 100*time.Millisecond, "64", "1 minute 4 seconds"},
		{64 * time.Second, "64", "1 minute 4 seconds"},
		{15 * time.Minute, "900", "15 minutes"},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			header, text := retryAfter(&engine.LimitError{Kind: engine.ErrTooManyAttempts, Decision: tenant.Decision{RetryAfter: tc.d}})
			require.Equal(t, tc.header, header)
			require.Equal(t, tc.text, text)
		})
	}
}

func TestPerWindow(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second: "second", time.Minute: "minute", time.Hour: "hour", 24 * time.Hour: "day",
		15 * time.Minute: "15 minutes", 2 * time.Hour: "2 hours",
	} {
		require.Equal(t, want, perWindow(d), d.String())
	}
}

func TestSplitCIDRs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  \n ", nil},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}},
		{"10.0.0.0/8\r\n192.0.2.0/24\n", []string{"10.0.0.0/8", "192.0.2.0/24"}},
		{"10.0.0.0/8, 2001:db8::/32;192.0.2.1/32 \t198.51.100.0/24", []string{"10.0.0.0/8", "2001:db8::/32", "192.0.2.1/32", "198.51.100.0/24"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := splitCIDRs(tc.in)
			if tc.want == nil {
				require.Empty(t, got)
				return
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseFilterTime(t *testing.T) {
	for _, tc := range []struct {
		in    string
		upper bool
		want  time.Time
		ok    bool
	}{
		{"", false, time.Time{}, true},
		{"2026-03-01", false, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"2026-03-01", true, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), true},
		{"2026-03-01T13:45", true, time.Date(2026, 3, 1, 13, 45, 0, 0, time.UTC), true},
		{"2026-03-01T13:45:30", false, time.Date(2026, 3, 1, 13, 45, 30, 0, time.UTC), true},
		{"2026-03-01T13:45:30+02:00", false, time.Date(2026, 3, 1, 11, 45, 30, 0, time.UTC), true},
		{"yesterday", false, time.Time{}, false},
		{"2026-02-30", false, time.Time{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := parseFilterTime(tc.in, tc.upper)
			require.Equal(t, tc.ok, ok)
			require.True(t, tc.want.Equal(got), got)
		})
	}
}

func TestEndOfDay(t *testing.T) {
	day, err := time.Parse(time.DateOnly, "2026-12-31")
	require.NoError(t, err)
	require.Equal(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), endOfDay(day))
}

// Every permission is in exactly one fieldset, under its Group; the
// product's three groups come first, in their order.
func TestPermGroups(t *testing.T) {
	groups := permGroups(permission.NewSet(permission.ViewUsers, permission.ViewAudit))
	require.GreaterOrEqual(t, len(groups), 3)
	require.Equal(t, permission.GroupUserManagement, groups[0].Legend)
	require.Equal(t, permission.GroupProductsLicenses, groups[1].Legend)
	require.Equal(t, permission.GroupGroupManagement, groups[2].Legend)
	seen := map[string]bool{}
	for _, g := range groups {
		for _, b := range g.Perms {
			p, err := permission.Lookup(b.Code)
			require.NoError(t, err)
			require.Equal(t, p.Group(), g.Legend)
			require.False(t, seen[b.Code])
			seen[b.Code] = true
			require.Equal(t, p == permission.ViewUsers || p == permission.ViewAudit, b.Checked)
			require.Equal(t, p.Extension(), b.Extension)
		}
	}
	require.Len(t, seen, len(permission.All()))
}

func TestSafeNext(t *testing.T) {
	c := &Console{prefix: "/console/"}
	for _, tc := range []struct {
		next string
		ok   bool
	}{
		{"/console/tokens", true},
		{"/console/audit?type=token.created&from=2026-01-01", true},
		{"/console/users/abc", true},
		{"/console/", true},
		{"", false},
		{"/console", false},
		{"/other/", false},
		{"//evil.test/console/", false},
		{"https://evil.test/console/", false},
		{"/console/../admin", false},
		{"/console/./tokens", false},
		{"/console//tokens", false},
		{"/console/%2e%2e/admin", false},
		{"/console/\\evil", false},
		{"/console/tokens#frag", false},
		{"/console/signin", false},
		{"/console/signout", false},
		{"/console/tokens\r\n", false},
		{"/console/" + strings.Repeat("a", 2001), false},
	} {
		t.Run(tc.next, func(t *testing.T) {
			got := c.safeNext(tc.next)
			if tc.ok {
				require.Equal(t, tc.next, got)
			} else {
				require.Empty(t, got)
			}
		})
	}
}

// errInput is an error as the engine's invalidInput makes them.
func errInput(msg string) error { return fmt.Errorf("%w: %s", engine.ErrInvalidInput, msg) }

func TestInputMessage(t *testing.T) {
	require.Equal(t, "Token name is required.", inputMessage(errInput("token name is required")))
	require.Equal(t, "Done.", inputMessage(errInput("done.")))
}

// oneCookie reads a cookie only when the browser sent exactly one of the
// name; others' names do not count.
func TestOneCookie(t *testing.T) {
	for _, tc := range []struct {
		name    string
		header  string
		value   string
		wantDup bool
	}{
		{"none", "", "", false},
		{"other names", "lk_console_device=a; x=b", "", false},
		{"one", "x=1; lk_console=v", "v", false},
		{"two", "lk_console=planted; lk_console=v", "", true},
		{"two equal", "lk_console=v; lk_console=v", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/console/", nil)
			if tc.header != "" {
				r.Header.Set("Cookie", tc.header)
			}
			v, dup := oneCookie(r, "lk_console")
			require.Equal(t, tc.value, v)
			require.Equal(t, tc.wantDup, dup)
		})
	}
}
