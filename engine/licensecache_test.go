package engine

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/store"
	"github.com/stretchr/testify/require"
)

// The compact license cache behaves as a map from digest to license, with
// at most max entries, whatever mix of compact and other licenses, puts,
// replacements, removals and evictions it sees.
func TestLicenseCacheMatchesAMap(t *testing.T) {
	for _, max := range []int{1, 7, 64, 1000} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(max), 9))
			c := newLicenseCache(max)
			model := map[[32]byte]licenseSnap{}
			byID := map[licenseRef][32]byte{}
			const universe = 3000
			digestOf := func(i int) [32]byte { return sha256.Sum256([]byte(fmt.Sprint("key", i))) }
			licenseOf := func(i, version int) licenseSnap {
				l := licenseSnap{loaded: int64(version), tenantID: []string{"acme", "globex"}[i%2], public: PublicLicense{
					ID:         uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint(i))).String(),
					CustomerID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("c", i%50))).String(),
					ProductID:  fmt.Sprint("product-", i%3),
					Status:     []store.LicenseStatus{store.LicenseActive, store.LicenseSuspended}[version%2],
				}}
				switch i % 7 {
				case 1:
					l.public.PlanID = "plan-1"
				case 2:
					l.public.ExpiresAt = time.Date(2027, 1, 2, 3, 4, 5, 6000, time.UTC)
				case 3:
					l.public.Attributes = map[string]string{"seats": "5"} // not compact
				case 4:
					l.public.ID = fmt.Sprint("lic-", i) // not a UUID
				case 5:
					l.public.ExpiresAt = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
				}
				return l
			}
			for op := range 20_000 {
				i := rng.IntN(universe)
				d := digestOf(i)
				switch r := rng.IntN(10); {
				case r < 5:
					l := licenseOf(i, op)
					// A reissued key: the same license under another digest.
					if rng.IntN(4) == 0 {
						d = digestOf(i + universe*(1+rng.IntN(3)))
					}
					c.put(d, &l)
					ref := licenseRef{l.tenantID, l.public.ID}
					if old, ok := byID[ref]; ok {
						delete(model, old)
					}
					if old, ok := model[d]; ok {
						delete(byID, licenseRef{old.tenantID, old.public.ID})
					}
					model[d] = l
					byID[ref] = d
				case r < 6:
					l := licenseOf(i, 0)
					c.remove(l.tenantID, l.public.ID)
					ref := licenseRef{l.tenantID, l.public.ID}
					delete(model, byID[ref])
					delete(byID, ref)
				default:
					got, ok := c.get(&d)
					if ok {
						require.Equal(t, model[d], got)
					}
				}
				require.LessOrEqual(t, c.len(), max)
				// Evictions make the cache a subset of the model, never
				// a different answer.
				if op%997 == 0 {
					for d, want := range model {
						if got, ok := c.get(&d); ok {
							require.Equal(t, want, got)
						}
					}
					for d := range model {
						if _, ok := c.get(&d); !ok {
							delete(byID, licenseRef{model[d].tenantID, model[d].public.ID})
							delete(model, d)
						}
					}
					require.Equal(t, len(model), c.len())
				}
			}
		})
	}
}

// A cache with room for every license keeps every one.
func TestLicenseCacheKeepsWhatFits(t *testing.T) {
	c := newLicenseCache(10_000)
	for i := range 10_000 {
		l := licenseSnap{tenantID: "acme", public: PublicLicense{ID: uuid.NewString(), CustomerID: uuid.NewString(), ProductID: "p", Status: store.LicenseActive}}
		c.put(sha256.Sum256([]byte(fmt.Sprint(i))), &l)
	}
	require.Equal(t, 10_000, c.live)
	for i := range 10_000 {
		d := sha256.Sum256([]byte(fmt.Sprint(i)))
		_, ok := c.get(&d)
		require.True(t, ok)
	}
}

// Past maxInterned distinct strings, licenses are still cached, in the map.
func TestLicenseCacheBeyondInterned(t *testing.T) {
	c := newLicenseCache(maxInterned + 1000)
	n := maxInterned + 500
	for i := range n {
		l := licenseSnap{tenantID: "acme", public: PublicLicense{ID: uuid.NewString(), CustomerID: uuid.NewString(),
			ProductID: fmt.Sprint("product-", i), Status: store.LicenseActive}}
		c.put(sha256.Sum256([]byte(fmt.Sprint(i))), &l)
	}
	require.Equal(t, n, c.len())
	require.NotEmpty(t, c.other)
	require.LessOrEqual(t, len(c.strs), maxInterned)
	for i := range n {
		d := sha256.Sum256([]byte(fmt.Sprint(i)))
		l, ok := c.get(&d)
		require.True(t, ok)
		require.Equal(t, fmt.Sprint("product-", i), l.public.ProductID)
	}
}
