package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
)

// kind describes one collection of a tenant so that the cases every
// collection shares are written once.
type kind[T any] struct {
	name string
	coll func(store.TenantTx) store.Collection[T]
	// del is nil for the kinds that have no Delete.
	del func(store.TenantTx) store.Deleter
	// make builds a record (see the record builders).
	make       func(id string, v int) T
	id         func(T) string
	tenantID   func(T) string
	withTenant func(T, string) T
	// mutate changes, in place, the contents of every map and slice the
	// record holds; nil for kinds without any.
	mutate func(*T)
}

// want is the record as the store returns it from tenant tid.
func (k kind[T]) want(tid, id string, v int) T {
	return k.withTenant(k.make(id, v), tid)
}

func (k kind[T]) create(tid string, rec T) func(tx store.Tx) error {
	return func(tx store.Tx) error { return k.coll(tx.Tenant(tid)).Create(bg, rec) }
}

func (k kind[T]) update(tid string, rec T) func(tx store.Tx) error {
	return func(tx store.Tx) error { return k.coll(tx.Tenant(tid)).Update(bg, rec) }
}

func (k kind[T]) get(tid, id string) func(tx store.Tx) (T, error) {
	return func(tx store.Tx) (T, error) { return k.coll(tx.Tenant(tid)).Get(bg, id) }
}

func (k kind[T]) lister(tid string) lister[T] {
	return func(tx store.Tx, p store.Page) ([]T, string, error) { return k.coll(tx.Tenant(tid)).List(bg, p) }
}

// all lists every record of tenant tid.
func (k kind[T]) all(t tb, s store.Store, tid string) []T {
	t.Helper()
	all, _ := listAll(t, s, 0, k.lister(tid))
	return all
}

// ids lists the IDs of every record of tenant tid.
func (k kind[T]) ids(t tb, s store.Store, tid string) []string {
	t.Helper()
	var ids []string
	for _, r := range k.all(t, s, tid) {
		ids = append(ids, k.id(r))
	}
	return ids
}

func (k kind[T]) requireMissing(t tb, s store.Store, tid, id string) {
	t.Helper()
	_, err := read(t, s, k.get(tid, id))
	require.ErrorIs(t, err, store.ErrNotFound, "%s %q in %q", k.name, id, tid)
}

var userKind = kind[store.User]{
	name:       "Users",
	coll:       func(tt store.TenantTx) store.Collection[store.User] { return tt.Users() },
	del:        func(tt store.TenantTx) store.Deleter { return tt.Users() },
	make:       newUser,
	id:         func(r store.User) string { return r.ID },
	tenantID:   func(r store.User) string { return r.TenantID },
	withTenant: func(r store.User, tid string) store.User { r.TenantID = tid; return r },
}

var groupKind = kind[store.Group]{
	name:       "Groups",
	coll:       func(tt store.TenantTx) store.Collection[store.Group] { return tt.Groups() },
	del:        func(tt store.TenantTx) store.Deleter { return tt.Groups() },
	make:       newGroup,
	id:         func(r store.Group) string { return r.ID },
	tenantID:   func(r store.Group) string { return r.TenantID },
	withTenant: func(r store.Group, tid string) store.Group { r.TenantID = tid; return r },
}

var productKind = kind[store.Product]{
	name:       "Products",
	coll:       func(tt store.TenantTx) store.Collection[store.Product] { return tt.Products() },
	del:        func(tt store.TenantTx) store.Deleter { return tt.Products() },
	make:       newProduct,
	id:         func(r store.Product) string { return r.ID },
	tenantID:   func(r store.Product) string { return r.TenantID },
	withTenant: func(r store.Product, tid string) store.Product { r.TenantID = tid; return r },
}

var planKind = kind[store.Plan]{
	name:       "Plans",
	coll:       func(tt store.TenantTx) store.Collection[store.Plan] { return tt.Plans() },
	del:        func(tt store.TenantTx) store.Deleter { return tt.Plans() },
	make:       newPlan,
	id:         func(r store.Plan) string { return r.ID },
	tenantID:   func(r store.Plan) string { return r.TenantID },
	withTenant: func(r store.Plan, tid string) store.Plan { r.TenantID = tid; return r },
	mutate: func(r *store.Plan) {
		for k := range r.Entitlements {
			r.Entitlements[k] = "mutated"
		}
		r.Entitlements["added"] = "mutated"
	},
}

var customerKind = kind[store.Customer]{
	name:       "Customers",
	coll:       func(tt store.TenantTx) store.Collection[store.Customer] { return tt.Customers() },
	del:        func(tt store.TenantTx) store.Deleter { return tt.Customers() },
	make:       newCustomer,
	id:         func(r store.Customer) string { return r.ID },
	tenantID:   func(r store.Customer) string { return r.TenantID },
	withTenant: func(r store.Customer, tid string) store.Customer { r.TenantID = tid; return r },
}

var licenseKind = kind[store.License]{
	name:       "Licenses",
	coll:       func(tt store.TenantTx) store.Collection[store.License] { return tt.Licenses() },
	del:        func(tt store.TenantTx) store.Deleter { return tt.Licenses() },
	make:       newLicense,
	id:         func(r store.License) string { return r.ID },
	tenantID:   func(r store.License) string { return r.TenantID },
	withTenant: func(r store.License, tid string) store.License { r.TenantID = tid; return r },
	mutate: func(r *store.License) {
		for i := range r.KeyDigest {
			r.KeyDigest[i] ^= 0xff
		}
		for k := range r.Attributes {
			r.Attributes[k] = "mutated"
		}
		r.Attributes["added"] = "mutated"
	},
}

var tokenKind = kind[store.UserToken]{
	name:       "UserTokens",
	coll:       func(tt store.TenantTx) store.Collection[store.UserToken] { return tt.UserTokens() },
	make:       newToken,
	id:         func(r store.UserToken) string { return r.ID },
	tenantID:   func(r store.UserToken) string { return r.TenantID },
	withTenant: func(r store.UserToken, tid string) store.UserToken { r.TenantID = tid; return r },
	mutate: func(r *store.UserToken) {
		for i := range r.SecretDigest {
			r.SecretDigest[i] ^= 0xff
		}
		for i := range r.AllowedCIDRs {
			r.AllowedCIDRs[i] = "0.0.0.0/0"
		}
	},
}

var familyKind = kind[store.RefreshFamily]{
	name:       "RefreshFamilies",
	coll:       func(tt store.TenantTx) store.Collection[store.RefreshFamily] { return tt.RefreshFamilies() },
	make:       newFamily,
	id:         func(r store.RefreshFamily) string { return r.ID },
	tenantID:   func(r store.RefreshFamily) string { return r.TenantID },
	withTenant: func(r store.RefreshFamily, tid string) store.RefreshFamily { r.TenantID = tid; return r },
	mutate: func(r *store.RefreshFamily) {
		for i := range r.SecretDigest {
			r.SecretDigest[i] ^= 0xff
		}
	},
}

var sessionKind = kind[store.ConsoleSession]{
	name:       "ConsoleSessions",
	coll:       func(tt store.TenantTx) store.Collection[store.ConsoleSession] { return tt.ConsoleSessions() },
	make:       newSession,
	id:         func(r store.ConsoleSession) string { return r.ID },
	tenantID:   func(r store.ConsoleSession) string { return r.TenantID },
	withTenant: func(r store.ConsoleSession, tid string) store.ConsoleSession { r.TenantID = tid; return r },
	mutate: func(r *store.ConsoleSession) {
		for i := range r.SecretDigest {
			r.SecretDigest[i] ^= 0xff
		}
		for i := range r.UserStamp {
			r.UserStamp[i] ^= 0xff
		}
	},
}

// badIDs are IDs that store.CheckID rejects.
var badIDs = []struct{ name, id string }{
	{"empty", ""},
	{"NUL", "a\x00b"},
	{"newline", "a\nb"},
	{"tab", "\tab"},
	{"DEL", "ab\x7f"},
	{"invalidUTF8", "a\xffb"},
	{"tooLong", strings.Repeat("x", store.MaxIDLength+1)},
}

// goodIDs are unusual IDs that store.CheckID accepts: the longest, non
// ASCII, and characters a key layout may use as separators.
var goodIDs = []string{
	strings.Repeat("x", store.MaxIDLength),
	strings.Repeat("é", store.MaxIDLength/2),
	"日本語",
	"a/b",
	"a:b",
	"a|b",
	"a b",
	" leading",
	"%2F",
	"\u00a0",
	"~",
	"0",
}

// kindCases are the cases every collection shares.
func kindCases[T any](k kind[T]) []Case {
	name := func(s string) string { return k.name + "/" + s }
	cs := []Case{
		{name("CreateGet"), func(t *testing.T, b Backend) {
			s := open(t, b)
			// Empty TenantID is filled in; the tenant's own ID is accepted.
			update(t, s, k.create(tenantA, k.make("r1", 1)))
			update(t, s, k.create(tenantA, k.want(tenantA, "r2", 3)))
			got := mustRead(t, s, k.get(tenantA, "r1"))
			requireSame(t, k.want(tenantA, "r1", 1), got)
			require.Equal(t, tenantA, k.tenantID(got), "TenantID filled in")
			requireSame(t, k.want(tenantA, "r2", 3), mustRead(t, s, k.get(tenantA, "r2")))
			// Sparse records (optional fields zero) round-trip too.
			update(t, s, k.create(tenantA, k.make("r3", 2)))
			requireSame(t, k.want(tenantA, "r3", 2), mustRead(t, s, k.get(tenantA, "r3")))
		}},
		{name("GetMissing"), func(t *testing.T, b Backend) {
			s := open(t, b)
			k.requireMissing(t, s, tenantA, "nope")
			update(t, s, k.create(tenantA, k.make("r1", 1)))
			k.requireMissing(t, s, tenantA, "r0")
			k.requireMissing(t, s, tenantA, "r1x")
			k.requireMissing(t, s, tenantA, "r")
		}},
		{name("CreateDuplicate"), func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, k.create(tenantA, k.make("r1", 1)))
			err := attempt(t, s, k.create(tenantA, k.make("r1", 3)))
			require.ErrorIs(t, err, store.ErrAlreadyExists)
			requireSame(t, k.want(tenantA, "r1", 1), mustRead(t, s, k.get(tenantA, "r1")),
				"a failed Create must not change the existing record")
			// And with the failed Create's transaction rolled back.
			err = s.Update(bg, k.create(tenantA, k.make("r1", 5)))
			require.ErrorIs(t, err, store.ErrAlreadyExists)
			require.Equal(t, []string{"r1"}, k.ids(t, s, tenantA))
		}},
		{name("UpdateReplaces"), func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, k.create(tenantA, k.make("r1", 1)))
			update(t, s, k.create(tenantA, k.make("r2", 1)))
			// To the sparse variant: every optional field is cleared, not merged.
			update(t, s, k.update(tenantA, k.make("r1", 2)))
			requireSame(t, k.want(tenantA, "r1", 2), mustRead(t, s, k.get(tenantA, "r1")))
			// And back to a full variant, with every field different again.
			update(t, s, k.update(tenantA, k.want(tenantA, "r1", 3)))
			requireSame(t, k.want(tenantA, "r1", 3), mustRead(t, s, k.get(tenantA, "r1")))
			requireSame(t, []T{k.want(tenantA, "r1", 3), k.want(tenantA, "r2", 1)}, k.all(t, s, tenantA))
		}},
		{name("UpdateMissing"), func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, k.create(tenantA, k.make("r1", 1)))
			err := attempt(t, s, k.update(tenantA, k.make("r2", 1)))
			require.ErrorIs(t, err, store.ErrNotFound)
			k.requireMissing(t, s, tenantA, "r2")
			require.Equal(t, []string{"r1"}, k.ids(t, s, tenantA), "Update of a missing record must not create it")
		}},
		{name("List"), func(t *testing.T, b Backend) {
			s := open(t, b)
			require.Empty(t, k.all(t, s, tenantA))
			ids := []string{"r3", "r1", "R2", "r10", "r2", "é", "a"}
			for i, id := range ids {
				update(t, s, k.create(tenantA, k.make(id, 2*i+1)))
			}
			var want []T
			sorted := slices.Clone(ids)
			slices.Sort(sorted)
			for _, id := range sorted {
				want = append(want, k.want(tenantA, id, 2*slices.Index(ids, id)+1))
			}
			requireSame(t, want, k.all(t, s, tenantA), "List returns full records in ID byte order")
		}},
		{name("InvalidIDs"), func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, k.create(tenantA, k.make("r1", 1)))
			for _, bad := range badIDs {
				t.Run(bad.name, func(t *testing.T) {
					require.ErrorIs(t, attempt(t, s, k.create(tenantA, k.make(bad.id, 1))), store.ErrInvalid, "Create")
					require.ErrorIs(t, attempt(t, s, k.update(tenantA, k.make(bad.id, 1))), store.ErrInvalid, "Update")
					_, err := read(t, s, k.get(tenantA, bad.id))
					require.ErrorIs(t, err, store.ErrInvalid, "Get")
					if k.del != nil {
						err := attempt(t, s, func(tx store.Tx) error { return k.del(tx.Tenant(tenantA)).Delete(bg, bad.id) })
						require.ErrorIs(t, err, store.ErrInvalid, "Delete")
					}
				})
			}
			require.Equal(t, []string{"r1"}, k.ids(t, s, tenantA), "nothing written")
		}},
		{name("UnusualIDs"), func(t *testing.T, b Backend) {
			s := open(t, b)
			for i, id := range goodIDs {
				update(t, s, k.create(tenantA, k.make(id, 2*i+1)))
			}
			for i, id := range goodIDs {
				requireSame(t, k.want(tenantA, id, 2*i+1), mustRead(t, s, k.get(tenantA, id)), "ID %q", id)
			}
			want := slices.Clone(goodIDs)
			slices.Sort(want)
			require.Equal(t, want, k.ids(t, s, tenantA))
		}},
		{name("InvalidTenantID"), func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, bad := range badIDs {
				t.Run(bad.name, func(t *testing.T) {
					rec := k.make("r1", 1)
					require.ErrorIs(t, attempt(t, s, k.create(bad.id, rec)), store.ErrInvalid, "Create")
					require.ErrorIs(t, attempt(t, s, k.update(bad.id, rec)), store.ErrInvalid, "Update")
					_, err := read(t, s, k.get(bad.id, "r1"))
					require.ErrorIs(t, err, store.ErrInvalid, "Get")
					_, err = read(t, s, func(tx store.Tx) ([]T, error) {
						items, _, err := k.coll(tx.Tenant(bad.id)).List(bg, store.Page{})
						return items, err
					})
					require.ErrorIs(t, err, store.ErrInvalid, "List")
				})
			}
		}},
		{name("ForeignTenantID"), func(t *testing.T, b Backend) {
			s := open(t, b)
			err := attempt(t, s, k.create(tenantA, k.want(tenantB, "r1", 1)))
			require.ErrorIs(t, err, store.ErrInvalid, "Create in A of a record of B")
			k.requireMissing(t, s, tenantA, "r1")
			k.requireMissing(t, s, tenantB, "r1")

			update(t, s, k.create(tenantA, k.make("r1", 1)))
			err = attempt(t, s, k.update(tenantA, k.want(tenantB, "r1", 3)))
			require.ErrorIs(t, err, store.ErrInvalid, "Update in A of a record of B")
			requireSame(t, k.want(tenantA, "r1", 1), mustRead(t, s, k.get(tenantA, "r1")))
			k.requireMissing(t, s, tenantB, "r1")
			require.Empty(t, k.all(t, s, tenantB))
		}},
	}
	if k.del != nil {
		cs = append(cs, Case{name("Delete"), func(t *testing.T, b Backend) {
			s := open(t, b)
			del := func(id string) func(tx store.Tx) error {
				return func(tx store.Tx) error { return k.del(tx.Tenant(tenantA)).Delete(bg, id) }
			}
			update(t, s, k.create(tenantA, k.make("r1", 1)))
			update(t, s, k.create(tenantA, k.make("r2", 1)))
			update(t, s, del("r1"))
			k.requireMissing(t, s, tenantA, "r1")
			require.Equal(t, []string{"r2"}, k.ids(t, s, tenantA))
			require.ErrorIs(t, s.Update(bg, del("r1")), store.ErrNotFound, "Delete twice")
			require.ErrorIs(t, s.Update(bg, del("never")), store.ErrNotFound, "Delete of a missing record")
			// The ID can be used again, for a record with other contents.
			update(t, s, k.create(tenantA, k.make("r1", 3)))
			requireSame(t, k.want(tenantA, "r1", 3), mustRead(t, s, k.get(tenantA, "r1")))
			// Delete and re-create in one transaction.
			update(t, s, func(tx store.Tx) error {
				if err := del("r2")(tx); err != nil {
					return err
				}
				return k.create(tenantA, k.make("r2", 5))(tx)
			})
			requireSame(t, k.want(tenantA, "r2", 5), mustRead(t, s, k.get(tenantA, "r2")))
		}})
	} else {
		cs = append(cs, Case{name("NoDelete"), func(t *testing.T, b Backend) {
			s := open(t, b)
			view(t, s, func(tx store.Tx) error {
				_, ok := any(k.coll(tx.Tenant(tenantA))).(store.Deleter)
				require.False(t, ok, "%s must not offer Delete: credentials are revoked by a status change", k.name)
				return nil
			})
		}})
	}
	if k.mutate != nil {
		cs = append(cs, Case{name("RecordsAreValues"), func(t *testing.T, b Backend) {
			s := open(t, b)
			want := k.want(tenantA, "r1", 1)
			// Changing the record after Create, inside and after the transaction.
			rec := k.make("r1", 1)
			update(t, s, func(tx store.Tx) error {
				if err := k.create(tenantA, rec)(tx); err != nil {
					return err
				}
				k.mutate(&rec)
				got, err := k.get(tenantA, "r1")(tx)
				require.NoError(t, err)
				requireSame(t, want, got, "mutating the record passed to Create changed the transaction's data")
				k.mutate(&got)
				again, err := k.get(tenantA, "r1")(tx)
				require.NoError(t, err)
				requireSame(t, want, again, "mutating a record returned by Get changed the transaction's data")
				return nil
			})
			k.mutate(&rec)
			requireSame(t, want, mustRead(t, s, k.get(tenantA, "r1")), "record passed to Create aliases the store")
			// Changing what Get and List return.
			got := mustRead(t, s, k.get(tenantA, "r1"))
			k.mutate(&got)
			requireSame(t, want, mustRead(t, s, k.get(tenantA, "r1")), "record returned by Get aliases the store")
			items := k.all(t, s, tenantA)
			require.Len(t, items, 1)
			k.mutate(&items[0])
			requireSame(t, want, mustRead(t, s, k.get(tenantA, "r1")), "record returned by List aliases the store")
			// Changing the record after Update.
			upd := k.make("r1", 3)
			update(t, s, k.update(tenantA, upd))
			k.mutate(&upd)
			requireSame(t, k.want(tenantA, "r1", 3), mustRead(t, s, k.get(tenantA, "r1")), "record passed to Update aliases the store")
		}})
	}
	return cs
}

// isErr reports whether err matches any of targets.
func isErr(err error, targets ...error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
