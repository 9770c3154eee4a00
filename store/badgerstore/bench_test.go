package badgerstore_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/badgerstore"
	"github.com/licensekit/licensekit/store/badgerstore/internal/loadgen"
)

// BenchmarkLicenseByKeyDigest measures the validation hot path: one
// read-only transaction resolving a random existing key digest, among
// 100k licenses of one tenant, to its license.
func BenchmarkLicenseByKeyDigest(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	s, err := badgerstore.Open(b.TempDir(), badgerstore.Options{})
	require.NoError(b, err)
	defer s.Close()
	require.NoError(b, loadgen.Load(ctx, s, 0, n, 1000))

	digests := make([][]byte, n)
	for i := range digests {
		digests[i] = loadgen.Digest(i)
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
			if l.ID != loadgen.LicenseID(i) {
				b.Fatalf("digest %d resolved to %s", i, l.ID)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
