package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
)

func tokenByID(id string) func(tx store.Tx) (store.UserToken, error) {
	return func(tx store.Tx) (store.UserToken, error) { return tx.UserTokenByID(bg, id) }
}

func familyByID(id string) func(tx store.Tx) (store.RefreshFamily, error) {
	return func(tx store.Tx) (store.RefreshFamily, error) { return tx.RefreshFamilyByID(bg, id) }
}

const (
	tokenID1 = "0192e4a4-7c1b-7d3e-9a4f-1d2c3b4a5f60"
	tokenID2 = "0192e4a4-7c1b-7d3e-9a4f-1d2c3b4a5f61"
)

func sessionByID(id string) func(tx store.Tx) (store.ConsoleSession, error) {
	return func(tx store.Tx) (store.ConsoleSession, error) { return tx.ConsoleSessionByID(bg, id) }
}

func tokenCases() []Case {
	return []Case{
		{"UserTokens/ByID", func(t *testing.T, b Backend) {
			s := open(t, b)
			_, err := read(t, s, tokenByID(tokenID1))
			require.ErrorIs(t, err, store.ErrNotFound)
			update(t, s, tokenKind.create(tenantA, newToken(tokenID1, 1)))
			update(t, s, tokenKind.create(tenantB, newToken(tokenID2, 3)))
			requireSame(t, tokenKind.want(tenantA, tokenID1, 1), mustRead(t, s, tokenByID(tokenID1)))
			requireSame(t, tokenKind.want(tenantB, tokenID2, 3), mustRead(t, s, tokenByID(tokenID2)))
			_, err = read(t, s, tokenByID(tokenID1[:len(tokenID1)-1]))
			require.ErrorIs(t, err, store.ErrNotFound)
			// The record read by ID is a value too.
			got := mustRead(t, s, tokenByID(tokenID1))
			tokenKind.mutate(&got)
			requireSame(t, tokenKind.want(tenantA, tokenID1, 1), mustRead(t, s, tokenByID(tokenID1)))
		}},
		{"UserTokens/PermissionsRoundTrip", func(t *testing.T, b Backend) {
			s := open(t, b)
			sets := []permission.Set{
				permission.NewSet(),
				permission.NewSet(permission.ViewLicenses),
				permission.NewSet(permission.ViewUsers, permission.CreateUsers, permission.ViewProducts),
				permission.Full(),
			}
			for i, set := range sets {
				tk := newToken(tokenID1[:len(tokenID1)-1]+string(rune('a'+i)), 1)
				tk.Permissions = set
				update(t, s, tokenKind.create(tenantA, tk))
				got := mustRead(t, s, tokenKind.get(tenantA, tk.ID))
				require.True(t, set.Equal(got.Permissions), "permissions %v came back as %v", set, got.Permissions)
			}
		}},
		{"UserTokens/IDUniqueAcrossTenants", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, tokenKind.create(tenantA, newToken(tokenID1, 1)))
			require.ErrorIs(t, attempt(t, s, tokenKind.create(tenantB, newToken(tokenID1, 3))), store.ErrAlreadyExists)
			tokenKind.requireMissing(t, s, tenantB, tokenID1)
			require.Empty(t, tokenKind.all(t, s, tenantB))
			requireSame(t, tokenKind.want(tenantA, tokenID1, 1), mustRead(t, s, tokenByID(tokenID1)))
			// Updating it through another tenant finds nothing and changes nothing.
			require.ErrorIs(t, attempt(t, s, tokenKind.update(tenantB, newToken(tokenID1, 5))), store.ErrNotFound)
			requireSame(t, tokenKind.want(tenantA, tokenID1, 1), mustRead(t, s, tokenByID(tokenID1)))
			tokenKind.requireMissing(t, s, tenantB, tokenID1)
		}},
		{"UserTokens/DeletedKeepsRecord", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, tokenKind.create(tenantA, newToken(tokenID1, 1)))
			update(t, s, tokenKind.create(tenantA, newToken(tokenID2, 1)))
			deleted := newToken(tokenID1, 1)
			deleted.Status = store.TokenDeleted
			deactivated := newToken(tokenID2, 1)
			deactivated.Status = store.TokenDeactivated
			update(t, s, tokenKind.update(tenantA, deleted))
			update(t, s, tokenKind.update(tenantA, deactivated))
			requireSame(t, tokenKind.withTenant(deleted, tenantA), mustRead(t, s, tokenKind.get(tenantA, tokenID1)))
			requireSame(t, tokenKind.withTenant(deleted, tenantA), mustRead(t, s, tokenByID(tokenID1)))
			requireSame(t, tokenKind.withTenant(deactivated, tenantA), mustRead(t, s, tokenByID(tokenID2)))
			require.Equal(t, []string{tokenID1, tokenID2}, tokenKind.ids(t, s, tenantA))
			// A deleted token's ID is never reused, in any tenant.
			require.ErrorIs(t, attempt(t, s, tokenKind.create(tenantA, newToken(tokenID1, 3))), store.ErrAlreadyExists)
			require.ErrorIs(t, attempt(t, s, tokenKind.create(tenantB, newToken(tokenID1, 3))), store.ErrAlreadyExists)
			require.Equal(t, store.TokenDeleted, mustRead(t, s, tokenByID(tokenID1)).Status)
		}},
		{"UserTokens/RotationUpdatesByID", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, tokenKind.create(tenantA, newToken(tokenID1, 1)))
			rotated := newToken(tokenID1, 1)
			rotated.SecretDigest = digest("rotated")
			rotated.Generation++
			rotated.RotatedAt = at(1, 99)
			update(t, s, func(tx store.Tx) error {
				require.NoError(t, tokenKind.update(tenantA, rotated)(tx))
				got, err := tx.UserTokenByID(bg, tokenID1)
				require.NoError(t, err)
				requireSame(t, tokenKind.withTenant(rotated, tenantA), got, "UserTokenByID inside the rotating transaction")
				return nil
			})
			requireSame(t, tokenKind.withTenant(rotated, tenantA), mustRead(t, s, tokenByID(tokenID1)))
		}},
		{"UserTokens/ByIDInvalid", func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, bad := range badIDs {
				_, err := read(t, s, tokenByID(bad.id))
				require.ErrorIs(t, err, store.ErrInvalid, bad.name)
			}
		}},
	}
}

func familyCases() []Case {
	const f1, f2 = "0192e4a4-0000-7000-8000-00000000f001", "0192e4a4-0000-7000-8000-00000000f002"
	return []Case{
		{"RefreshFamilies/ByID", func(t *testing.T, b Backend) {
			s := open(t, b)
			_, err := read(t, s, familyByID(f1))
			require.ErrorIs(t, err, store.ErrNotFound)
			update(t, s, familyKind.create(tenantA, newFamily(f1, 1)))
			update(t, s, familyKind.create(tenantB, newFamily(f2, 2)))
			requireSame(t, familyKind.want(tenantA, f1, 1), mustRead(t, s, familyByID(f1)))
			requireSame(t, familyKind.want(tenantB, f2, 2), mustRead(t, s, familyByID(f2)))
			got := mustRead(t, s, familyByID(f1))
			familyKind.mutate(&got)
			requireSame(t, familyKind.want(tenantA, f1, 1), mustRead(t, s, familyByID(f1)), "record returned by RefreshFamilyByID aliases the store")
		}},
		{"RefreshFamilies/IDUniqueAcrossTenants", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, familyKind.create(tenantA, newFamily(f1, 1)))
			require.ErrorIs(t, attempt(t, s, familyKind.create(tenantB, newFamily(f1, 3))), store.ErrAlreadyExists)
			familyKind.requireMissing(t, s, tenantB, f1)
			require.Empty(t, familyKind.all(t, s, tenantB))
			requireSame(t, familyKind.want(tenantA, f1, 1), mustRead(t, s, familyByID(f1)))
			require.ErrorIs(t, attempt(t, s, familyKind.update(tenantB, newFamily(f1, 5))), store.ErrNotFound)
			requireSame(t, familyKind.want(tenantA, f1, 1), mustRead(t, s, familyByID(f1)))
		}},
		{"RefreshFamilies/RevokedKeepsRecord", func(t *testing.T, b Backend) {
			s := open(t, b)
			active := newFamily(f1, 2) // the even variant is active
			require.Equal(t, store.FamilyActive, active.Status)
			update(t, s, familyKind.create(tenantA, active))
			revoked := active
			revoked.Status = store.FamilyRevoked
			revoked.RevokedAt = at(2, 40)
			revoked.RevokeReason = "refresh token reuse"
			update(t, s, familyKind.update(tenantA, revoked))
			requireSame(t, familyKind.withTenant(revoked, tenantA), mustRead(t, s, familyKind.get(tenantA, f1)))
			requireSame(t, familyKind.withTenant(revoked, tenantA), mustRead(t, s, familyByID(f1)))
			require.Equal(t, []string{f1}, familyKind.ids(t, s, tenantA))
			require.ErrorIs(t, attempt(t, s, familyKind.create(tenantA, newFamily(f1, 4))), store.ErrAlreadyExists)
		}},
		{"RefreshFamilies/RotationUpdatesByID", func(t *testing.T, b Backend) {
			s := open(t, b)
			fam := newFamily(f1, 2)
			update(t, s, familyKind.create(tenantA, fam))
			fam.Seq++
			fam.SecretDigest = digest("next")
			fam.RefreshedAt = at(2, 9)
			fam.IdleExpiresAt = at(2, 69)
			update(t, s, func(tx store.Tx) error {
				require.NoError(t, familyKind.update(tenantA, fam)(tx))
				got, err := tx.RefreshFamilyByID(bg, f1)
				require.NoError(t, err)
				requireSame(t, familyKind.withTenant(fam, tenantA), got, "RefreshFamilyByID inside the refreshing transaction")
				return nil
			})
			requireSame(t, familyKind.withTenant(fam, tenantA), mustRead(t, s, familyByID(f1)))
		}},
		{"RefreshFamilies/ByIDInvalid", func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, bad := range badIDs {
				_, err := read(t, s, familyByID(bad.id))
				require.ErrorIs(t, err, store.ErrInvalid, bad.name)
			}
		}},
	}
}

func sessionCases() []Case {
	const s1, s2 = "0192e4a4-0000-7000-8000-00000000c001", "0192e4a4-0000-7000-8000-00000000c002"
	return []Case{
		{"ConsoleSessions/ByID", func(t *testing.T, b Backend) {
			s := open(t, b)
			_, err := read(t, s, sessionByID(s1))
			require.ErrorIs(t, err, store.ErrNotFound)
			update(t, s, sessionKind.create(tenantA, newSession(s1, 1)))
			update(t, s, sessionKind.create(tenantB, newSession(s2, 2)))
			requireSame(t, sessionKind.want(tenantA, s1, 1), mustRead(t, s, sessionByID(s1)))
			requireSame(t, sessionKind.want(tenantB, s2, 2), mustRead(t, s, sessionByID(s2)))
			got := mustRead(t, s, sessionByID(s1))
			sessionKind.mutate(&got)
			requireSame(t, sessionKind.want(tenantA, s1, 1), mustRead(t, s, sessionByID(s1)), "record returned by ConsoleSessionByID aliases the store")
		}},
		{"ConsoleSessions/IDUniqueAcrossTenants", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, sessionKind.create(tenantA, newSession(s1, 1)))
			require.ErrorIs(t, attempt(t, s, sessionKind.create(tenantB, newSession(s1, 3))), store.ErrAlreadyExists)
			sessionKind.requireMissing(t, s, tenantB, s1)
			require.Empty(t, sessionKind.all(t, s, tenantB))
			require.ErrorIs(t, attempt(t, s, sessionKind.update(tenantB, newSession(s1, 5))), store.ErrNotFound)
			requireSame(t, sessionKind.want(tenantA, s1, 1), mustRead(t, s, sessionByID(s1)))
		}},
		{"ConsoleSessions/EndedKeepsRecord", func(t *testing.T, b Backend) {
			s := open(t, b)
			active := newSession(s1, 2) // the even variant is active
			require.Equal(t, store.SessionActive, active.Status)
			update(t, s, sessionKind.create(tenantA, active))
			ended := active
			ended.Status = store.SessionEnded
			ended.EndedAt = at(2, 40)
			ended.EndReason = "signed_out"
			update(t, s, sessionKind.update(tenantA, ended))
			requireSame(t, sessionKind.withTenant(ended, tenantA), mustRead(t, s, sessionKind.get(tenantA, s1)))
			requireSame(t, sessionKind.withTenant(ended, tenantA), mustRead(t, s, sessionByID(s1)))
			require.ErrorIs(t, attempt(t, s, sessionKind.create(tenantA, newSession(s1, 4))), store.ErrAlreadyExists)
		}},
		{"ConsoleSessions/Prune", func(t *testing.T, b Backend) {
			s := open(t, b)
			var ids []string
			for i := 1; i <= 6; i++ {
				cs := newSession(fmt.Sprintf("%s-s%02d", tenantA, i), 2*i) // even: active
				cs.ExpiresAt = minute(i)
				ids = append(ids, cs.ID)
				update(t, s, sessionKind.create(tenantA, cs))
			}
			other := newSession(tenantB+"-s01", 1)
			other.ExpiresAt = minute(1)
			update(t, s, sessionKind.create(tenantB, other))

			require.Equal(t, 0, pruneSessions(t, s, tenantA, minute(1), 100), "nothing expires before the first")
			require.Equal(t, 1, pruneSessions(t, s, tenantA, minute(4), 1), "the limit")
			require.Equal(t, 2, pruneSessions(t, s, tenantA, minute(4), 100), "minutes 1..3; 4 is not before")
			require.Equal(t, ids[3:], sessionKind.ids(t, s, tenantA))
			for _, id := range ids[:3] {
				_, err := read(t, s, sessionByID(id))
				require.ErrorIs(t, err, store.ErrNotFound, "a pruned session is gone from the ID index")
			}
			requireSame(t, sessionKind.withTenant(other, tenantB), mustRead(t, s, sessionByID(other.ID)), "another tenant's session")
			// A pruned session's ID is free again, in any tenant.
			update(t, s, sessionKind.create(tenantB, newSession(ids[0], 3)))
			requireSame(t, sessionKind.want(tenantB, ids[0], 3), mustRead(t, s, sessionByID(ids[0])))
			require.Equal(t, 0, pruneSessions(t, s, tenantA, minute(4), 0), "a zero limit")
		}},
		{"ConsoleSessions/PruneTouchesNothingElse", func(t *testing.T, b Backend) {
			s := open(t, b)
			fa := newFixture(tenantA, 1)
			fb := newFixture(tenantB, 2)
			fa.write(t, s)
			fb.write(t, s)
			before := dumpTenant(t, s, fa)
			require.Equal(t, len(fa.Sessions), pruneSessions(t, s, tenantA, at(99, 0), 1000))
			after := dumpTenant(t, s, fa)
			before.Sessions = nil
			for id := range before.SessByID {
				before.SessByID[id] = store.ConsoleSession{}
			}
			requireSame(t, before, after, "Prune changed something other than expired sessions")
			requireSame(t, fb.expect(), dumpTenant(t, s, fb), "Prune in tenant A changed tenant B")
		}},
		{"ConsoleSessions/ByIDInvalid", func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, bad := range badIDs {
				_, err := read(t, s, sessionByID(bad.id))
				require.ErrorIs(t, err, store.ErrInvalid, bad.name)
			}
		}},
	}
}

func pruneSessions(t *testing.T, s store.Store, tid string, before time.Time, limit int) int {
	t.Helper()
	var n int
	update(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.Tenant(tid).ConsoleSessions().Prune(bg, before, limit)
		return err
	})
	return n
}
