package engine_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/badgerstore"
	"github.com/stretchr/testify/require"
)

// The credential formats, as documented in credentials.go and
// licensekey.go, so that the test can find (and forge) the secret part
// of each credential.
var (
	secB32       = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	secCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// secSecretRange is where the 32-byte secret sits in a credential's raw
// bytes (after the prefix and base32): [from, from+32).
func secSecretRange(tok string) (prefix string, from int, ok bool) {
	switch {
	case strings.HasPrefix(tok, "lkut_"):
		return "lkut_", 16, true // uuid | secret | crc32
	case strings.HasPrefix(tok, "lkrt_"):
		return "lkrt_", 24, true // family | seq | secret | crc32
	}
	return "", 0, false
}

// secSecretBytes returns the raw secret material of a credential: the 32
// random bytes of a user or refresh token, the 32-byte MAC of an access
// token.
func secSecretBytes(t *testing.T, tok string) []byte {
	t.Helper()
	if prefix, from, ok := secSecretRange(tok); ok {
		raw, err := secB32.DecodeString(strings.TrimPrefix(tok, prefix))
		require.NoError(t, err)
		return raw[from : from+32]
	}
	if rest, ok := strings.CutPrefix(tok, "lkat_"); ok {
		raw, err := secB32.DecodeString(rest)
		require.NoError(t, err)
		return raw[len(raw)-sha256.Size:]
	}
	return nil
}

// secAlterSecret flips one bit of a user or refresh token's secret and
// recomputes the checksum: a well-formed credential with a wrong secret.
func secAlterSecret(t *testing.T, tok string) string {
	t.Helper()
	prefix, from, ok := secSecretRange(tok)
	require.True(t, ok)
	raw, err := secB32.DecodeString(strings.TrimPrefix(tok, prefix))
	require.NoError(t, err)
	raw[from+7] ^= 0x10
	n := len(raw) - 4
	binary.BigEndian.PutUint32(raw[n:], crc32.Update(crc32.ChecksumIEEE([]byte(prefix)), crc32.IEEETable, raw[:n]))
	return prefix + secB32.EncodeToString(raw)
}

// secAlterChar changes one character in the middle of s.
func secAlterChar(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'a' || b[i] == 'A' {
		b[i]++
	} else {
		b[i] = 'a'
	}
	return string(b)
}

// secCanonicalKey is a license key without dashes, upper case.
func secCanonicalKey(k string) string { return strings.ToUpper(strings.ReplaceAll(k, "-", "")) }

// secAlterLicenseKey changes the first character of a license key and
// recomputes its checksum: a well-formed key that is not the license's.
func secAlterLicenseKey(k string) string {
	c := []byte(secCanonicalKey(k))
	c[0] = secCrockford[(strings.IndexByte(secCrockford, c[0])+1)%32]
	h := sha256.Sum256(c[:26])
	v := uint32(h[0])<<12 | uint32(h[1])<<4 | uint32(h[2])>>4
	for i := 29; i >= 26; i-- {
		c[i] = secCrockford[v&31]
		v >>= 5
	}
	var out []string
	for i := 0; i < 30; i += 5 {
		out = append(out, string(c[i:i+5]))
	}
	return strings.Join(out, "-")
}

// secNeedle is one form of a secret to search for.
type secNeedle struct {
	what string
	b    []byte
}

// secSecretNeedles lists a secret and the usual encodings of its raw secret
// part, so that a secret stored or logged in any of them is found.
func secSecretNeedles(t *testing.T, what, secret string) []secNeedle {
	t.Helper()
	ns := []secNeedle{{what, []byte(secret)}}
	if strings.Count(secret, "-") == 5 && len(secret) == 35 { // a license key
		c := secCanonicalKey(secret)
		return append(ns, secNeedle{what + " (canonical)", []byte(c)}, secNeedle{what + " (lower)", []byte(strings.ToLower(c))})
	}
	raw := secSecretBytes(t, secret)
	if raw == nil {
		return ns
	}
	for enc, s := range map[string]string{
		"raw": string(raw), "hex": hex.EncodeToString(raw), "HEX": strings.ToUpper(hex.EncodeToString(raw)),
		"base64": base64.StdEncoding.EncodeToString(raw), "base64raw": base64.RawStdEncoding.EncodeToString(raw),
		"base64url": base64.RawURLEncoding.EncodeToString(raw), "base32": secB32.EncodeToString(raw),
		"BASE32": base32.StdEncoding.EncodeToString(raw),
	} {
		ns = append(ns, secNeedle{what + " secret part (" + enc + ")", []byte(s)})
	}
	return ns
}

// secObserved collects the observer's events.
type secObserved struct {
	mu  sync.Mutex
	evs []engine.Event
}

func (o *secObserved) Observe(ev engine.Event) {
	o.mu.Lock()
	o.evs = append(o.evs, ev)
	o.mu.Unlock()
}

// secLockedBuffer is a bytes.Buffer for a logger written from several
// goroutines (the engine's and Badger's).
type secLockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *secLockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *secLockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// TestNoSecretAtRest runs the credential flows on badgerstore with a
// captured logger and an observer, closes everything, and then scans every
// file of the store, the audit records, the observer's events and the
// logs for every secret issued (and every near-miss presented): none may
// appear, in any common encoding.
func TestNoSecretAtRest(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts badgerstore.Options
	}{
		// The default: tables are Snappy-compressed.
		{"default options", badgerstore.Options{}},
		// Uncompressed tables, so that a raw scan sees every stored byte.
		{"uncompressed tables", badgerstore.Options{BlockCacheSize: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) { secTestNoSecretAtRest(t, tc.opts) })
	}
}

func secTestNoSecretAtRest(t *testing.T, opts badgerstore.Options) {
	dir := t.TempDir()
	logs := &secLockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Logger = logger
	st, err := badgerstore.Open(dir, opts)
	require.NoError(t, err)
	obs := &secObserved{}
	f := newFixtureWithStore(t, st, func(c *engine.Config) {
		c.Logger, c.Observer = logger, obs
		// Alerts fire on the stranger's failures below.
		c.AlertRules = []engine.AlertRule{{Name: "canary", Threshold: 2, Window: time.Hour, Key: engine.AlertByAddress}}
	})
	ctx, e, admin, tid := f.ctx, f.eng, f.admin, f.tenant
	stranger := netip.MustParseAddr("203.0.113.66")

	// Secrets issued (and near-misses presented), by description.
	secrets := map[string]string{}
	issue := func(what, s string) string {
		t.Helper()
		require.NotEmpty(t, s, what)
		secrets[what] = s
		return s
	}

	// A marker stored in a record: the positive control of the scans.
	const marker = "Zyxwvut-Positive-Control"
	s := f.scSeed(admin)
	issue("license key 1", s.license.Key.Reveal())
	_, err = e.UpdateCustomer(ctx, admin, tid, s.customer.ID, engine.CustomerPatch{Name: scPtr(marker)})
	require.NoError(t, err)

	ct1 := f.scTokenSet(admin, permission.Full())
	ct2, err := e.CreateUserToken(ctx, admin, tid, engine.NewUserToken{
		UserID: s.member.ID, Name: "ci", Permissions: permission.NewSet(permission.ViewUsers),
		AllowedCIDRs: []string{"192.0.2.0/24"}, ExpiresAt: f.clock.Now().Add(90 * 24 * time.Hour),
	})
	require.NoError(t, err)
	cred1 := issue("user token 1", ct1.Credential.Reveal())
	cred2 := issue("user token 2", ct2.Credential.Reveal())

	// Exchange, use, refresh, reuse (family revoked), introspect, revoke.
	r1, _ := f.login(ct1)
	issue("access token 1", r1.AccessToken.Reveal())
	issue("refresh token 1", r1.RefreshToken.Reveal())
	r2, err := e.Refresh(ctx, r1.RefreshToken.Reveal(), f.addr)
	require.NoError(t, err)
	issue("access token 2", r2.AccessToken.Reveal())
	issue("refresh token 2", r2.RefreshToken.Reveal())
	_, err = e.Refresh(ctx, r1.RefreshToken.Reveal(), stranger)
	require.ErrorIs(t, err, engine.ErrInvalidGrant)
	r3, p3 := f.login(ct1)
	issue("access token 3", r3.AccessToken.Reveal())
	issue("refresh token 3", r3.RefreshToken.Reveal())
	_, _, err = e.ListLicenses(ctx, p3, tid, store.Page{})
	require.NoError(t, err)
	for _, tok := range []string{r3.AccessToken.Reveal(), r3.RefreshToken.Reveal()} {
		in, err := e.Introspect(ctx, p3, tid, tok)
		require.NoError(t, err)
		require.True(t, in.Active)
	}
	require.NoError(t, e.Revoke(ctx, r3.RefreshToken.Reveal(), f.addr))

	// Rotate, exchange the new secret, refresh it.
	rot, err := e.RotateUserToken(ctx, admin, tid, ct1.Token.ID)
	require.NoError(t, err)
	issue("user token 1 rotated", rot.Credential.Reveal())
	r4, _ := f.login(rot)
	issue("access token 4", r4.AccessToken.Reveal())
	issue("refresh token 4", r4.RefreshToken.Reveal())
	r5, err := e.Refresh(ctx, r4.RefreshToken.Reveal(), f.addr)
	require.NoError(t, err)
	issue("access token 5", r5.AccessToken.Reveal())
	issue("refresh token 5", r5.RefreshToken.Reveal())
	r6, _ := f.login(ct2)
	issue("access token 6", r6.AccessToken.Reveal())
	issue("refresh token 6", r6.RefreshToken.Reveal())

	// Licenses: create, reissue, validate.
	l2, err := e.CreateLicense(ctx, admin, tid, engine.NewLicense{CustomerID: s.customer.ID, ProductID: s.product.ID})
	require.NoError(t, err)
	issue("license key 2", l2.Key.Reveal())
	l3, err := e.ReissueLicense(ctx, admin, tid, l2.License.ID)
	require.NoError(t, err)
	issue("license key 3", l3.Key.Reveal())
	for key, want := range map[string]engine.ValidationCode{
		s.license.Key.Reveal(): engine.CodeValid, l2.Key.Reveal(): engine.CodeNotFound, l3.Key.Reveal(): engine.CodeValid,
	} {
		res, err := e.ValidateLicense(ctx, key, engine.ValidationScope{}, stranger)
		require.NoError(t, err)
		require.Equal(t, want, res.Code)
	}

	// Failed authentications with real secrets slightly altered, and
	// secrets presented where they do not belong.
	near := map[string]string{
		"user token 2, secret altered":       secAlterSecret(t, cred2),
		"user token 2, one character":        secAlterChar(cred2),
		"rotated token, secret altered":      secAlterSecret(t, rot.Credential.Reveal()),
		"refresh token 5, secret altered":    secAlterSecret(t, r5.RefreshToken.Reveal()),
		"refresh token 5, one character":     secAlterChar(r5.RefreshToken.Reveal()),
		"access token 5, one character":      secAlterChar(r5.AccessToken.Reveal()),
		"license key 3, checksum recomputed": secAlterLicenseKey(l3.Key.Reveal()),
		"license key 3, one character":       secAlterChar(l3.Key.Reveal()),
	}
	for what, v := range near {
		issue(what, v)
	}
	for _, cred := range []string{near["user token 2, secret altered"], near["user token 2, one character"], near["rotated token, secret altered"], cred1} {
		_, err := e.Exchange(ctx, "", cred, stranger)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
	}
	_, err = e.Exchange(ctx, cred2, "", stranger) // a secret as the client ID
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	_, err = e.Exchange(ctx, ct1.Token.ID, cred2, stranger) // another token's client ID
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	_, err = e.Exchange(ctx, "", cred2, stranger) // outside the token's CIDRs
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	for _, tok := range []string{near["refresh token 5, secret altered"], near["refresh token 5, one character"], r2.RefreshToken.Reveal(), cred2} {
		_, err := e.Refresh(ctx, tok, stranger)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
	}
	for _, tok := range []string{near["access token 5, one character"], r1.AccessToken.Reveal(), r3.AccessToken.Reveal(), cred2, r5.RefreshToken.Reveal()} {
		_, err := e.Authenticate(ctx, tok, stranger)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
	}
	for _, key := range []string{near["license key 3, checksum recomputed"], near["license key 3, one character"], r5.AccessToken.Reveal(), cred2} {
		res, err := e.ValidateLicense(ctx, key, engine.ValidationScope{}, stranger)
		require.NoError(t, err)
		require.Equal(t, engine.CodeNotFound, res.Code)
	}
	// Token administration after all that.
	_, err = e.DeactivateUserToken(ctx, admin, tid, ct2.Token.ID)
	require.NoError(t, err)
	_, err = e.Authenticate(ctx, r6.AccessToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	require.NoError(t, e.DeleteUserToken(ctx, admin, tid, ct2.Token.ID))

	// Close everything: batched audit events and quotas are written.
	require.NoError(t, e.Close())
	require.NoError(t, st.Close())

	var needles []secNeedle
	for what, sec := range secrets {
		needles = append(needles, secSecretNeedles(t, what, sec)...)
	}
	var leaks []string
	scan := func(where string, data []byte) {
		for _, n := range needles {
			if bytes.Contains(data, n.b) {
				leaks = append(leaks, fmt.Sprintf("%s found in %s", n.what, where))
			}
		}
	}

	// 1. Every file of the store, raw.
	var files, size int
	markerSeen := false
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		size += len(data)
		markerSeen = markerSeen || bytes.Contains(data, []byte(marker))
		scan("store file "+filepath.Base(path), data)
		return nil
	}))
	require.True(t, markerSeen, "positive control: the marker stored in a customer record is visible to the raw scan")

	// 2. The audit records, read back from the reopened store.
	st2, err := badgerstore.Open(dir, badgerstore.Options{BlockCacheSize: opts.BlockCacheSize})
	require.NoError(t, err)
	var (
		audit []store.AuditEvent
		usage []store.UsageRecord
	)
	require.NoError(t, st2.View(ctx, func(tx store.Tx) error {
		page := store.Page{Limit: store.MaxPageLimit}
		for {
			evs, next, err := tx.Tenant(tid).Audit().List(ctx, store.AuditQuery{}, page)
			if err != nil {
				return err
			}
			audit = append(audit, evs...)
			if next == "" {
				break
			}
			page.After = next
		}
		var err error
		usage, _, err = tx.Tenant(tid).Usage().List(ctx, store.Page{Limit: store.MaxPageLimit})
		return err
	}))
	require.NoError(t, st2.Close())
	// 2b. The usage records (written by Close).
	require.NotEmpty(t, usage)
	usedTokens := map[string]bool{}
	for _, u := range usage {
		usedTokens[u.TokenID] = true
		data, err := json.Marshal(u)
		require.NoError(t, err)
		scan("usage record", data)
	}
	require.True(t, usedTokens[ct1.Token.ID], "the usage of the tokens used is recorded")
	types := map[string]bool{}
	reasons := map[string]bool{}
	for _, ev := range audit {
		types[ev.Type] = true
		reasons[ev.Reason] = true
		data, err := json.Marshal(ev)
		require.NoError(t, err)
		scan("audit event "+ev.Type, data)
		scan("audit event "+ev.Type+" (%+v)", []byte(fmt.Sprintf("%+v", ev)))
	}
	for _, typ := range []string{
		engine.EventTokenCreated, engine.EventTokenExchanged, engine.EventTokenRefreshed, engine.EventRefreshReuse,
		engine.EventTokenRevoked, engine.EventTokenRotated, engine.EventAuthFailed, engine.EventLicenseReissued,
		engine.EventTokenDeactivated, engine.EventTokenDeleted, engine.EventAlertFired,
	} {
		require.True(t, types[typ], "the audit log holds %s events", typ)
	}
	// Malformed credentials name no tenant: they reach the observer and
	// the log only (checked below).
	for _, r := range []string{engine.ReasonBadSecret, engine.ReasonRefreshReused, engine.ReasonAddress, engine.ReasonRotated, engine.ReasonFamilyRevoked} {
		require.True(t, reasons[r], "the audit log holds a failure with reason %s", r)
	}

	// 3. The observer's events.
	obs.mu.Lock()
	evs := obs.evs
	obs.mu.Unlock()
	require.NotEmpty(t, evs)
	malformed := 0
	for _, ev := range evs {
		if ev.Reason == engine.ReasonMalformed {
			malformed++
		}
		data, err := json.Marshal(ev)
		require.NoError(t, err)
		scan("observed event "+ev.Type, data)
		scan("observed event "+ev.Type+" (%#v)", []byte(fmt.Sprintf("%#v", ev)))
	}
	require.NotZero(t, malformed, "the observer heard of the malformed credentials")
	alerts := 0
	for _, ev := range evs {
		if ev.Type == engine.EventAlertFired {
			alerts++
		}
	}
	require.NotZero(t, alerts, "the observer heard of the alerts")

	// 4. The logs.
	logged := logs.Bytes()
	require.Contains(t, string(logged), ct1.Token.ID, "positive control: the logs name the token")
	scan("the logs", logged)

	require.Empty(t, leaks, "issued secrets found at rest or in logs")
	t.Logf("%d secrets (%d needles) scanned for in %d store files (%d bytes), %d audit events, %d usage records, %d observed events, %d bytes of logs: 0 found",
		len(secrets), len(needles), files, size, len(audit), len(usage), len(evs), len(logged))
}

// TestSecretRedaction: every way of printing a secret, or a value that
// holds one, shows [REDACTED] and never the secret.
func TestSecretRedaction(t *testing.T) {
	const raw = "lkut_supersecretvalue4242"
	sec := engine.NewSecret(raw)
	require.Equal(t, raw, sec.Reveal())
	tokenID := uuid.New()
	values := map[string]any{
		"Secret":            sec,
		"*Secret":           &sec,
		"CreatedUserToken":  engine.CreatedUserToken{Token: engine.UserToken{ID: tokenID.String(), Name: "ci"}, Credential: sec},
		"*CreatedUserToken": &engine.CreatedUserToken{Credential: sec},
		"TokenResponse":     engine.TokenResponse{AccessToken: sec, RefreshToken: sec, TokenType: "Bearer", TokenID: tokenID},
		"*TokenResponse":    &engine.TokenResponse{AccessToken: sec, RefreshToken: sec, TokenType: "Bearer", TokenID: tokenID},
		"CreatedLicense":    engine.CreatedLicense{Key: sec},
		"[]Secret":          []engine.Secret{sec, sec},
		"map":               map[string]engine.Secret{"k": sec},
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			outputs := map[string]string{}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
				outputs["fmt "+verb] = fmt.Sprintf(verb, v)
			}
			outputs["fmt all"] = fmt.Sprintf("%v %+v %#v %s", v, v, v, v)
			outputs["fmt.Sprint"] = fmt.Sprint(v)
			outputs["fmt.Sprintln"] = fmt.Sprintln(v)
			outputs["error"] = fmt.Errorf("wrapped: %v", v).Error()
			data, err := json.Marshal(v)
			require.NoError(t, err)
			outputs["json"] = string(data)
			data, err = json.MarshalIndent(v, "", " ")
			require.NoError(t, err)
			outputs["json indent"] = string(data)
			if x, err := xml.Marshal(v); err == nil {
				outputs["xml"] = string(x)
			}
			var jb, tb bytes.Buffer
			slog.New(slog.NewJSONHandler(&jb, nil)).Info("issued", "value", v, slog.Any("any", v), slog.Group("g", "v", v))
			slog.New(slog.NewTextHandler(&tb, nil)).Info("issued", "value", v, slog.Any("any", v), slog.Group("g", "v", v))
			outputs["slog json"] = jb.String()
			outputs["slog text"] = tb.String()

			for how, out := range outputs {
				require.NotContains(t, out, raw, how)
				require.NotContains(t, out, "supersecret", how)
			}
			for _, how := range []string{"fmt %v", "fmt %+v", "fmt %#v", "fmt %s", "json", "slog json", "slog text"} {
				require.Contains(t, outputs[how], "[REDACTED]", how)
			}
		})
	}
	t.Run("IsZero", func(t *testing.T) {
		require.True(t, engine.Secret{}.IsZero())
		require.False(t, sec.IsZero())
	})
}
