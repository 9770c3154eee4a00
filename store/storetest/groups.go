package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
)

func addMember(tid, gid, uid string) func(tx store.Tx) error {
	return func(tx store.Tx) error { return tx.Tenant(tid).Groups().AddMember(bg, gid, uid) }
}

func removeMember(tid, gid, uid string) func(tx store.Tx) error {
	return func(tx store.Tx) error { return tx.Tenant(tid).Groups().RemoveMember(bg, gid, uid) }
}

func membersLister(tid, gid string) lister[string] {
	return func(tx store.Tx, p store.Page) ([]string, string, error) {
		return tx.Tenant(tid).Groups().Members(bg, gid, p)
	}
}

func members(t tb, s store.Store, tid, gid string) []string {
	t.Helper()
	all, _ := listAll(t, s, 0, membersLister(tid, gid))
	return all
}

func groupsOf(t tb, s store.Store, tid, uid string) []string {
	t.Helper()
	return mustRead(t, s, func(tx store.Tx) ([]string, error) { return tx.Tenant(tid).Groups().GroupsOf(bg, uid) })
}

func groupCases() []Case {
	return []Case{
		{"Groups/Members", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, groupKind.create(tenantA, newGroup("g1", 1)))
			update(t, s, groupKind.create(tenantA, newGroup("g2", 1)))
			require.Empty(t, members(t, s, tenantA, "g1"))
			for _, uid := range []string{"u3", "u1", "U2", "u10"} {
				update(t, s, addMember(tenantA, "g1", uid))
			}
			update(t, s, addMember(tenantA, "g2", "u1"))
			require.Equal(t, []string{"U2", "u1", "u10", "u3"}, members(t, s, tenantA, "g1"), "Members in ID byte order")
			require.Equal(t, []string{"u1"}, members(t, s, tenantA, "g2"))
			require.Equal(t, []string{"g1", "g2"}, groupsOf(t, s, tenantA, "u1"))
			require.Equal(t, []string{"g1"}, groupsOf(t, s, tenantA, "u3"))
			require.Empty(t, groupsOf(t, s, tenantA, "u4"), "GroupsOf of a user in no group")
			require.Empty(t, groupsOf(t, s, tenantA, "u"), "GroupsOf of a prefix of a member's ID")
		}},
		{"Groups/GroupsOfOrder", func(t *testing.T, b Backend) {
			s := open(t, b)
			gids := []string{"g3", "g1", "G2", "g10", "é"}
			for _, gid := range gids {
				update(t, s, groupKind.create(tenantA, newGroup(gid, 1)))
				update(t, s, addMember(tenantA, gid, "u1"))
			}
			update(t, s, addMember(tenantA, "g3", "u2"))
			require.Equal(t, []string{"G2", "g1", "g10", "g3", "é"}, groupsOf(t, s, tenantA, "u1"))
			require.Equal(t, []string{"g3"}, groupsOf(t, s, tenantA, "u2"))
		}},
		{"Groups/AddMemberIdempotent", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, groupKind.create(tenantA, newGroup("g1", 1)))
			update(t, s, addMember(tenantA, "g1", "u1"))
			update(t, s, addMember(tenantA, "g1", "u1"))
			update(t, s, func(tx store.Tx) error {
				if err := addMember(tenantA, "g1", "u1")(tx); err != nil {
					return err
				}
				return addMember(tenantA, "g1", "u1")(tx)
			})
			require.Equal(t, []string{"u1"}, members(t, s, tenantA, "g1"))
			require.Equal(t, []string{"g1"}, groupsOf(t, s, tenantA, "u1"))
			// One RemoveMember undoes any number of AddMember.
			update(t, s, removeMember(tenantA, "g1", "u1"))
			require.Empty(t, members(t, s, tenantA, "g1"))
			require.Empty(t, groupsOf(t, s, tenantA, "u1"))
			require.ErrorIs(t, s.Update(bg, removeMember(tenantA, "g1", "u1")), store.ErrNotFound)
		}},
		{"Groups/AddMemberMissingGroup", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, groupKind.create(tenantA, newGroup("g1", 1)))
			require.ErrorIs(t, attempt(t, s, addMember(tenantA, "g2", "u1")), store.ErrNotFound)
			require.Empty(t, groupsOf(t, s, tenantA, "u1"), "AddMember to a missing group wrote a membership")
			groupKind.requireMissing(t, s, tenantA, "g2")
			// A group deleted in the same transaction is missing too.
			err := attempt(t, s, func(tx store.Tx) error {
				require.NoError(t, tx.Tenant(tenantA).Groups().Delete(bg, "g1"))
				return addMember(tenantA, "g1", "u1")(tx)
			})
			require.ErrorIs(t, err, store.ErrNotFound)
			require.Empty(t, groupsOf(t, s, tenantA, "u1"))
		}},
		{"Groups/RemoveMemberNotMember", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, groupKind.create(tenantA, newGroup("g1", 1)))
			update(t, s, groupKind.create(tenantA, newGroup("g2", 1)))
			update(t, s, addMember(tenantA, "g1", "u1"))
			require.ErrorIs(t, attempt(t, s, removeMember(tenantA, "g1", "u2")), store.ErrNotFound, "user never added")
			require.ErrorIs(t, attempt(t, s, removeMember(tenantA, "g2", "u1")), store.ErrNotFound, "member of another group")
			require.ErrorIs(t, attempt(t, s, removeMember(tenantA, "g3", "u1")), store.ErrNotFound, "missing group")
			require.Equal(t, []string{"u1"}, members(t, s, tenantA, "g1"))
			require.Equal(t, []string{"g1"}, groupsOf(t, s, tenantA, "u1"))
		}},
		{"Groups/DeleteRemovesMemberships", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, groupKind.create(tenantA, newGroup("g1", 1)))
			update(t, s, groupKind.create(tenantA, newGroup("g2", 1)))
			update(t, s, addMember(tenantA, "g1", "u1"))
			update(t, s, addMember(tenantA, "g1", "u2"))
			update(t, s, addMember(tenantA, "g2", "u1"))
			update(t, s, func(tx store.Tx) error {
				require.NoError(t, tx.Tenant(tenantA).Groups().Delete(bg, "g1"))
				got, err := tx.Tenant(tenantA).Groups().GroupsOf(bg, "u2")
				require.NoError(t, err)
				require.Empty(t, got, "GroupsOf inside the deleting transaction")
				return nil
			})
			require.Equal(t, []string{"g2"}, groupsOf(t, s, tenantA, "u1"))
			require.Empty(t, groupsOf(t, s, tenantA, "u2"))
			require.Equal(t, []string{"u1"}, members(t, s, tenantA, "g2"))
			// A new group with the old ID starts empty.
			update(t, s, groupKind.create(tenantA, newGroup("g1", 3)))
			require.Empty(t, members(t, s, tenantA, "g1"))
			require.Equal(t, []string{"g2"}, groupsOf(t, s, tenantA, "u1"))
		}},
		{"Groups/UpdateKeepsMembers", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, groupKind.create(tenantA, newGroup("g1", 1)))
			update(t, s, addMember(tenantA, "g1", "u1"))
			update(t, s, groupKind.update(tenantA, newGroup("g1", 2)))
			require.Equal(t, []string{"u1"}, members(t, s, tenantA, "g1"), "memberships are not part of the group record")
			require.Equal(t, []string{"g1"}, groupsOf(t, s, tenantA, "u1"))
		}},
		{"Groups/MemberIDsAreChecked", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, groupKind.create(tenantA, newGroup("g1", 1)))
			update(t, s, addMember(tenantA, "g1", "u1"))
			for _, bad := range badIDs {
				t.Run(bad.name, func(t *testing.T) {
					require.ErrorIs(t, attempt(t, s, addMember(tenantA, bad.id, "u1")), store.ErrInvalid, "AddMember group")
					require.ErrorIs(t, attempt(t, s, addMember(tenantA, "g1", bad.id)), store.ErrInvalid, "AddMember user")
					require.ErrorIs(t, attempt(t, s, removeMember(tenantA, bad.id, "u1")), store.ErrInvalid, "RemoveMember group")
					require.ErrorIs(t, attempt(t, s, removeMember(tenantA, "g1", bad.id)), store.ErrInvalid, "RemoveMember user")
					_, err := read(t, s, func(tx store.Tx) ([]string, error) {
						ids, _, err := tx.Tenant(tenantA).Groups().Members(bg, bad.id, store.Page{})
						return ids, err
					})
					require.ErrorIs(t, err, store.ErrInvalid, "Members")
					_, err = read(t, s, func(tx store.Tx) ([]string, error) { return tx.Tenant(tenantA).Groups().GroupsOf(bg, bad.id) })
					require.ErrorIs(t, err, store.ErrInvalid, "GroupsOf")
				})
			}
			require.Equal(t, []string{"u1"}, members(t, s, tenantA, "g1"))
		}},
		{"Groups/UnusualMemberIDs", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, groupKind.create(tenantA, newGroup("g", 1)))
			update(t, s, groupKind.create(tenantA, newGroup("g/u", 1)))
			update(t, s, groupKind.create(tenantA, newGroup("g:u", 1)))
			for _, uid := range goodIDs {
				update(t, s, addMember(tenantA, "g", uid))
			}
			update(t, s, addMember(tenantA, "g/u", "x"))
			update(t, s, addMember(tenantA, "g:u", "x"))
			update(t, s, addMember(tenantA, "g", "u/x"))
			got := members(t, s, tenantA, "g")
			require.Len(t, got, len(goodIDs)+1)
			require.Contains(t, got, "u/x")
			require.NotContains(t, got, "x")
			require.Equal(t, []string{"x"}, members(t, s, tenantA, "g/u"))
			require.Equal(t, []string{"x"}, members(t, s, tenantA, "g:u"))
			require.Equal(t, []string{"g/u", "g:u"}, groupsOf(t, s, tenantA, "x"))
			require.Equal(t, []string{"g"}, groupsOf(t, s, tenantA, "u/x"))
			for _, uid := range goodIDs {
				require.Equal(t, []string{"g"}, groupsOf(t, s, tenantA, uid), "GroupsOf(%q)", uid)
			}
		}},
	}
}
