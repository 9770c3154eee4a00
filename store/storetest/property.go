package storetest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/licensekit/licensekit/store"
)

// propModel is what three tenants hold, kept in plain maps.
type propModel struct {
	tenants   []string
	customers []map[string]store.Customer
	users     []map[string]store.User
	licenses  []map[string]store.License
	groups    []map[string]map[string]bool // group ID → member IDs
	events    []map[string]store.AuditEvent
}

// digestOwner returns the tenant index and license ID that hold d.
func (m *propModel) digestOwner(d []byte) (int, string, bool) {
	for ti, ls := range m.licenses {
		for id, l := range ls {
			if string(l.KeyDigest) == string(d) {
				return ti, id, true
			}
		}
	}
	return 0, "", false
}

func (m *propModel) emailOwner(ti int, email string) (string, bool) {
	for id, u := range m.users[ti] {
		if u.Email == email {
			return id, true
		}
	}
	return "", false
}

// expectErr checks err against the model's prediction: nil when want is
// empty, otherwise an error matching one of want.
func expectErr(t *rapid.T, err error, want ...error) {
	t.Helper()
	if len(want) == 0 {
		require.NoError(t, err)
		return
	}
	for _, w := range want {
		if errors.Is(err, w) {
			return
		}
	}
	t.Fatalf("got error %v, want one matching %v", err, want)
}

// runProperty runs random operations over three tenants and a small ID
// space against a model, checking every read. All runs share one store;
// each run uses new tenant IDs and its own key digests, so runs cannot
// see each other's records unless isolation is broken.
func runProperty(t *testing.T, b Backend) {
	s := open(t, b)
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		run++
		m := &propModel{}
		for _, name := range []string{"a", "b", "c"} {
			m.tenants = append(m.tenants, fmt.Sprintf("prop%d-%s", run, name))
			m.customers = append(m.customers, map[string]store.Customer{})
			m.users = append(m.users, map[string]store.User{})
			m.licenses = append(m.licenses, map[string]store.License{})
			m.groups = append(m.groups, map[string]map[string]bool{})
			m.events = append(m.events, map[string]store.AuditEvent{})
		}
		ids := []string{"x", "x/y", "y", "z"}
		emails := []string{"one@example.com", "two@example.com", "One@example.com"}
		var digests [][]byte
		for i := range 3 {
			digests = append(digests, digest("prop", run, i))
		}
		genTenant := rapid.IntRange(0, 2)
		genID := rapid.SampledFrom(ids)
		genV := rapid.IntRange(1, 4)
		// Members are drawn from IDs that are never users: whether deleting
		// a user removes its memberships is not part of the contract.
		genMember := rapid.SampledFrom([]string{"m", "m/x", "n"})
		genEmail := rapid.SampledFrom(emails)
		genDigest := rapid.SampledFrom(digests)
		upd := func(fn func(tx store.Tx) error) error { return s.Update(bg, fn) }
		rd := func(rt *rapid.T, fn func(tx store.Tx) error) {
			require.NoError(rt, s.View(bg, fn))
		}

		rt.Repeat(map[string]func(*rapid.T){
			"CustomerCreate": func(rt *rapid.T) {
				ti, id, v := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "id"), genV.Draw(rt, "v")
				rec := newCustomer(id, v)
				err := upd(customerKind.create(m.tenants[ti], rec))
				if _, ok := m.customers[ti][id]; ok {
					expectErr(rt, err, store.ErrAlreadyExists)
					return
				}
				expectErr(rt, err)
				rec.TenantID = m.tenants[ti]
				m.customers[ti][id] = rec
			},
			"CustomerUpdate": func(rt *rapid.T) {
				ti, id, v := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "id"), genV.Draw(rt, "v")
				rec := newCustomer(id, v)
				err := upd(customerKind.update(m.tenants[ti], rec))
				if _, ok := m.customers[ti][id]; !ok {
					expectErr(rt, err, store.ErrNotFound)
					return
				}
				expectErr(rt, err)
				rec.TenantID = m.tenants[ti]
				m.customers[ti][id] = rec
			},
			"CustomerDelete": func(rt *rapid.T) {
				ti, id := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "id")
				err := upd(func(tx store.Tx) error { return tx.Tenant(m.tenants[ti]).Customers().Delete(bg, id) })
				if _, ok := m.customers[ti][id]; !ok {
					expectErr(rt, err, store.ErrNotFound)
					return
				}
				expectErr(rt, err)
				delete(m.customers[ti], id)
			},
			"CustomerGet": func(rt *rapid.T) {
				ti, id := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "id")
				rd(rt, func(tx store.Tx) error {
					got, err := tx.Tenant(m.tenants[ti]).Customers().Get(bg, id)
					want, ok := m.customers[ti][id]
					if !ok {
						expectErr(rt, err, store.ErrNotFound)
						return nil
					}
					expectErr(rt, err)
					requireSame(rt, want, got)
					return nil
				})
			},
			"UserCreate": func(rt *rapid.T) {
				ti, id, v, email := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "id"), genV.Draw(rt, "v"), genEmail.Draw(rt, "email")
				rec := userWithEmail(id, email, v)
				err := upd(userKind.create(m.tenants[ti], rec))
				_, idTaken := m.users[ti][id]
				_, emailTaken := m.emailOwner(ti, email)
				if idTaken || emailTaken {
					expectErr(rt, err, store.ErrAlreadyExists)
					return
				}
				expectErr(rt, err)
				rec.TenantID = m.tenants[ti]
				m.users[ti][id] = rec
			},
			"UserUpdate": func(rt *rapid.T) {
				ti, id, v, email := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "id"), genV.Draw(rt, "v"), genEmail.Draw(rt, "email")
				rec := userWithEmail(id, email, v)
				err := upd(userKind.update(m.tenants[ti], rec))
				_, exists := m.users[ti][id]
				owner, emailTaken := m.emailOwner(ti, email)
				emailTaken = emailTaken && owner != id
				switch {
				case !exists && emailTaken:
					expectErr(rt, err, store.ErrNotFound, store.ErrAlreadyExists)
				case !exists:
					expectErr(rt, err, store.ErrNotFound)
				case emailTaken:
					expectErr(rt, err, store.ErrAlreadyExists)
				default:
					expectErr(rt, err)
					rec.TenantID = m.tenants[ti]
					m.users[ti][id] = rec
				}
			},
			"UserDelete": func(rt *rapid.T) {
				ti, id := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "id")
				err := upd(func(tx store.Tx) error { return tx.Tenant(m.tenants[ti]).Users().Delete(bg, id) })
				if _, ok := m.users[ti][id]; !ok {
					expectErr(rt, err, store.ErrNotFound)
					return
				}
				expectErr(rt, err)
				delete(m.users[ti], id)
			},
			"UserGetByEmail": func(rt *rapid.T) {
				ti, email := genTenant.Draw(rt, "tenant"), genEmail.Draw(rt, "email")
				rd(rt, func(tx store.Tx) error {
					got, err := tx.Tenant(m.tenants[ti]).Users().GetByEmail(bg, email)
					id, ok := m.emailOwner(ti, email)
					if !ok {
						expectErr(rt, err, store.ErrNotFound)
						return nil
					}
					expectErr(rt, err)
					requireSame(rt, m.users[ti][id], got)
					return nil
				})
			},
			"LicenseCreate": func(rt *rapid.T) {
				ti, id, v, d := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "id"), genV.Draw(rt, "v"), genDigest.Draw(rt, "digest")
				rec := licenseWithDigest(id, d, v)
				err := upd(licenseKind.create(m.tenants[ti], rec))
				_, idTaken := m.licenses[ti][id]
				_, _, digestTaken := m.digestOwner(d)
				if idTaken || digestTaken {
					expectErr(rt, err, store.ErrAlreadyExists)
					return
				}
				expectErr(rt, err)
				rec.TenantID = m.tenants[ti]
				m.licenses[ti][id] = rec
			},
			"LicenseUpdate": func(rt *rapid.T) {
				ti, id, v, d := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "id"), genV.Draw(rt, "v"), genDigest.Draw(rt, "digest")
				rec := licenseWithDigest(id, d, v)
				err := upd(licenseKind.update(m.tenants[ti], rec))
				_, exists := m.licenses[ti][id]
				oti, oid, digestTaken := m.digestOwner(d)
				digestTaken = digestTaken && (oti != ti || oid != id)
				switch {
				case !exists && digestTaken:
					expectErr(rt, err, store.ErrNotFound, store.ErrAlreadyExists)
				case !exists:
					expectErr(rt, err, store.ErrNotFound)
				case digestTaken:
					expectErr(rt, err, store.ErrAlreadyExists)
				default:
					expectErr(rt, err)
					rec.TenantID = m.tenants[ti]
					m.licenses[ti][id] = rec
				}
			},
			"LicenseDelete": func(rt *rapid.T) {
				ti, id := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "id")
				err := upd(func(tx store.Tx) error { return tx.Tenant(m.tenants[ti]).Licenses().Delete(bg, id) })
				if _, ok := m.licenses[ti][id]; !ok {
					expectErr(rt, err, store.ErrNotFound)
					return
				}
				expectErr(rt, err)
				delete(m.licenses[ti], id)
			},
			"LicenseByKeyDigest": func(rt *rapid.T) {
				d := genDigest.Draw(rt, "digest")
				rd(rt, func(tx store.Tx) error {
					got, err := tx.LicenseByKeyDigest(bg, d)
					ti, id, ok := m.digestOwner(d)
					if !ok {
						expectErr(rt, err, store.ErrNotFound)
						return nil
					}
					expectErr(rt, err)
					requireSame(rt, m.licenses[ti][id], got)
					return nil
				})
			},
			"GroupCreate": func(rt *rapid.T) {
				ti, id, v := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "id"), genV.Draw(rt, "v")
				err := upd(groupKind.create(m.tenants[ti], newGroup(id, v)))
				if _, ok := m.groups[ti][id]; ok {
					expectErr(rt, err, store.ErrAlreadyExists)
					return
				}
				expectErr(rt, err)
				m.groups[ti][id] = map[string]bool{}
			},
			"GroupDelete": func(rt *rapid.T) {
				ti, id := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "id")
				err := upd(func(tx store.Tx) error { return tx.Tenant(m.tenants[ti]).Groups().Delete(bg, id) })
				if _, ok := m.groups[ti][id]; !ok {
					expectErr(rt, err, store.ErrNotFound)
					return
				}
				expectErr(rt, err)
				delete(m.groups[ti], id)
			},
			"GroupAddMember": func(rt *rapid.T) {
				ti, gid, uid := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "group"), genMember.Draw(rt, "member")
				err := upd(addMember(m.tenants[ti], gid, uid))
				if _, ok := m.groups[ti][gid]; !ok {
					expectErr(rt, err, store.ErrNotFound)
					return
				}
				expectErr(rt, err)
				m.groups[ti][gid][uid] = true
			},
			"GroupRemoveMember": func(rt *rapid.T) {
				ti, gid, uid := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "group"), genMember.Draw(rt, "member")
				err := upd(removeMember(m.tenants[ti], gid, uid))
				if !m.groups[ti][gid][uid] {
					expectErr(rt, err, store.ErrNotFound)
					return
				}
				expectErr(rt, err)
				delete(m.groups[ti][gid], uid)
			},
			"GroupsOf": func(rt *rapid.T) {
				ti, uid := genTenant.Draw(rt, "tenant"), genMember.Draw(rt, "member")
				var want []string
				for gid, ms := range m.groups[ti] {
					if ms[uid] {
						want = append(want, gid)
					}
				}
				slices.Sort(want)
				got := mustRead(rt, s, func(tx store.Tx) ([]string, error) {
					return tx.Tenant(m.tenants[ti]).Groups().GroupsOf(bg, uid)
				})
				requireSame(rt, want, got)
			},
			"AuditAppend": func(rt *rapid.T) {
				ti, id, v := genTenant.Draw(rt, "tenant"), genID.Draw(rt, "id"), genV.Draw(rt, "v")
				ev := newEvent(id, v)
				err := upd(appendEvent(m.tenants[ti], ev))
				if _, ok := m.events[ti][id]; ok {
					expectErr(rt, err, store.ErrAlreadyExists)
					return
				}
				expectErr(rt, err)
				ev.TenantID = m.tenants[ti]
				m.events[ti][id] = ev
			},
			"AuditPrune": func(rt *rapid.T) {
				ti, v := genTenant.Draw(rt, "tenant"), genV.Draw(rt, "v")
				before := at(v, 0)
				var old []string
				for id, ev := range m.events[ti] {
					if ev.Time.Before(before) {
						old = append(old, id)
					}
				}
				var n int
				require.NoError(rt, upd(func(tx store.Tx) error {
					var err error
					n, err = tx.Tenant(m.tenants[ti]).Audit().Prune(bg, before, 1000)
					return err
				}))
				require.Equal(rt, len(old), n)
				for _, id := range old {
					delete(m.events[ti], id)
				}
			},
			"": func(rt *rapid.T) {
				limit := 2
				for ti, tid := range m.tenants {
					cs, _ := listAll(rt, s, limit, customerKind.lister(tid))
					requireSame(rt, sortedValues(m.customers[ti]), cs, "customers of %s", tid)
					us, _ := listAll(rt, s, limit, userKind.lister(tid))
					requireSame(rt, sortedValues(m.users[ti]), us, "users of %s", tid)
					ls, _ := listAll(rt, s, limit, licenseKind.lister(tid))
					requireSame(rt, sortedValues(m.licenses[ti]), ls, "licenses of %s", tid)
					gs, _ := listAll(rt, s, limit, groupKind.lister(tid))
					require.Equal(rt, len(m.groups[ti]), len(gs), "groups of %s", tid)
					for _, g := range gs {
						require.Equal(rt, tid, g.TenantID)
						ms, ok := m.groups[ti][g.ID]
						require.True(rt, ok, "group %q of %s", g.ID, tid)
						got, _ := listAll(rt, s, limit, membersLister(tid, g.ID))
						requireSame(rt, slices.Sorted(maps.Keys(ms)), got, "members of %s/%s", tid, g.ID)
					}
					evs, _ := listAll(rt, s, limit, auditLister(tid, store.AuditQuery{}))
					requireSame(rt, sortedValues(m.events[ti]), evs, "audit of %s", tid)
				}
				for _, d := range digests {
					got, err := read(rt, s, byDigest(d))
					ti, id, ok := m.digestOwner(d)
					if !ok {
						require.ErrorIs(rt, err, store.ErrNotFound, "digest %s", hex.EncodeToString(d))
						continue
					}
					require.NoError(rt, err)
					requireSame(rt, m.licenses[ti][id], got)
				}
			},
		})
	})
}

// sortedValues returns m's values in key order.
func sortedValues[V any](m map[string]V) []V {
	var out []V
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}
