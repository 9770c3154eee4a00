package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// review prints the token review from the data directory of a stopped
// server, and refuses (exit status non-zero) while the server runs.
func TestReviewCommand(t *testing.T) {
	dir := t.TempDir()
	data, credsPath := filepath.Join(dir, "data"), filepath.Join(dir, "demo.json")
	h := startHost(t, noEnv, "-addr", "127.0.0.1:0", "-data", data, "-demo-credentials", credsPath)
	c := readCredentials(t, credsPath)
	access := exchange(t, h.url, c)
	res, body := get(t, h.url, "/v1/users", access)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))

	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"review", "-data", data}, noEnv, &out, &errOut)
	require.ErrorIs(t, err, errServerRunning)
	require.Contains(t, err.Error(), "the server is running")
	require.Empty(t, out.String())

	require.NoError(t, h.stop())
	err = run(context.Background(), []string{"review", "-data", data, "-tenant", demoTenant, "-window-days", "30"}, noEnv, &out, &errOut)
	require.NoError(t, err, errOut.String())
	report := out.String()
	t.Log("\n" + report)
	for _, s := range []string{
		`Token review of tenant "demo"`,
		"window: 30 days",
		"Permissions not used within the window: 1",
		"No expiry: 1",
		"Never used: 0",
		c.UserTokenID,
		"from 127.0.0.1; 2 requests within the window",
		"used within the window: users:view",
		"findings: unused_permissions, no_expiry",
	} {
		require.Contains(t, report, s)
	}
	require.NotContains(t, report, c.UserToken)

	// Unknown tenant, missing data, bad flags.
	for _, args := range [][]string{
		{"review", "-data", data, "-tenant", "nope"},
		{"review", "-data", filepath.Join(dir, "missing")},
		{"review", "-data", data, "-stale-days", "0"},
		{"review", "-data", data, "stray"},
	} {
		require.Error(t, run(context.Background(), args, noEnv, io.Discard, io.Discard), args)
	}
}
