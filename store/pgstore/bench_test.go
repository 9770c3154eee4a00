package pgstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/pgstore"
)

// The load generator of the badgerstore benchmarks
// (store/badgerstore/internal/loadgen), copied: the same licenses, so
// the numbers compare.

const benchTenant = "bench-tenant"

func benchDigest(i int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	d := sha256.Sum256(append([]byte("loadgen-license-key:"), b[:]...))
	return d[:]
}

func benchLicenseID(i int) string { return fmt.Sprintf("lic-%09d", i) }

func benchLicense(i int, now time.Time) store.License {
	return store.License{
		TenantID:   benchTenant,
		ID:         benchLicenseID(i),
		CustomerID: fmt.Sprintf("cus-%07d", i/10),
		ProductID:  "prod-desktop",
		PlanID:     "plan-pro",
		Status:     store.LicenseActive,
		KeyDigest:  benchDigest(i),
		KeyID:      "k1",
		KeyHint:    fmt.Sprintf("%04X", i&0xffff),
		ExpiresAt:  now.AddDate(1, 0, 0),
		Attributes: map[string]string{"seats": "5"},
		CreatedAt:  now,
		UpdatedAt:  now,
	}
}

// loadLicenses creates licenses [from, to) of benchTenant, batch per
// Update.
func loadLicenses(ctx context.Context, s store.Store, from, to, batch int) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	for lo := from; lo < to; lo += batch {
		hi := min(lo+batch, to)
		err := s.Update(ctx, func(tx store.Tx) error {
			ls := tx.Tenant(benchTenant).Licenses()
			for i := lo; i < hi; i++ {
				if err := ls.Create(ctx, benchLicense(i, now)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("licenses [%d, %d): %w", lo, hi, err)
		}
	}
	return nil
}

// BenchmarkLicenseByKeyDigest measures the validation hot path: one
// read-only transaction resolving a random existing key digest, among
// 100k licenses of one tenant, to its license. Each iteration is a View
// (BEGIN, the SELECT on the unique key_digest index, ROLLBACK) over a unix
// socket to a local server: two round trips, BEGIN being sent with the
// SELECT.
func BenchmarkLicenseByKeyDigest(b *testing.B) {
	needPG(b)
	const n = 100_000
	ctx := context.Background()
	schema := newSchema("bench")
	s, err := pgstore.Open(ctx, testDSN, pgstore.Options{Schema: schema})
	require.NoError(b, err)
	defer s.Close()
	start := time.Now()
	require.NoError(b, loadLicenses(ctx, s, 0, n, 1000))
	b.Logf("loaded %d licenses in %v", n, time.Since(start).Round(time.Millisecond))
	// Measure the steady state, not autovacuum catching up with the load.
	_, err = sharedPool.Exec(ctx, "VACUUM ANALYZE "+pgx.Identifier{schema, "licenses"}.Sanitize())
	require.NoError(b, err)

	digests := make([][]byte, n)
	for i := range digests {
		digests[i] = benchDigest(i)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		i := rng.IntN(n)
		err := s.View(ctx, func(tx store.Tx) error {
			l, err := tx.LicenseByKeyDigest(ctx, digests[i])
			if err != nil {
				return err
			}
			if l.ID != benchLicenseID(i) {
				b.Fatalf("digest %d resolved to %s", i, l.ID)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateCustomer measures a small read-write transaction: read a
// record and write it back: BEGIN with the SELECT, the UPDATE, COMMIT.
func BenchmarkUpdateCustomer(b *testing.B) {
	needPG(b)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, testDSN, pgstore.Options{Schema: newSchema("benchupd")})
	require.NoError(b, err)
	defer s.Close()
	require.NoError(b, s.Update(ctx, func(tx store.Tx) error {
		return tx.Tenant(benchTenant).Customers().Create(ctx, store.Customer{ID: "c1", Name: "0"})
	}))
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		i++
		err := s.Update(ctx, func(tx store.Tx) error {
			cs := tx.Tenant(benchTenant).Customers()
			c, err := cs.Get(ctx, "c1")
			if err != nil {
				return err
			}
			c.Name = fmt.Sprint(i)
			return cs.Update(ctx, c)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
