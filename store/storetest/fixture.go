package storetest

import (
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// fixture is a bit of everything one tenant can hold.
type fixture struct {
	TenantID  string
	Tenant    tenant.Tenant
	Users     []store.User
	Groups    []store.Group
	Members   map[string][]string // group ID → user IDs, sorted
	Products  []store.Product
	Plans     []store.Plan
	Customers []store.Customer
	Licenses  []store.License
	Tokens    []store.UserToken
	Families  []store.RefreshFamily
	Sessions  []store.ConsoleSession
	Events    []store.AuditEvent
	Usage     []store.UsageRecord
	Quotas    map[string]tenant.LimiterState
}

// newFixture builds a fixture for tenant tid. Fixtures of different
// tenants share record IDs (but not credential IDs or key digests, which
// are unique across tenants); their contents differ when their variants v
// differ.
func newFixture(tid string, v int) *fixture {
	f := &fixture{TenantID: tid, Tenant: newTenant(tid, v)}
	for i, id := range []string{"u1", "u2", "u3"} {
		u := newUser(id, v+10*i)
		u.Email = fmt.Sprintf("%s@example.com", id) // the same emails in every tenant
		f.Users = append(f.Users, u)
	}
	for i, id := range []string{"g1", "g2"} {
		f.Groups = append(f.Groups, newGroup(id, v+10*i))
	}
	f.Members = map[string][]string{"g1": {"u1", "u2"}, "g2": {"ghost", "u1"}}
	if v%2 == 0 {
		f.Members = map[string][]string{"g1": {"u3"}, "g2": {"u1", "u2"}}
	}
	for i, id := range []string{"prod1", "prod2"} {
		f.Products = append(f.Products, newProduct(id, v+10*i))
	}
	for i, p := range []struct{ id, product string }{{"plan1", "prod1"}, {"plan2", "prod1"}, {"plan3", "prod2"}} {
		f.Plans = append(f.Plans, planOf(p.id, p.product, v+10*i))
	}
	for i, id := range []string{"c1", "c2"} {
		f.Customers = append(f.Customers, newCustomer(id, v+10*i))
	}
	for i, id := range []string{"l1", "l2"} {
		f.Licenses = append(f.Licenses, licenseWithDigest(id, digest("fixture", tid, id), v+10*i))
	}
	for i, n := range []string{"1", "2"} {
		f.Tokens = append(f.Tokens, newToken(tid+"-token"+n, v+10*i))
		f.Families = append(f.Families, newFamily(tid+"-family"+n, v+10*i))
		f.Sessions = append(f.Sessions, newSession(tid+"-session"+n, v+10*i))
	}
	for i, id := range []string{"ev1", "ev2", "ev3", "ev4"} {
		f.Events = append(f.Events, newEvent(id, v+i))
	}
	for i, tk := range f.Tokens {
		f.Usage = append(f.Usage, newUsage(tk.ID, v+10*i))
	}
	// A usage record under the same token ID in every tenant.
	f.Usage = append(f.Usage, newUsage("shared-token", v+20))
	f.Quotas = map[string]tenant.LimiterState{"api": {TAT: at(v, 3)}, "validate": {TAT: at(v, 7)}}
	return f
}

// write stores the fixture in one transaction.
func (f *fixture) write(t tb, s store.Store) {
	t.Helper()
	update(t, s, f.writeTx)
}

func (f *fixture) writeTx(tx store.Tx) error {
	if err := tx.Tenants().Create(bg, f.Tenant); err != nil {
		return err
	}
	tt := tx.Tenant(f.TenantID)
	var errs []error
	for _, r := range f.Users {
		errs = append(errs, tt.Users().Create(bg, r))
	}
	for _, r := range f.Groups {
		errs = append(errs, tt.Groups().Create(bg, r))
	}
	for _, gid := range slices.Sorted(maps.Keys(f.Members)) {
		for _, uid := range f.Members[gid] {
			errs = append(errs, tt.Groups().AddMember(bg, gid, uid))
		}
	}
	for _, r := range f.Products {
		errs = append(errs, tt.Products().Create(bg, r))
	}
	for _, r := range f.Plans {
		errs = append(errs, tt.Plans().Create(bg, r))
	}
	for _, r := range f.Customers {
		errs = append(errs, tt.Customers().Create(bg, r))
	}
	for _, r := range f.Licenses {
		errs = append(errs, tt.Licenses().Create(bg, r))
	}
	for _, r := range f.Tokens {
		errs = append(errs, tt.UserTokens().Create(bg, r))
	}
	for _, r := range f.Families {
		errs = append(errs, tt.RefreshFamilies().Create(bg, r))
	}
	for _, r := range f.Sessions {
		errs = append(errs, tt.ConsoleSessions().Create(bg, r))
	}
	for _, r := range f.Events {
		errs = append(errs, tt.Audit().Append(bg, r))
	}
	for _, r := range f.Usage {
		errs = append(errs, tt.Usage().Put(bg, r))
	}
	for _, name := range slices.Sorted(maps.Keys(f.Quotas)) {
		errs = append(errs, tt.Quotas().Put(bg, name, f.Quotas[name]))
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// dump is what a tenant holds as seen through every read method. The
// lookups through indexes keep whole records, so that a record of another
// tenant with the same ID shows up; a zero record means ErrNotFound.
type dump struct {
	Tenant    tenant.Tenant
	Users     []store.User
	Emails    map[string]store.User // GetByEmail
	Groups    []store.Group
	Members   map[string][]string // Members of every existing group
	GroupsOf  map[string][]string
	Products  []store.Product
	Plans     []store.Plan
	ByProduct map[string][]store.Plan // ListByProduct
	Customers []store.Customer
	Licenses  []store.License
	ByDigest  map[string]store.License // LicenseByKeyDigest, by hex digest
	Tokens    []store.UserToken
	TokenByID map[string]store.UserToken // UserTokenByID
	Families  []store.RefreshFamily
	FamByID   map[string]store.RefreshFamily // RefreshFamilyByID
	Sessions  []store.ConsoleSession
	SessByID  map[string]store.ConsoleSession // ConsoleSessionByID
	Events    []store.AuditEvent
	Usage     []store.UsageRecord
	UsageByID map[string]store.UsageRecord // Usage.Get
	Quotas    map[string]tenant.LimiterState
}

func newDump() dump {
	return dump{
		Emails:    map[string]store.User{},
		Members:   map[string][]string{},
		GroupsOf:  map[string][]string{},
		ByProduct: map[string][]store.Plan{},
		ByDigest:  map[string]store.License{},
		TokenByID: map[string]store.UserToken{},
		FamByID:   map[string]store.RefreshFamily{},
		SessByID:  map[string]store.ConsoleSession{},
		UsageByID: map[string]store.UsageRecord{},
		Quotas:    map[string]tenant.LimiterState{},
	}
}

// expect is the dump of a store that holds the fixture.
func (f *fixture) expect() dump {
	tid := f.TenantID
	d := newDump()
	d.Tenant = f.Tenant
	for _, r := range f.Users {
		r.TenantID = tid
		d.Users = append(d.Users, r)
		d.Emails[r.Email] = r
		d.GroupsOf[r.ID] = nil
	}
	for _, r := range f.Groups {
		r.TenantID = tid
		d.Groups = append(d.Groups, r)
		d.Members[r.ID] = slices.Clone(f.Members[r.ID])
	}
	for _, gid := range slices.Sorted(maps.Keys(f.Members)) {
		for _, uid := range f.Members[gid] {
			d.GroupsOf[uid] = append(d.GroupsOf[uid], gid)
		}
	}
	for _, r := range f.Products {
		r.TenantID = tid
		d.Products = append(d.Products, r)
		d.ByProduct[r.ID] = nil
	}
	for _, r := range f.Plans {
		r.TenantID = tid
		d.Plans = append(d.Plans, r)
		d.ByProduct[r.ProductID] = append(d.ByProduct[r.ProductID], r)
	}
	for _, r := range f.Customers {
		r.TenantID = tid
		d.Customers = append(d.Customers, r)
	}
	for _, r := range f.Licenses {
		r.TenantID = tid
		d.Licenses = append(d.Licenses, r)
		d.ByDigest[hex.EncodeToString(r.KeyDigest)] = r
	}
	for _, r := range f.Tokens {
		r.TenantID = tid
		d.Tokens = append(d.Tokens, r)
		d.TokenByID[r.ID] = r
	}
	for _, r := range f.Families {
		r.TenantID = tid
		d.Families = append(d.Families, r)
		d.FamByID[r.ID] = r
	}
	for _, r := range f.Sessions {
		r.TenantID = tid
		d.Sessions = append(d.Sessions, r)
		d.SessByID[r.ID] = r
	}
	for _, r := range f.Events {
		r.TenantID = tid
		d.Events = append(d.Events, r)
	}
	for _, r := range f.Usage {
		r.TenantID = tid
		d.Usage = append(d.Usage, r)
		d.UsageByID[r.TokenID] = r
	}
	slices.SortFunc(d.Usage, func(a, b store.UsageRecord) int { return strings.Compare(a.TokenID, b.TokenID) })
	for name, st := range f.Quotas {
		d.Quotas[name] = st
	}
	return d
}

// dumpTenant reads everything of f's tenant. Besides listing every
// collection it looks up, through the indexes, every key that f or the
// listings name, so that an index left behind by a change shows up.
func dumpTenant(t tb, s store.Store, f *fixture) dump {
	t.Helper()
	var d dump
	view(t, s, func(tx store.Tx) error {
		d = dumpTx(t, tx, f)
		return nil
	})
	return d
}

// found returns rec, or the zero record when err is ErrNotFound.
func found[T any](t tb, rec T, err error) T {
	t.Helper()
	if isErr(err, store.ErrNotFound) {
		var zero T
		return zero
	}
	require.NoError(t, err)
	return rec
}

func dumpTx(t tb, tx store.Tx, f *fixture) dump {
	t.Helper()
	tid := f.TenantID
	tt := tx.Tenant(tid)
	d := newDump()
	tn, err := tx.Tenants().Get(bg, tid)
	d.Tenant = found(t, tn, err)
	d.Users, _ = listAllTx(t, tx, 0, func(tx store.Tx, p store.Page) ([]store.User, string, error) { return tt.Users().List(bg, p) })
	d.Groups, _ = listAllTx(t, tx, 0, func(tx store.Tx, p store.Page) ([]store.Group, string, error) { return tt.Groups().List(bg, p) })
	d.Products, _ = listAllTx(t, tx, 0, func(tx store.Tx, p store.Page) ([]store.Product, string, error) { return tt.Products().List(bg, p) })
	d.Plans, _ = listAllTx(t, tx, 0, func(tx store.Tx, p store.Page) ([]store.Plan, string, error) { return tt.Plans().List(bg, p) })
	d.Customers, _ = listAllTx(t, tx, 0, func(tx store.Tx, p store.Page) ([]store.Customer, string, error) { return tt.Customers().List(bg, p) })
	d.Licenses, _ = listAllTx(t, tx, 0, func(tx store.Tx, p store.Page) ([]store.License, string, error) { return tt.Licenses().List(bg, p) })
	d.Tokens, _ = listAllTx(t, tx, 0, func(tx store.Tx, p store.Page) ([]store.UserToken, string, error) { return tt.UserTokens().List(bg, p) })
	d.Families, _ = listAllTx(t, tx, 0, func(tx store.Tx, p store.Page) ([]store.RefreshFamily, string, error) {
		return tt.RefreshFamilies().List(bg, p)
	})
	d.Sessions, _ = listAllTx(t, tx, 0, func(tx store.Tx, p store.Page) ([]store.ConsoleSession, string, error) {
		return tt.ConsoleSessions().List(bg, p)
	})
	d.Events, _ = listAllTx(t, tx, 0, func(tx store.Tx, p store.Page) ([]store.AuditEvent, string, error) {
		return tt.Audit().List(bg, store.AuditQuery{}, p)
	})
	d.Usage, _ = listAllTx(t, tx, 0, func(tx store.Tx, p store.Page) ([]store.UsageRecord, string, error) { return tt.Usage().List(bg, p) })

	// Index lookups, for every key the fixture or the listings name.
	emails := map[string]bool{}
	userIDs := map[string]bool{}
	for _, u := range slices.Concat(f.Users, d.Users) {
		emails[u.Email] = true
		userIDs[u.ID] = true
	}
	for email := range emails {
		u, err := tt.Users().GetByEmail(bg, email)
		d.Emails[email] = found(t, u, err)
	}
	groupIDs := map[string]bool{}
	for _, g := range slices.Concat(f.Groups, d.Groups) {
		groupIDs[g.ID] = true
	}
	for gid, uids := range f.Members {
		groupIDs[gid] = true
		for _, uid := range uids {
			userIDs[uid] = true
		}
	}
	for gid := range groupIDs {
		if _, err := tt.Groups().Get(bg, gid); isErr(err, store.ErrNotFound) {
			continue // the members of a missing group are not specified
		}
		d.Members[gid], _ = listAllTx(t, tx, 0, func(tx store.Tx, p store.Page) ([]string, string, error) {
			return tt.Groups().Members(bg, gid, p)
		})
	}
	for uid := range userIDs {
		d.GroupsOf[uid], err = tt.Groups().GroupsOf(bg, uid)
		require.NoError(t, err)
	}
	productIDs := map[string]bool{}
	for _, p := range slices.Concat(f.Products, d.Products) {
		productIDs[p.ID] = true
	}
	for _, p := range slices.Concat(f.Plans, d.Plans) {
		productIDs[p.ProductID] = true
	}
	for pid := range productIDs {
		d.ByProduct[pid], _ = listAllTx(t, tx, 0, func(tx store.Tx, p store.Page) ([]store.Plan, string, error) {
			return tt.Plans().ListByProduct(bg, pid, p)
		})
	}
	for _, l := range slices.Concat(f.Licenses, d.Licenses) {
		got, err := tx.LicenseByKeyDigest(bg, l.KeyDigest)
		d.ByDigest[hex.EncodeToString(l.KeyDigest)] = found(t, got, err)
	}
	for _, tk := range slices.Concat(f.Tokens, d.Tokens) {
		got, err := tx.UserTokenByID(bg, tk.ID)
		d.TokenByID[tk.ID] = found(t, got, err)
	}
	for _, fam := range slices.Concat(f.Families, d.Families) {
		got, err := tx.RefreshFamilyByID(bg, fam.ID)
		d.FamByID[fam.ID] = found(t, got, err)
	}
	for _, cs := range slices.Concat(f.Sessions, d.Sessions) {
		got, err := tx.ConsoleSessionByID(bg, cs.ID)
		d.SessByID[cs.ID] = found(t, got, err)
	}
	for _, u := range slices.Concat(f.Usage, d.Usage) {
		got, err := tt.Usage().Get(bg, u.TokenID)
		d.UsageByID[u.TokenID] = found(t, got, err)
	}
	for name := range f.Quotas {
		st, err := tt.Quotas().Get(bg, name)
		if isErr(err, store.ErrNotFound) {
			continue
		}
		require.NoError(t, err)
		d.Quotas[name] = st
	}
	return d
}
