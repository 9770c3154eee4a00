package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
)

func licenseWithDigest(id string, d []byte, v int) store.License {
	l := newLicense(id, v)
	l.KeyDigest = d
	return l
}

func byDigest(d []byte) func(tx store.Tx) (store.License, error) {
	return func(tx store.Tx) (store.License, error) { return tx.LicenseByKeyDigest(bg, d) }
}

// requireDigest checks that d resolves to license id of tenant tid, or to
// nothing when id is "".
func requireDigest(t tb, s store.Store, d []byte, tid, id string) {
	t.Helper()
	got, err := read(t, s, byDigest(d))
	if id == "" {
		require.ErrorIs(t, err, store.ErrNotFound, "LicenseByKeyDigest(%x)", d)
		return
	}
	require.NoError(t, err, "LicenseByKeyDigest(%x)", d)
	require.Equal(t, tid, got.TenantID, "LicenseByKeyDigest(%x): tenant", d)
	require.Equal(t, id, got.ID, "LicenseByKeyDigest(%x): license", d)
	require.Equal(t, d, got.KeyDigest)
}

func licenseCases() []Case {
	d1, d2, d3 := digest("d1"), digest("d2"), digest("d3")
	return []Case{
		{"Licenses/ByKeyDigest", func(t *testing.T, b Backend) {
			s := open(t, b)
			requireDigest(t, s, d1, "", "")
			update(t, s, licenseKind.create(tenantA, licenseWithDigest("l1", d1, 1)))
			update(t, s, licenseKind.create(tenantB, licenseWithDigest("l1", d2, 3)))
			update(t, s, licenseKind.create(tenantB, licenseWithDigest("l2", d3, 5)))
			got := mustRead(t, s, byDigest(d1))
			requireSame(t, licenseKind.withTenant(licenseWithDigest("l1", d1, 1), tenantA), got, "the whole record")
			got = mustRead(t, s, byDigest(d2))
			requireSame(t, licenseKind.withTenant(licenseWithDigest("l1", d2, 3), tenantB), got, "the whole record, other tenant")
			requireDigest(t, s, d3, tenantB, "l2")
			requireDigest(t, s, digest("d4"), "", "")
			requireDigest(t, s, d1[:16], "", "")
			requireDigest(t, s, append(append([]byte{}, d1...), 0), "", "")
		}},
		{"Licenses/DigestUniqueAcrossTenants", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, licenseKind.create(tenantA, licenseWithDigest("l1", d1, 1)))
			require.ErrorIs(t, attempt(t, s, licenseKind.create(tenantA, licenseWithDigest("l2", d1, 3))), store.ErrAlreadyExists, "same tenant")
			require.ErrorIs(t, attempt(t, s, licenseKind.create(tenantB, licenseWithDigest("l1", d1, 3))), store.ErrAlreadyExists, "other tenant, same ID")
			require.ErrorIs(t, attempt(t, s, licenseKind.create(tenantB, licenseWithDigest("l9", d1, 3))), store.ErrAlreadyExists, "other tenant, other ID")
			licenseKind.requireMissing(t, s, tenantA, "l2")
			licenseKind.requireMissing(t, s, tenantB, "l1")
			licenseKind.requireMissing(t, s, tenantB, "l9")
			requireDigest(t, s, d1, tenantA, "l1")
			requireSame(t, licenseKind.withTenant(licenseWithDigest("l1", d1, 1), tenantA), mustRead(t, s, byDigest(d1)))
		}},
		{"Licenses/UpdateNewDigest", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, licenseKind.create(tenantA, licenseWithDigest("l1", d1, 1)))
			update(t, s, func(tx store.Tx) error {
				require.NoError(t, licenseKind.update(tenantA, licenseWithDigest("l1", d2, 1))(tx))
				_, err := tx.LicenseByKeyDigest(bg, d1)
				require.ErrorIs(t, err, store.ErrNotFound, "old digest inside the reissuing transaction")
				got, err := tx.LicenseByKeyDigest(bg, d2)
				require.NoError(t, err, "new digest inside the reissuing transaction")
				require.Equal(t, "l1", got.ID)
				return nil
			})
			requireDigest(t, s, d1, "", "")
			requireDigest(t, s, d2, tenantA, "l1")
			// The old digest is free again, even for another tenant.
			update(t, s, licenseKind.create(tenantB, licenseWithDigest("l5", d1, 1)))
			requireDigest(t, s, d1, tenantB, "l5")
		}},
		{"Licenses/UpdateSameDigest", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, licenseKind.create(tenantA, licenseWithDigest("l1", d1, 1)))
			update(t, s, licenseKind.update(tenantA, licenseWithDigest("l1", d1, 2)))
			requireSame(t, licenseKind.withTenant(licenseWithDigest("l1", d1, 2), tenantA), mustRead(t, s, byDigest(d1)),
				"LicenseByKeyDigest returns the updated record")
		}},
		{"Licenses/UpdateTakingDigest", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, licenseKind.create(tenantA, licenseWithDigest("l1", d1, 1)))
			update(t, s, licenseKind.create(tenantA, licenseWithDigest("l2", d2, 1)))
			update(t, s, licenseKind.create(tenantB, licenseWithDigest("l3", d3, 1)))
			err := attempt(t, s, licenseKind.update(tenantA, licenseWithDigest("l2", d1, 3)))
			require.ErrorIs(t, err, store.ErrAlreadyExists, "same tenant")
			err = attempt(t, s, licenseKind.update(tenantB, licenseWithDigest("l3", d1, 3)))
			require.ErrorIs(t, err, store.ErrAlreadyExists, "other tenant")
			requireDigest(t, s, d1, tenantA, "l1")
			requireDigest(t, s, d2, tenantA, "l2")
			requireDigest(t, s, d3, tenantB, "l3")
			requireSame(t, licenseKind.withTenant(licenseWithDigest("l2", d2, 1), tenantA), mustRead(t, s, licenseKind.get(tenantA, "l2")))
			requireSame(t, licenseKind.withTenant(licenseWithDigest("l3", d3, 1), tenantB), mustRead(t, s, licenseKind.get(tenantB, "l3")))
		}},
		{"Licenses/DigestSwapInOneTransaction", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, licenseKind.create(tenantA, licenseWithDigest("l1", d1, 1)))
			update(t, s, licenseKind.create(tenantB, licenseWithDigest("l2", d2, 1)))
			update(t, s, func(tx store.Tx) error {
				require.NoError(t, licenseKind.update(tenantA, licenseWithDigest("l1", d3, 1))(tx))
				require.NoError(t, licenseKind.update(tenantB, licenseWithDigest("l2", d1, 1))(tx))
				require.NoError(t, licenseKind.update(tenantA, licenseWithDigest("l1", d2, 1))(tx))
				return nil
			})
			requireDigest(t, s, d1, tenantB, "l2")
			requireDigest(t, s, d2, tenantA, "l1")
			requireDigest(t, s, d3, "", "")
		}},
		{"Licenses/DeleteRemovesDigest", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, licenseKind.create(tenantA, licenseWithDigest("l1", d1, 1)))
			update(t, s, func(tx store.Tx) error {
				require.NoError(t, tx.Tenant(tenantA).Licenses().Delete(bg, "l1"))
				_, err := tx.LicenseByKeyDigest(bg, d1)
				require.ErrorIs(t, err, store.ErrNotFound, "inside the deleting transaction")
				return nil
			})
			requireDigest(t, s, d1, "", "")
			update(t, s, licenseKind.create(tenantB, licenseWithDigest("l7", d1, 1)))
			requireDigest(t, s, d1, tenantB, "l7")
		}},
		{"Licenses/DigestIsCopied", func(t *testing.T, b Backend) {
			s := open(t, b)
			d := append([]byte{}, d1...)
			update(t, s, licenseKind.create(tenantA, licenseWithDigest("l1", d, 1)))
			d[0] ^= 0xff
			requireDigest(t, s, d1, tenantA, "l1")
			requireDigest(t, s, d, "", "")
			got := mustRead(t, s, byDigest(d1))
			got.KeyDigest[0] ^= 0xff
			got.Attributes["machine"] = "mutated"
			requireSame(t, licenseKind.withTenant(licenseWithDigest("l1", d1, 1), tenantA), mustRead(t, s, byDigest(d1)),
				"record returned by LicenseByKeyDigest aliases the store")
		}},
	}
}
