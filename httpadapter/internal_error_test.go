package httpadapter_test

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/httpadapter"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
	"github.com/stretchr/testify/require"
)

// TestInternalError: a store failure is 500 "Internal error" with no
// detail in the body, and it is logged with the route pattern, never the
// token, the raw path or the body.
func TestInternalError(t *testing.T) {
	var logs bytes.Buffer
	clock := &manualClock{now: fixtureStart}
	st := memstore.New()
	eng, err := engine.New(engine.Config{Store: st, MasterKey: testMasterKey, Clock: clock.Now})
	require.NoError(t, err)
	f := &fixture{t: t, ctx: t.Context(), eng: eng, clock: clock, remote: "192.0.2.10:1"}
	f.admin = f.addTenant("acme", tenantLimitsNone)
	f.api = httpadapter.New(eng, httpadapter.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	tok := f.bearer(permission.ViewUsers)
	_ = f.do(req{method: "GET", path: "/v1/users", token: tok}) // warm the engine's cache

	require.NoError(t, st.Close())
	rec := f.do(req{method: "GET", path: "/v1/users/secret-looking-id?cursor=x", token: tok})
	require.Equal(t, 500, rec.Code)
	require.Equal(t, hdr(), rec.Header())
	require.Equal(t, `{"error":"Internal error"}`+"\n", rec.Body.String())
	require.Contains(t, logs.String(), "GET /v1/users/{id}")
	require.Contains(t, logs.String(), store.ErrClosed.Error())
	require.NotContains(t, logs.String(), tok)
	require.NotContains(t, logs.String(), "secret-looking-id")
	_ = eng.Close()
}
