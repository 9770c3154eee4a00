package console_test

import (
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/stretchr/testify/require"
)

// One Console serves many browsers at once (run with -race): sessions,
// forms and pages do not share request state.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	const n = 4
	browsers := make([]*browser, n)
	for i := range browsers {
		browsers[i] = f.admin()
		browsers[i].remote = "192.0.2." + strconv.Itoa(20+i) + ":1000"
	}
	var wg sync.WaitGroup
	codes := make([][]int, n)
	for i, b := range browsers {
		wg.Go(func() {
			for j := range 3 {
				rec := b.post(prefix+"tokens/new", url.Values{
					"name": {"t" + strconv.Itoa(i) + "-" + strconv.Itoa(j)}, "owner": {f.acme.UserID}, "perm": {"users:view"},
				})
				codes[i] = append(codes[i], rec.Code)
				for _, p := range []string{"tokens", "review", "audit", "users", "tenant"} {
					codes[i] = append(codes[i], b.get(prefix+p).Code)
				}
			}
		})
	}
	wg.Wait()
	for _, cs := range codes {
		for _, c := range cs {
			require.Equal(t, http.StatusOK, c)
		}
	}
	tokens, _, err := f.eng.ListUserTokens(f.ctx, f.acme, "acme", store.Page{})
	require.NoError(t, err)
	require.Len(t, tokens, n*3)
	for _, tok := range tokens {
		require.True(t, tok.Permissions.Equal(permission.NewSet(permission.ViewUsers)))
	}
}
