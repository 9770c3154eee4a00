package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// host is one run of the example, started by startHost.
type host struct {
	t      *testing.T
	url    string // base URL, from the "listening on" line
	cancel context.CancelFunc
	done   chan error

	mu     sync.Mutex
	stdout strings.Builder
	stderr lockedBuffer
	err    error
	exited bool
}

// lockedBuffer collects the host's logs for inspection, and shows them in
// the test's output too.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	out io.Writer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	return b.out.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func noEnv(string) string { return "" }

// startHost runs the example with args until it prints "listening on".
func startHost(t *testing.T, getenv func(string) string, args ...string) *host {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &host{t: t, cancel: cancel, done: make(chan error, 1)}
	h.stderr.out = t.Output()

	pr, pw := io.Pipe()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			h.mu.Lock()
			h.stdout.WriteString(line + "\n")
			h.mu.Unlock()
			if u, ok := strings.CutPrefix(line, "listening on "); ok {
				ready <- u
			}
		}
	}()
	go func() {
		err := run(ctx, args, getenv, pw, &h.stderr)
		pw.Close()
		h.done <- err
	}()
	t.Cleanup(func() { h.stop() })

	select {
	case h.url = <-ready:
	case err := <-h.done:
		h.exited, h.err = true, err
		t.Fatalf("run returned before listening: %v\nstdout:\n%s", err, h.out())
	case <-time.After(30 * time.Second):
		t.Fatal("the host did not start listening")
	}
	return h
}

func (h *host) out() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stdout.String()
}

// stop cancels the host's context, as SIGINT does, and returns run's error.
func (h *host) stop() error {
	if !h.exited {
		h.cancel()
		h.err, h.exited = <-h.done, true
	}
	return h.err
}

// do sends a request and returns the status and body.
func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}

// exchange trades the user token for an access token, as the banner's curl
// line does (HTTP Basic, form-encoded grant).
func exchange(t *testing.T, base string, c demoCredentials) string {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/v1/auth/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	require.NoError(t, err)
	req.SetBasicAuth(c.UserTokenID, c.UserToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, body := do(t, req)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	require.NoError(t, json.Unmarshal(body, &tok))
	require.Equal(t, "Bearer", tok.TokenType)
	require.NotEmpty(t, tok.AccessToken)
	return tok.AccessToken
}

func get(t *testing.T, base, path, access string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+access)
	return do(t, req)
}

type validation struct {
	Valid bool   `json:"valid"`
	Code  string `json:"code"`
	Error string `json:"error"`
}

func validate(t *testing.T, base, key string) (int, validation) {
	t.Helper()
	body, err := json.Marshal(map[string]string{"key": key})
	require.NoError(t, err)
	req, err := http.NewRequest("POST", base+"/v1/licenses/validate", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	res, out := do(t, req)
	var v validation
	require.NoError(t, json.Unmarshal(out, &v), string(out))
	return res.StatusCode, v
}

func readCredentials(t *testing.T, path string) demoCredentials {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var c demoCredentials
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&c))
	require.Equal(t, demoTenant, c.TenantID)
	require.Equal(t, demoAdminEmail, c.AdminEmail)
	require.NotEmpty(t, c.UserTokenID)
	require.NotEmpty(t, c.UserToken)
	require.NotEmpty(t, c.LicenseKey)
	return c
}

func TestSeedServeShutdownRestart(t *testing.T) {
	dir := t.TempDir()
	data, credsPath := filepath.Join(dir, "data"), filepath.Join(dir, "demo.json")

	// First start: a fresh data directory is seeded.
	h := startHost(t, noEnv, "-addr", "127.0.0.1:0", "-data", data, "-demo-credentials", credsPath)
	c := readCredentials(t, credsPath)
	out := h.out()
	require.Contains(t, out, "Seeded the demo tenant")
	for _, s := range []string{c.UserTokenID, c.UserToken, c.LicenseKey, "LK=" + h.url} {
		require.Contains(t, out, s, "the banner's curl lines use the real values")
	}
	secret, err := os.Stat(filepath.Join(data, "dev-master-secret"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), secret.Mode().Perm())

	access := exchange(t, h.url, c)
	res, body := get(t, h.url, "/v1/users", access)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	var users struct {
		Items []struct {
			Email string `json:"email"`
			Role  string `json:"role"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &users))
	require.Len(t, users.Items, 1)
	require.Equal(t, demoAdminEmail, users.Items[0].Email)
	require.Equal(t, "admin", users.Items[0].Role)

	// The host's own route, guarded by the adapter's middleware.
	res, body = get(t, h.url, "/hello", access)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	require.Contains(t, string(body), c.UserTokenID)
	res, body = get(t, h.url, "/hello", "lkat_not-a-token")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.JSONEq(t, `{"error":"Invalid token"}`, string(body))

	status, v := validate(t, h.url, c.LicenseKey)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, validation{Valid: true, Code: "VALID"}, v)

	// SIGINT: a clean shutdown, each step logged, no secret in the logs.
	require.NoError(t, h.stop())
	logs := h.stderr.String()
	for _, step := range []string{"HTTP server stopped", "closed engine", "closed store"} {
		require.Contains(t, logs, step)
	}
	for _, s := range []string{c.UserToken, c.LicenseKey, access} {
		require.NotContains(t, logs, s)
	}
	credsBefore, err := os.ReadFile(credsPath)
	require.NoError(t, err)

	// Second start on the same directory: no reseeding, same secrets work.
	h2 := startHost(t, noEnv, "-addr", "127.0.0.1:0", "-data", data, "-demo-credentials", credsPath)
	out = h2.out()
	require.NotContains(t, out, "Seeded")
	require.Contains(t, out, "seeded earlier")
	require.Contains(t, out, credsPath)
	require.NotContains(t, out, c.UserToken)
	credsAfter, err := os.ReadFile(credsPath)
	require.NoError(t, err)
	require.Equal(t, credsBefore, credsAfter)

	status, v = validate(t, h2.url, c.LicenseKey)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, validation{Valid: true, Code: "VALID"}, v)
	access = exchange(t, h2.url, c)
	res, body = get(t, h2.url, "/v1/users", access)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, &users))
	require.Len(t, users.Items, 1, "still the one seeded admin")
	require.NoError(t, h2.stop())
}

// A small -demo-limit shows the tenant's 429, and the consumed quota is
// flushed at shutdown: it is still consumed after a restart.
func TestDemoLimitSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	data, credsPath := filepath.Join(dir, "data"), filepath.Join(dir, "demo.json")
	h := startHost(t, noEnv, "-addr", "127.0.0.1:0", "-data", data, "-demo-credentials", credsPath, "-demo-limit", "2")
	c := readCredentials(t, credsPath)
	for range 2 {
		status, v := validate(t, h.url, c.LicenseKey)
		require.Equal(t, http.StatusOK, status)
		require.True(t, v.Valid)
	}
	require.NoError(t, h.stop())

	h = startHost(t, noEnv, "-addr", "127.0.0.1:0", "-data", data)
	status, v := validate(t, h.url, c.LicenseKey)
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "Too Many Requests (Reached license limit)", v.Error)
	require.NoError(t, h.stop())

	// -demo-limit given on a later start changes the existing tenant's limits.
	h = startHost(t, noEnv, "-addr", "127.0.0.1:0", "-data", data, "-demo-limit", "1000")
	status, v = validate(t, h.url, c.LicenseKey)
	require.Equal(t, http.StatusOK, status)
	require.True(t, v.Valid)
	require.NoError(t, h.stop())
	require.Contains(t, h.stderr.String(), "demo tenant's limits changed")
}

// With -tls-cert and -tls-key the example serves HTTPS with HSTS.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, certPEM, 0o600))
	require.NoError(t, os.WriteFile(keyFile, keyPEM, 0o600))

	h := startHost(t, noEnv, "-addr", "127.0.0.1:0", "-data", filepath.Join(dir, "data"),
		"-tls-cert", certFile, "-tls-key", keyFile)
	require.True(t, strings.HasPrefix(h.url, "https://127.0.0.1:"), h.url)

	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(certPEM))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	res, err := client.Get(h.url + "/v1/openapi.json")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "max-age=63072000; includeSubDomains", res.Header.Get("Strict-Transport-Security"))
	client.CloseIdleConnections()
	require.NoError(t, h.stop())
	require.NotContains(t, h.stderr.String(), "plain HTTP")
}

// Plain HTTP on a non-loopback address is served, with a warning.
func TestPlainHTTPWarning(t *testing.T) {
	h := startHost(t, noEnv, "-addr", "0.0.0.0:0", "-data", filepath.Join(t.TempDir(), "data"))
	require.True(t, strings.HasPrefix(h.url, "http://127.0.0.1:"), h.url)
	require.NoError(t, h.stop())
	require.Contains(t, h.stderr.String(), "plain HTTP is for loopback development")
}

// selfSigned returns a PEM certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

func TestSecretFromEnvironment(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	env := func(k string) string {
		if k == secretEnv {
			return hex.EncodeToString(secret)
		}
		return ""
	}
	data := filepath.Join(t.TempDir(), "data")
	h := startHost(t, env, "-addr", "127.0.0.1:0", "-data", data)
	require.NoError(t, h.stop())
	require.NotContains(t, h.stderr.String(), "development master secret")
	_, err := os.Stat(filepath.Join(data, "dev-master-secret"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestBadSecretIsRefusedWithoutEchoingIt(t *testing.T) {
	for _, bad := range []string{"too-short-secret", hex.EncodeToString(make([]byte, 31)), "abc"} {
		err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-data", t.TempDir()},
			func(string) string { return bad }, io.Discard, io.Discard)
		require.ErrorContains(t, err, secretEnv)
		require.NotContains(t, err.Error(), bad)
	}
}

func TestDecodeSecret(t *testing.T) {
	raw := bytes.Repeat([]byte{0xa5}, 32)
	for _, s := range []string{
		hex.EncodeToString(raw),
		strings.ToUpper(hex.EncodeToString(raw)),
		base64.StdEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
		" " + hex.EncodeToString(raw) + "\n",
	} {
		got, err := decodeSecret(s)
		require.NoError(t, err, s)
		require.Equal(t, raw, got)
	}
	// 48 hex digits are 24 bytes, even though they would pass as base64.
	_, err := decodeSecret(hex.EncodeToString(raw[:24]))
	require.ErrorContains(t, err, "24 bytes")
	_, err = decodeSecret(hex.EncodeToString(raw)[1:])
	require.Error(t, err)
	_, err = decodeSecret("!not base64 or hex!")
	require.Error(t, err)
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-tls-cert", "cert.pem"},
		{"-demo-limit", "-1"},
		{"-no-such-flag"},
		{"extra-subcommand"},
		{"-addr", "127.0.0.1:0", "stray"},
		{"-trusted-proxies", "10.0.0.0/8,not-a-cidr"},
	} {
		require.Error(t, run(context.Background(), args, noEnv, io.Discard, io.Discard), args)
	}
	require.NoError(t, run(context.Background(), []string{"-h"}, noEnv, io.Discard, io.Discard))
}

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes(" 10.1.2.3/8, ,2001:db8::1/32,")
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}, got)
	got, err = parsePrefixes("")
	require.NoError(t, err)
	require.Empty(t, got)
}
