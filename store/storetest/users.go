package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
)

func userWithEmail(id, email string, v int) store.User {
	u := newUser(id, v)
	u.Email = email
	return u
}

func getByEmail(tid, email string) func(tx store.Tx) (store.User, error) {
	return func(tx store.Tx) (store.User, error) { return tx.Tenant(tid).Users().GetByEmail(bg, email) }
}

// requireEmail checks that email resolves to user id in tenant tid, or to
// nothing when id is "".
func requireEmail(t tb, s store.Store, tid, email, id string) {
	t.Helper()
	got, err := read(t, s, getByEmail(tid, email))
	if id == "" {
		require.ErrorIs(t, err, store.ErrNotFound, "GetByEmail(%q) in %q", email, tid)
		return
	}
	require.NoError(t, err, "GetByEmail(%q) in %q", email, tid)
	require.Equal(t, id, got.ID, "GetByEmail(%q) in %q", email, tid)
	require.Equal(t, email, got.Email)
	require.Equal(t, tid, got.TenantID)
}

func userCases() []Case {
	const e1, e2, e3 = "one@example.com", "two@example.com", "three@example.com"
	return []Case{
		{"Users/GetByEmail", func(t *testing.T, b Backend) {
			s := open(t, b)
			requireEmail(t, s, tenantA, e1, "")
			update(t, s, userKind.create(tenantA, userWithEmail("u1", e1, 1)))
			update(t, s, userKind.create(tenantA, userWithEmail("u2", e2, 3)))
			got := mustRead(t, s, getByEmail(tenantA, e1))
			requireSame(t, userKind.withTenant(userWithEmail("u1", e1, 1), tenantA), got, "GetByEmail returns the whole record")
			requireEmail(t, s, tenantA, e2, "u2")
			requireEmail(t, s, tenantA, e3, "")
			requireEmail(t, s, tenantA, "one@example.co", "")
			requireEmail(t, s, tenantA, "one@example.comm", "")
		}},
		{"Users/EmailByteForByte", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, userKind.create(tenantA, userWithEmail("u1", "alice@example.com", 1)))
			update(t, s, userKind.create(tenantA, userWithEmail("u2", "Alice@example.com", 1)))
			update(t, s, userKind.create(tenantA, userWithEmail("u3", "alice@example.com ", 1)))
			requireEmail(t, s, tenantA, "alice@example.com", "u1")
			requireEmail(t, s, tenantA, "Alice@example.com", "u2")
			requireEmail(t, s, tenantA, "alice@example.com ", "u3")
			requireEmail(t, s, tenantA, "ALICE@example.com", "")
		}},
		{"Users/EmailUniqueOnCreate", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, userKind.create(tenantA, userWithEmail("u1", e1, 1)))
			err := attempt(t, s, userKind.create(tenantA, userWithEmail("u2", e1, 3)))
			require.ErrorIs(t, err, store.ErrAlreadyExists)
			userKind.requireMissing(t, s, tenantA, "u2")
			requireEmail(t, s, tenantA, e1, "u1")
			requireSame(t, userKind.withTenant(userWithEmail("u1", e1, 1), tenantA), mustRead(t, s, userKind.get(tenantA, "u1")))
			require.Equal(t, []string{"u1"}, userKind.ids(t, s, tenantA))
		}},
		{"Users/EmailUniqueOnUpdate", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, userKind.create(tenantA, userWithEmail("u1", e1, 1)))
			update(t, s, userKind.create(tenantA, userWithEmail("u2", e2, 1)))
			err := attempt(t, s, userKind.update(tenantA, userWithEmail("u2", e1, 3)))
			require.ErrorIs(t, err, store.ErrAlreadyExists, "Update taking another user's email")
			requireSame(t, userKind.withTenant(userWithEmail("u2", e2, 1), tenantA), mustRead(t, s, userKind.get(tenantA, "u2")),
				"a failed Update must not change the record")
			requireEmail(t, s, tenantA, e1, "u1")
			requireEmail(t, s, tenantA, e2, "u2")
			// Keeping one's own email is not a conflict.
			update(t, s, userKind.update(tenantA, userWithEmail("u2", e2, 3)))
			requireSame(t, userKind.withTenant(userWithEmail("u2", e2, 3), tenantA), mustRead(t, s, userKind.get(tenantA, "u2")))
			requireEmail(t, s, tenantA, e2, "u2")
		}},
		{"Users/EmailChangeFreesOld", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, userKind.create(tenantA, userWithEmail("u1", e1, 1)))
			update(t, s, func(tx store.Tx) error {
				users := tx.Tenant(tenantA).Users()
				require.NoError(t, users.Update(bg, userWithEmail("u1", e2, 1)))
				_, err := users.GetByEmail(bg, e1)
				require.ErrorIs(t, err, store.ErrNotFound, "old email inside the transaction")
				got, err := users.GetByEmail(bg, e2)
				require.NoError(t, err, "new email inside the transaction")
				require.Equal(t, "u1", got.ID)
				return nil
			})
			requireEmail(t, s, tenantA, e1, "")
			requireEmail(t, s, tenantA, e2, "u1")
			// The old email is free for another user.
			update(t, s, userKind.create(tenantA, userWithEmail("u2", e1, 1)))
			requireEmail(t, s, tenantA, e1, "u2")
			requireEmail(t, s, tenantA, e2, "u1")
		}},
		{"Users/DeleteFreesEmail", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, userKind.create(tenantA, userWithEmail("u1", e1, 1)))
			update(t, s, func(tx store.Tx) error { return tx.Tenant(tenantA).Users().Delete(bg, "u1") })
			requireEmail(t, s, tenantA, e1, "")
			update(t, s, userKind.create(tenantA, userWithEmail("u2", e1, 1)))
			requireEmail(t, s, tenantA, e1, "u2")
			// The deleted user's ID and email together again.
			update(t, s, userKind.create(tenantA, userWithEmail("u1", e2, 1)))
			requireEmail(t, s, tenantA, e2, "u1")
		}},
		{"Users/EmailSwapInOneTransaction", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, userKind.create(tenantA, userWithEmail("u1", e1, 1)))
			update(t, s, userKind.create(tenantA, userWithEmail("u2", e2, 1)))
			update(t, s, func(tx store.Tx) error {
				users := tx.Tenant(tenantA).Users()
				require.NoError(t, users.Update(bg, userWithEmail("u1", e3, 1)))
				require.NoError(t, users.Update(bg, userWithEmail("u2", e1, 1)))
				require.NoError(t, users.Update(bg, userWithEmail("u1", e2, 1)))
				return nil
			})
			requireEmail(t, s, tenantA, e1, "u2")
			requireEmail(t, s, tenantA, e2, "u1")
			requireEmail(t, s, tenantA, e3, "")
		}},
		{"Users/GetByEmailInvalidTenant", func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, bad := range badIDs {
				_, err := read(t, s, getByEmail(bad.id, e1))
				require.ErrorIs(t, err, store.ErrInvalid, bad.name)
			}
		}},
	}
}
