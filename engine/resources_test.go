package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// The tests of resources.go: users, groups, products, plans, customers.
// They use the shared fixture (fixture_test.go): an engine over memstore
// with tenant "acme" and its admin.

// resPtr returns a pointer to v, for patches.
func resPtr[T any](v T) *T { return &v }

// resEvents reads back the tenant's audit events of one type.
func resEvents(t *testing.T, f *fixture, tenantID, typ string) []store.AuditEvent {
	t.Helper()
	var evs []store.AuditEvent
	err := f.st.View(f.ctx, func(tx store.Tx) error {
		var err error
		evs, _, err = tx.Tenant(tenantID).Audit().List(f.ctx, store.AuditQuery{Type: typ}, store.Page{Limit: store.MaxPageLimit})
		return err
	})
	require.NoError(t, err)
	return evs
}

// resUser creates a user as the fixture's admin.
func resUser(t *testing.T, f *fixture, email string, role store.Role) store.User {
	t.Helper()
	u, err := f.eng.CreateUser(f.ctx, f.admin, f.tenant, engine.NewUser{Email: email, Name: "User " + email, Role: role})
	require.NoError(t, err)
	return u
}

func TestResourcesUserCRUD(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()

	u, err := f.eng.CreateUser(f.ctx, f.admin, f.tenant, engine.NewUser{Email: "  Alice@Example.COM ", Name: " Alice "})
	require.NoError(t, err)
	_, err = uuid.Parse(u.ID)
	require.NoError(t, err, "the engine chooses a UUID")
	require.Equal(t, store.User{
		TenantID: f.tenant, ID: u.ID, Email: "alice@example.com", Name: "Alice",
		Role: store.RoleMember, Status: store.UserActive, CreatedAt: now, UpdatedAt: now,
	}, u)

	got, err := f.eng.GetUser(f.ctx, f.admin, f.tenant, u.ID)
	require.NoError(t, err)
	require.Equal(t, u, got)

	list, next, err := f.eng.ListUsers(f.ctx, f.admin, f.tenant, store.Page{})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, list, 2, "the admin and alice")
	require.Contains(t, list, u)

	// Paging by one visits each user once.
	var seen []string
	page := store.Page{Limit: 1}
	for {
		us, next, err := f.eng.ListUsers(f.ctx, f.admin, f.tenant, page)
		require.NoError(t, err)
		for _, x := range us {
			seen = append(seen, x.ID)
		}
		if next == "" {
			break
		}
		page.After = next
	}
	require.ElementsMatch(t, []string{f.admin.UserID, u.ID}, seen)

	f.clock.Advance(1e9)
	later := f.clock.Now()
	cases := []struct {
		name  string
		patch engine.UserPatch
		check func(t *testing.T, u store.User)
	}{
		{"name", engine.UserPatch{Name: resPtr("Alice B.")}, func(t *testing.T, u store.User) { require.Equal(t, "Alice B.", u.Name) }},
		{"email lowercased", engine.UserPatch{Email: resPtr("ALICE.B@example.com")}, func(t *testing.T, u store.User) {
			require.Equal(t, "alice.b@example.com", u.Email)
		}},
		{"role", engine.UserPatch{Role: resPtr(store.RoleAdmin)}, func(t *testing.T, u store.User) { require.Equal(t, store.RoleAdmin, u.Role) }},
		{"status", engine.UserPatch{Status: resPtr(store.UserDeactivated)}, func(t *testing.T, u store.User) {
			require.Equal(t, store.UserDeactivated, u.Status)
		}},
		{"empty patch changes nothing", engine.UserPatch{}, func(t *testing.T, u store.User) {
			require.Equal(t, "Alice B.", u.Name)
			require.Equal(t, store.UserDeactivated, u.Status)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.eng.UpdateUser(f.ctx, f.admin, f.tenant, u.ID, tc.patch)
			require.NoError(t, err)
			tc.check(t, got)
			require.Equal(t, now, got.CreatedAt)
			require.Equal(t, later, got.UpdatedAt)
			read, err := f.eng.GetUser(f.ctx, f.admin, f.tenant, u.ID)
			require.NoError(t, err)
			require.Equal(t, got, read, "the update is stored")
		})
	}

	// The old email is free again after the change.
	resUser(t, f, "alice@example.com", "")

	require.NoError(t, f.eng.DeleteUser(f.ctx, f.admin, f.tenant, u.ID))
	_, err = f.eng.GetUser(f.ctx, f.admin, f.tenant, u.ID)
	require.ErrorIs(t, err, engine.ErrNotFound)
	require.ErrorIs(t, f.eng.DeleteUser(f.ctx, f.admin, f.tenant, u.ID), engine.ErrNotFound, "twice")
}

func TestResourcesUserPasswordHashNeverReturned(t *testing.T) {
	f := newFixture(t)
	u := resUser(t, f, "hash@example.com", "")
	require.NoError(t, f.st.Update(f.ctx, func(tx store.Tx) error {
		rec, err := tx.Tenant(f.tenant).Users().Get(f.ctx, u.ID)
		if err != nil {
			return err
		}
		rec.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
		return tx.Tenant(f.tenant).Users().Update(f.ctx, rec)
	}))
	got, err := f.eng.GetUser(f.ctx, f.admin, f.tenant, u.ID)
	require.NoError(t, err)
	require.Empty(t, got.PasswordHash)
	list, _, err := f.eng.ListUsers(f.ctx, f.admin, f.tenant, store.Page{})
	require.NoError(t, err)
	for _, x := range list {
		require.Empty(t, x.PasswordHash)
	}
	got, err = f.eng.UpdateUser(f.ctx, f.admin, f.tenant, u.ID, engine.UserPatch{Name: resPtr("Renamed")})
	require.NoError(t, err)
	require.Empty(t, got.PasswordHash)
	// ... and an update keeps the stored hash.
	require.NoError(t, f.st.View(f.ctx, func(tx store.Tx) error {
		rec, err := tx.Tenant(f.tenant).Users().Get(f.ctx, u.ID)
		require.NoError(t, err)
		require.NotEmpty(t, rec.PasswordHash)
		return nil
	}))
}

func TestResourcesValidation(t *testing.T) {
	f := newFixture(t)
	u := resUser(t, f, "valid@example.com", "")
	prod, err := f.eng.CreateProduct(f.ctx, f.admin, f.tenant, engine.NewProduct{Name: "P"})
	require.NoError(t, err)
	plan, err := f.eng.CreatePlan(f.ctx, f.admin, f.tenant, engine.NewPlan{ProductID: prod.ID, Name: "pro"})
	require.NoError(t, err)
	g, err := f.eng.CreateGroup(f.ctx, f.admin, f.tenant, engine.NewGroup{Name: "G"})
	require.NoError(t, err)
	c, err := f.eng.CreateCustomer(f.ctx, f.admin, f.tenant, engine.NewCustomer{Name: "C"})
	require.NoError(t, err)

	long := strings.Repeat("x", 201)
	tooMany := map[string]string{}
	for i := range 65 {
		tooMany[fmt.Sprint("k", i)] = "v"
	}
	a, tid := f.admin, f.tenant
	cases := []struct {
		name string
		op   func() error
	}{
		{"user: no name", func() error {
			_, err := f.eng.CreateUser(f.ctx, a, tid, engine.NewUser{Email: "x@example.com", Name: "  "})
			return err
		}},
		{"user: long name", func() error {
			_, err := f.eng.CreateUser(f.ctx, a, tid, engine.NewUser{Email: "x@example.com", Name: long})
			return err
		}},
		{"user: control character in name", func() error {
			_, err := f.eng.CreateUser(f.ctx, a, tid, engine.NewUser{Email: "x@example.com", Name: "a\x00b"})
			return err
		}},
		{"user: no email", func() error {
			_, err := f.eng.CreateUser(f.ctx, a, tid, engine.NewUser{Name: "X"})
			return err
		}},
		{"user: not an email", func() error {
			_, err := f.eng.CreateUser(f.ctx, a, tid, engine.NewUser{Email: "not-an-email", Name: "X"})
			return err
		}},
		{"user: email with display name", func() error {
			_, err := f.eng.CreateUser(f.ctx, a, tid, engine.NewUser{Email: "Eve <eve@example.com>", Name: "X"})
			return err
		}},
		{"user: two emails", func() error {
			_, err := f.eng.CreateUser(f.ctx, a, tid, engine.NewUser{Email: "a@example.com, b@example.com", Name: "X"})
			return err
		}},
		{"user: long email", func() error {
			_, err := f.eng.CreateUser(f.ctx, a, tid, engine.NewUser{Email: strings.Repeat("a", 250) + "@example.com", Name: "X"})
			return err
		}},
		{"user: unknown role", func() error {
			_, err := f.eng.CreateUser(f.ctx, a, tid, engine.NewUser{Email: "x@example.com", Name: "X", Role: "owner"})
			return err
		}},
		{"user update: empty name", func() error {
			_, err := f.eng.UpdateUser(f.ctx, a, tid, u.ID, engine.UserPatch{Name: resPtr("")})
			return err
		}},
		{"user update: bad email", func() error {
			_, err := f.eng.UpdateUser(f.ctx, a, tid, u.ID, engine.UserPatch{Email: resPtr("@example.com")})
			return err
		}},
		{"user update: empty email", func() error {
			_, err := f.eng.UpdateUser(f.ctx, a, tid, u.ID, engine.UserPatch{Email: resPtr("")})
			return err
		}},
		{"user update: empty role", func() error {
			_, err := f.eng.UpdateUser(f.ctx, a, tid, u.ID, engine.UserPatch{Role: resPtr(store.Role(""))})
			return err
		}},
		{"user update: unknown status", func() error {
			_, err := f.eng.UpdateUser(f.ctx, a, tid, u.ID, engine.UserPatch{Status: resPtr(store.UserStatus("banned"))})
			return err
		}},
		{"group: no name", func() error {
			_, err := f.eng.CreateGroup(f.ctx, a, tid, engine.NewGroup{})
			return err
		}},
		{"group: long description", func() error {
			_, err := f.eng.CreateGroup(f.ctx, a, tid, engine.NewGroup{Name: "G", Description: strings.Repeat("d", 2001)})
			return err
		}},
		{"group: control character in description", func() error {
			_, err := f.eng.CreateGroup(f.ctx, a, tid, engine.NewGroup{Name: "G", Description: "a\x1bb"})
			return err
		}},
		{"group update: long name", func() error {
			_, err := f.eng.UpdateGroup(f.ctx, a, tid, g.ID, engine.GroupPatch{Name: resPtr(long)})
			return err
		}},
		{"product: no name", func() error {
			_, err := f.eng.CreateProduct(f.ctx, a, tid, engine.NewProduct{Description: "d"})
			return err
		}},
		{"product update: empty name", func() error {
			_, err := f.eng.UpdateProduct(f.ctx, a, tid, prod.ID, engine.ProductPatch{Name: resPtr(" ")})
			return err
		}},
		{"plan: no name", func() error {
			_, err := f.eng.CreatePlan(f.ctx, a, tid, engine.NewPlan{ProductID: prod.ID})
			return err
		}},
		{"plan: no product", func() error {
			_, err := f.eng.CreatePlan(f.ctx, a, tid, engine.NewPlan{Name: "pro"})
			return err
		}},
		{"plan: unknown product", func() error {
			_, err := f.eng.CreatePlan(f.ctx, a, tid, engine.NewPlan{ProductID: uuid.NewString(), Name: "pro"})
			return err
		}},
		{"plan: too many entitlements", func() error {
			_, err := f.eng.CreatePlan(f.ctx, a, tid, engine.NewPlan{ProductID: prod.ID, Name: "pro", Entitlements: tooMany})
			return err
		}},
		{"plan: empty entitlement name", func() error {
			_, err := f.eng.CreatePlan(f.ctx, a, tid, engine.NewPlan{ProductID: prod.ID, Name: "pro", Entitlements: map[string]string{"": "v"}})
			return err
		}},
		{"plan: long entitlement value", func() error {
			_, err := f.eng.CreatePlan(f.ctx, a, tid, engine.NewPlan{ProductID: prod.ID, Name: "pro", Entitlements: map[string]string{"k": strings.Repeat("v", 1025)}})
			return err
		}},
		{"plan update: bad entitlements", func() error {
			_, err := f.eng.UpdatePlan(f.ctx, a, tid, plan.ID, engine.PlanPatch{Entitlements: &tooMany})
			return err
		}},
		{"customer: no name", func() error {
			_, err := f.eng.CreateCustomer(f.ctx, a, tid, engine.NewCustomer{Email: "c@example.com"})
			return err
		}},
		{"customer: bad email", func() error {
			_, err := f.eng.CreateCustomer(f.ctx, a, tid, engine.NewCustomer{Name: "C", Email: "c@"})
			return err
		}},
		{"customer update: bad email", func() error {
			_, err := f.eng.UpdateCustomer(f.ctx, a, tid, c.ID, engine.CustomerPatch{Email: resPtr("c at example.com")})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.op()
			require.ErrorIs(t, err, engine.ErrInvalidInput)
		})
	}

	// Nothing was written by the refused calls.
	users, _, err := f.eng.ListUsers(f.ctx, a, tid, store.Page{})
	require.NoError(t, err)
	require.Len(t, users, 2)
	plans, _, err := f.eng.ListPlans(f.ctx, a, tid, prod.ID, store.Page{})
	require.NoError(t, err)
	require.Equal(t, []store.Plan{plan}, plans)
}

func TestResourcesDuplicateEmail(t *testing.T) {
	f := newFixture(t)
	first := resUser(t, f, "bob@example.com", "")
	other := resUser(t, f, "carol@example.com", "")

	for _, email := range []string{"bob@example.com", "BOB@Example.com", " bob@example.com"} {
		t.Run(email, func(t *testing.T) {
			_, err := f.eng.CreateUser(f.ctx, f.admin, f.tenant, engine.NewUser{Email: email, Name: "Bob 2"})
			require.ErrorIs(t, err, engine.ErrAlreadyExists)
			require.ErrorIs(t, err, store.ErrAlreadyExists)
		})
	}
	_, err := f.eng.UpdateUser(f.ctx, f.admin, f.tenant, other.ID, engine.UserPatch{Email: resPtr("Bob@EXAMPLE.com")})
	require.ErrorIs(t, err, engine.ErrAlreadyExists, "update onto a taken email")
	got, err := f.eng.GetUser(f.ctx, f.admin, f.tenant, other.ID)
	require.NoError(t, err)
	require.Equal(t, "carol@example.com", got.Email)

	// Setting a user's own email again is not a conflict.
	_, err = f.eng.UpdateUser(f.ctx, f.admin, f.tenant, first.ID, engine.UserPatch{Email: resPtr("BOB@example.com")})
	require.NoError(t, err)

	// Another tenant may have the same email.
	_, adminB := f.addTenant("beta", tenant.Limits{})
	_, err = f.eng.CreateUser(f.ctx, adminB, "beta", engine.NewUser{Email: "bob@example.com", Name: "Bob of beta"})
	require.NoError(t, err)
}

// resIDs names one record of each kind.
type resIDs struct{ user, group, product, plan, customer string }

// resAllOps calls every operation of resources.go once in tenantID as actor,
// naming the records ids where an operation needs one.

func resAllOps(f *fixture, actor engine.Actor, tenantID string, ids resIDs) map[string]func() error {
	ctx, e := f.ctx, f.eng
	drop2 := func(_ any, err error) error { return err }
	drop3 := func(_ any, _ string, err error) error { return err }
	return map[string]func() error{
		"CreateUser": func() error {
			return drop2(e.CreateUser(ctx, actor, tenantID, engine.NewUser{Email: "new@example.com", Name: "N"}))
		},
		"GetUser":   func() error { return drop2(e.GetUser(ctx, actor, tenantID, ids.user)) },
		"ListUsers": func() error { return drop3(e.ListUsers(ctx, actor, tenantID, store.Page{})) },
		"UpdateUser": func() error {
			return drop2(e.UpdateUser(ctx, actor, tenantID, ids.user, engine.UserPatch{Name: resPtr("X")}))
		},
		"DeleteUser":  func() error { return e.DeleteUser(ctx, actor, tenantID, ids.user) },
		"CreateGroup": func() error { return drop2(e.CreateGroup(ctx, actor, tenantID, engine.NewGroup{Name: "N"})) },
		"GetGroup":    func() error { return drop2(e.GetGroup(ctx, actor, tenantID, ids.group)) },
		"ListGroups":  func() error { return drop3(e.ListGroups(ctx, actor, tenantID, store.Page{})) },
		"UpdateGroup": func() error {
			return drop2(e.UpdateGroup(ctx, actor, tenantID, ids.group, engine.GroupPatch{Name: resPtr("X")}))
		},
		"DeleteGroup": func() error { return e.DeleteGroup(ctx, actor, tenantID, ids.group) },
		"AddGroupMember": func() error {
			return e.AddGroupMember(ctx, actor, tenantID, ids.group, ids.user)
		},
		"RemoveGroupMember": func() error {
			return e.RemoveGroupMember(ctx, actor, tenantID, ids.group, ids.user)
		},
		"ListGroupMembers": func() error { return drop3(e.ListGroupMembers(ctx, actor, tenantID, ids.group, store.Page{})) },
		"CreateProduct":    func() error { return drop2(e.CreateProduct(ctx, actor, tenantID, engine.NewProduct{Name: "N"})) },
		"GetProduct":       func() error { return drop2(e.GetProduct(ctx, actor, tenantID, ids.product)) },
		"ListProducts":     func() error { return drop3(e.ListProducts(ctx, actor, tenantID, store.Page{})) },
		"UpdateProduct": func() error {
			return drop2(e.UpdateProduct(ctx, actor, tenantID, ids.product, engine.ProductPatch{Name: resPtr("X")}))
		},
		"DeleteProduct": func() error { return e.DeleteProduct(ctx, actor, tenantID, ids.product) },
		"CreatePlan": func() error {
			return drop2(e.CreatePlan(ctx, actor, tenantID, engine.NewPlan{ProductID: ids.product, Name: "N"}))
		},
		"GetPlan":   func() error { return drop2(e.GetPlan(ctx, actor, tenantID, ids.plan)) },
		"ListPlans": func() error { return drop3(e.ListPlans(ctx, actor, tenantID, ids.product, store.Page{})) },
		"UpdatePlan": func() error {
			return drop2(e.UpdatePlan(ctx, actor, tenantID, ids.plan, engine.PlanPatch{Name: resPtr("X")}))
		},
		"DeletePlan": func() error { return e.DeletePlan(ctx, actor, tenantID, ids.plan) },
		"CreateCustomer": func() error {
			return drop2(e.CreateCustomer(ctx, actor, tenantID, engine.NewCustomer{Name: "N"}))
		},
		"GetCustomer":   func() error { return drop2(e.GetCustomer(ctx, actor, tenantID, ids.customer)) },
		"ListCustomers": func() error { return drop3(e.ListCustomers(ctx, actor, tenantID, store.Page{})) },
		"UpdateCustomer": func() error {
			return drop2(e.UpdateCustomer(ctx, actor, tenantID, ids.customer, engine.CustomerPatch{Name: resPtr("X")}))
		},
		"DeleteCustomer": func() error { return e.DeleteCustomer(ctx, actor, tenantID, ids.customer) },
	}
}

// resSeed creates one record of each kind in the admin's tenant.
func resSeed(t *testing.T, f *fixture, admin engine.Admin) resIDs {
	t.Helper()
	tid := admin.TenantID
	u, err := f.eng.CreateUser(f.ctx, admin, tid, engine.NewUser{Email: "seed@" + tid + ".test", Name: "Seed"})
	require.NoError(t, err)
	g, err := f.eng.CreateGroup(f.ctx, admin, tid, engine.NewGroup{Name: "Seed"})
	require.NoError(t, err)
	require.NoError(t, f.eng.AddGroupMember(f.ctx, admin, tid, g.ID, u.ID))
	p, err := f.eng.CreateProduct(f.ctx, admin, tid, engine.NewProduct{Name: "Seed"})
	require.NoError(t, err)
	pl, err := f.eng.CreatePlan(f.ctx, admin, tid, engine.NewPlan{ProductID: p.ID, Name: "Seed"})
	require.NoError(t, err)
	c, err := f.eng.CreateCustomer(f.ctx, admin, tid, engine.NewCustomer{Name: "Seed"})
	require.NoError(t, err)
	return resIDs{user: u.ID, group: g.ID, product: p.ID, plan: pl.ID, customer: c.ID}
}

// resSnapshot lists every record of every kind in a tenant, for checking
// that refused calls changed nothing.
func resSnapshot(t *testing.T, f *fixture, tid string) []any {
	t.Helper()
	var out []any
	require.NoError(t, f.st.View(f.ctx, func(tx store.Tx) error {
		s := tx.Tenant(tid)
		all := store.Page{Limit: store.MaxPageLimit}
		us, _, err := s.Users().List(f.ctx, all)
		require.NoError(t, err)
		gs, _, err := s.Groups().List(f.ctx, all)
		require.NoError(t, err)
		for _, g := range gs {
			m, _, err := s.Groups().Members(f.ctx, g.ID, all)
			require.NoError(t, err)
			out = append(out, m)
		}
		ps, _, err := s.Products().List(f.ctx, all)
		require.NoError(t, err)
		pls, _, err := s.Plans().List(f.ctx, all)
		require.NoError(t, err)
		cs, _, err := s.Customers().List(f.ctx, all)
		require.NoError(t, err)
		out = append(out, us, gs, ps, pls, cs)
		return nil
	}))
	return out
}

func TestResourcesAccessDenied(t *testing.T) {
	f := newFixture(t)
	ids := resSeed(t, f, f.admin)
	_, adminB := f.addTenant("beta", tenant.Limits{})
	member := resUser(t, f, "member@example.com", store.RoleMember)
	deactivated := resUser(t, f, "former-admin@example.com", store.RoleAdmin)
	_, err := f.eng.UpdateUser(f.ctx, f.admin, f.tenant, deactivated.ID, engine.UserPatch{Status: resPtr(store.UserDeactivated)})
	require.NoError(t, err)
	before := resSnapshot(t, f, f.tenant)

	actors := []struct {
		name  string
		actor engine.Actor
	}{
		{"admin of another tenant", adminB},
		{"admin naming another tenant's user", engine.Admin{TenantID: f.tenant, UserID: adminB.UserID}},
		{"member acting as admin", engine.Admin{TenantID: f.tenant, UserID: member.ID}},
		{"deactivated admin", engine.Admin{TenantID: f.tenant, UserID: deactivated.ID}},
		{"unknown user", engine.Admin{TenantID: f.tenant, UserID: uuid.NewString()}},
		{"no actor", nil},
	}
	for _, a := range actors {
		for op, call := range resAllOps(f, a.actor, f.tenant, ids) {
			t.Run(a.name+"/"+op, func(t *testing.T) {
				require.ErrorIs(t, call(), engine.ErrAccessDenied)
			})
		}
	}
	require.Equal(t, before, resSnapshot(t, f, f.tenant), "refused calls changed nothing")
}

func TestResourcesNotFound(t *testing.T) {
	f := newFixture(t)
	_, adminB := f.addTenant("beta", tenant.Limits{})
	other := resSeed(t, f, adminB) // records of beta, named in acme

	missing := []struct {
		name string
		id   string
	}{
		{"unknown", uuid.NewString()},
		{"empty", ""},
		{"malformed", "bad\x00id"},
		{"too long", strings.Repeat("x", 300)},
		{"another tenant's", ""}, // filled per kind below
	}
	a, tid, ctx, e := f.admin, f.tenant, f.ctx, f.eng
	ops := []struct {
		name  string
		other string
		call  func(id string) error
	}{
		{"GetUser", other.user, func(id string) error { _, err := e.GetUser(ctx, a, tid, id); return err }},
		{"UpdateUser", other.user, func(id string) error {
			_, err := e.UpdateUser(ctx, a, tid, id, engine.UserPatch{Name: resPtr("X")})
			return err
		}},
		{"UpdateUser empty patch", other.user, func(id string) error { _, err := e.UpdateUser(ctx, a, tid, id, engine.UserPatch{}); return err }},
		{"DeleteUser", other.user, func(id string) error { return e.DeleteUser(ctx, a, tid, id) }},
		{"GetGroup", other.group, func(id string) error { _, err := e.GetGroup(ctx, a, tid, id); return err }},
		{"UpdateGroup", other.group, func(id string) error {
			_, err := e.UpdateGroup(ctx, a, tid, id, engine.GroupPatch{Name: resPtr("X")})
			return err
		}},
		{"DeleteGroup", other.group, func(id string) error { return e.DeleteGroup(ctx, a, tid, id) }},
		{"ListGroupMembers", other.group, func(id string) error {
			_, _, err := e.ListGroupMembers(ctx, a, tid, id, store.Page{})
			return err
		}},
		{"AddGroupMember to missing group", other.group, func(id string) error {
			return e.AddGroupMember(ctx, a, tid, id, a.UserID)
		}},
		{"RemoveGroupMember from missing group", other.group, func(id string) error {
			return e.RemoveGroupMember(ctx, a, tid, id, a.UserID)
		}},
		{"GetProduct", other.product, func(id string) error { _, err := e.GetProduct(ctx, a, tid, id); return err }},
		{"UpdateProduct", other.product, func(id string) error {
			_, err := e.UpdateProduct(ctx, a, tid, id, engine.ProductPatch{Name: resPtr("X")})
			return err
		}},
		{"DeleteProduct", other.product, func(id string) error { return e.DeleteProduct(ctx, a, tid, id) }},
		{"ListPlans of missing product", other.product, func(id string) error {
			_, _, err := e.ListPlans(ctx, a, tid, id, store.Page{})
			return err
		}},
		{"GetPlan", other.plan, func(id string) error { _, err := e.GetPlan(ctx, a, tid, id); return err }},
		{"UpdatePlan", other.plan, func(id string) error {
			_, err := e.UpdatePlan(ctx, a, tid, id, engine.PlanPatch{Name: resPtr("X")})
			return err
		}},
		{"DeletePlan", other.plan, func(id string) error { return e.DeletePlan(ctx, a, tid, id) }},
		{"GetCustomer", other.customer, func(id string) error { _, err := e.GetCustomer(ctx, a, tid, id); return err }},
		{"UpdateCustomer", other.customer, func(id string) error {
			_, err := e.UpdateCustomer(ctx, a, tid, id, engine.CustomerPatch{Name: resPtr("X")})
			return err
		}},
		{"DeleteCustomer", other.customer, func(id string) error { return e.DeleteCustomer(ctx, a, tid, id) }},
	}
	for _, op := range ops {
		for _, m := range missing {
			id := m.id
			if m.name == "another tenant's" {
				id = op.other
			}
			t.Run(op.name+"/"+m.name, func(t *testing.T) {
				require.ErrorIs(t, op.call(id), engine.ErrNotFound)
			})
		}
	}

	// beta's records are untouched.
	for _, get := range []func() error{
		func() error { _, err := e.GetUser(ctx, adminB, "beta", other.user); return err },
		func() error { _, err := e.GetGroup(ctx, adminB, "beta", other.group); return err },
		func() error { _, err := e.GetProduct(ctx, adminB, "beta", other.product); return err },
		func() error { _, err := e.GetPlan(ctx, adminB, "beta", other.plan); return err },
		func() error { _, err := e.GetCustomer(ctx, adminB, "beta", other.customer); return err },
	} {
		require.NoError(t, get())
	}

	// The system naming a tenant that does not exist creates nothing.
	_, err := e.CreateProduct(ctx, engine.System(), "nope", engine.NewProduct{Name: "P"})
	require.ErrorIs(t, err, engine.ErrNotFound)
	_, err = e.CreateUser(ctx, engine.System(), "nope", engine.NewUser{Email: "x@example.com", Name: "X"})
	require.ErrorIs(t, err, engine.ErrNotFound)
}

func TestResourcesGroups(t *testing.T) {
	f := newFixture(t)
	a, tid, ctx, e := f.admin, f.tenant, f.ctx, f.eng
	now := f.clock.Now()

	g, err := e.CreateGroup(ctx, a, tid, engine.NewGroup{Name: " Ops ", Description: "On call\nrota"})
	require.NoError(t, err)
	require.Equal(t, store.Group{TenantID: tid, ID: g.ID, Name: "Ops", Description: "On call\nrota", CreatedAt: now, UpdatedAt: now}, g)
	got, err := e.GetGroup(ctx, a, tid, g.ID)
	require.NoError(t, err)
	require.Equal(t, g, got)
	list, _, err := e.ListGroups(ctx, a, tid, store.Page{})
	require.NoError(t, err)
	require.Equal(t, []store.Group{g}, list)

	upd, err := e.UpdateGroup(ctx, a, tid, g.ID, engine.GroupPatch{Description: resPtr("")})
	require.NoError(t, err)
	require.Equal(t, "Ops", upd.Name)
	require.Empty(t, upd.Description)
	upd, err = e.UpdateGroup(ctx, a, tid, g.ID, engine.GroupPatch{Name: resPtr("SRE")})
	require.NoError(t, err)
	require.Equal(t, "SRE", upd.Name)

	// Membership.
	u1 := resUser(t, f, "u1@example.com", "")
	u2 := resUser(t, f, "u2@example.com", "")
	require.NoError(t, e.AddGroupMember(ctx, a, tid, g.ID, u1.ID))
	require.NoError(t, e.AddGroupMember(ctx, a, tid, g.ID, u2.ID))
	require.NoError(t, e.AddGroupMember(ctx, a, tid, g.ID, u1.ID), "adding twice is a no-op")

	var members []store.User
	page := store.Page{Limit: 1}
	for {
		ms, next, err := e.ListGroupMembers(ctx, a, tid, g.ID, page)
		require.NoError(t, err)
		require.LessOrEqual(t, len(ms), 1)
		members = append(members, ms...)
		if next == "" {
			break
		}
		page.After = next
	}
	require.ElementsMatch(t, []store.User{u1, u2}, members)

	_, adminB := f.addTenant("beta", tenant.Limits{})
	cases := []struct {
		name    string
		userID  string
		wantErr error
	}{
		{"another tenant's user", adminB.UserID, engine.ErrInvalidInput},
		{"unknown user", uuid.NewString(), engine.ErrInvalidInput},
		{"malformed user", "a\x00b", engine.ErrInvalidInput},
	}
	for _, tc := range cases {
		t.Run("add "+tc.name, func(t *testing.T) {
			require.ErrorIs(t, e.AddGroupMember(ctx, a, tid, g.ID, tc.userID), tc.wantErr)
		})
	}
	ms, _, err := e.ListGroupMembers(ctx, a, tid, g.ID, store.Page{})
	require.NoError(t, err)
	require.Len(t, ms, 2, "refused members were not added")

	require.NoError(t, e.RemoveGroupMember(ctx, a, tid, g.ID, u2.ID))
	require.ErrorIs(t, e.RemoveGroupMember(ctx, a, tid, g.ID, u2.ID), engine.ErrNotFound, "not a member any more")
	ms, _, err = e.ListGroupMembers(ctx, a, tid, g.ID, store.Page{})
	require.NoError(t, err)
	require.Equal(t, []store.User{u1}, ms)

	// Deleting a user removes its memberships.
	require.NoError(t, e.DeleteUser(ctx, a, tid, u1.ID))
	ms, _, err = e.ListGroupMembers(ctx, a, tid, g.ID, store.Page{})
	require.NoError(t, err)
	require.Empty(t, ms)

	// Deleting a group keeps its users.
	require.NoError(t, e.AddGroupMember(ctx, a, tid, g.ID, u2.ID))
	require.NoError(t, e.DeleteGroup(ctx, a, tid, g.ID))
	_, err = e.GetGroup(ctx, a, tid, g.ID)
	require.ErrorIs(t, err, engine.ErrNotFound)
	_, err = e.GetUser(ctx, a, tid, u2.ID)
	require.NoError(t, err)

	// Audit of the membership changes.
	added := resEvents(t, f, tid, engine.EventGroupMemberAdded)
	require.Len(t, added, 4)
	require.Equal(t, map[string]string{"group": g.ID, "user": u1.ID}, added[0].Details)
	removed := resEvents(t, f, tid, engine.EventGroupMemberRemoved)
	require.Len(t, removed, 1)
	require.Equal(t, map[string]string{"group": g.ID, "user": u2.ID}, removed[0].Details)
}

func TestResourcesProductsAndPlans(t *testing.T) {
	f := newFixture(t)
	a, tid, ctx, e := f.admin, f.tenant, f.ctx, f.eng
	now := f.clock.Now()

	p, err := e.CreateProduct(ctx, a, tid, engine.NewProduct{Name: "Widget", Description: "The widget"})
	require.NoError(t, err)
	require.Equal(t, store.Product{TenantID: tid, ID: p.ID, Name: "Widget", Description: "The widget", CreatedAt: now, UpdatedAt: now}, p)
	got, err := e.GetProduct(ctx, a, tid, p.ID)
	require.NoError(t, err)
	require.Equal(t, p, got)
	p2, err := e.CreateProduct(ctx, a, tid, engine.NewProduct{Name: "Gadget"})
	require.NoError(t, err)
	products, _, err := e.ListProducts(ctx, a, tid, store.Page{})
	require.NoError(t, err)
	require.Equal(t, []store.Product{p, p2}, products, "ID order is creation order (UUIDv7)")
	p, err = e.UpdateProduct(ctx, a, tid, p.ID, engine.ProductPatch{Name: resPtr("Widget Pro"), Description: resPtr("")})
	require.NoError(t, err)
	require.Equal(t, "Widget Pro", p.Name)
	require.Empty(t, p.Description)

	ents := map[string]string{"seats": "10", "sso": "true"}
	pro, err := e.CreatePlan(ctx, a, tid, engine.NewPlan{ProductID: p.ID, Name: "pro", Entitlements: ents})
	require.NoError(t, err)
	ents["seats"] = "9999" // the caller's map does not alias the plan
	require.Equal(t, store.Plan{
		TenantID: tid, ID: pro.ID, ProductID: p.ID, Name: "pro",
		Entitlements: map[string]string{"seats": "10", "sso": "true"}, CreatedAt: now, UpdatedAt: now,
	}, pro)
	basic, err := e.CreatePlan(ctx, a, tid, engine.NewPlan{ProductID: p.ID, Name: "basic"})
	require.NoError(t, err)
	other, err := e.CreatePlan(ctx, a, tid, engine.NewPlan{ProductID: p2.ID, Name: "other"})
	require.NoError(t, err)

	gotPlan, err := e.GetPlan(ctx, a, tid, pro.ID)
	require.NoError(t, err)
	require.Equal(t, pro, gotPlan)
	plans, _, err := e.ListPlans(ctx, a, tid, p.ID, store.Page{})
	require.NoError(t, err)
	require.Equal(t, []store.Plan{pro, basic}, plans)
	plans, _, err = e.ListPlans(ctx, a, tid, p2.ID, store.Page{})
	require.NoError(t, err)
	require.Equal(t, []store.Plan{other}, plans)

	newEnts := map[string]string{"seats": "20"}
	pro, err = e.UpdatePlan(ctx, a, tid, pro.ID, engine.PlanPatch{Entitlements: &newEnts})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"seats": "20"}, pro.Entitlements, "entitlements are replaced")
	require.Equal(t, "pro", pro.Name)
	pro, err = e.UpdatePlan(ctx, a, tid, pro.ID, engine.PlanPatch{Name: resPtr("Pro"), Entitlements: &map[string]string{}})
	require.NoError(t, err)
	require.Equal(t, "Pro", pro.Name)
	require.Empty(t, pro.Entitlements)

	// Another tenant's product cannot hold this tenant's plan.
	_, adminB := f.addTenant("beta", tenant.Limits{})
	pb, err := e.CreateProduct(ctx, adminB, "beta", engine.NewProduct{Name: "Beta product"})
	require.NoError(t, err)
	_, err = e.CreatePlan(ctx, a, tid, engine.NewPlan{ProductID: pb.ID, Name: "stolen"})
	require.ErrorIs(t, err, engine.ErrInvalidInput)

	// A product with plans cannot be deleted.
	err = e.DeleteProduct(ctx, a, tid, p.ID)
	require.ErrorIs(t, err, engine.ErrInvalidInput)
	require.Contains(t, err.Error(), "plans")
	_, err = e.GetProduct(ctx, a, tid, p.ID)
	require.NoError(t, err, "still there")

	require.NoError(t, e.DeletePlan(ctx, a, tid, pro.ID))
	require.ErrorIs(t, e.DeleteProduct(ctx, a, tid, p.ID), engine.ErrInvalidInput, "one plan left")
	require.NoError(t, e.DeletePlan(ctx, a, tid, basic.ID))
	require.NoError(t, e.DeleteProduct(ctx, a, tid, p.ID))
	_, err = e.GetProduct(ctx, a, tid, p.ID)
	require.ErrorIs(t, err, engine.ErrNotFound)
	_, err = e.GetPlan(ctx, a, tid, pro.ID)
	require.ErrorIs(t, err, engine.ErrNotFound)

	deleted := resEvents(t, f, tid, engine.EventPlanDeleted)
	require.Len(t, deleted, 2)
	require.Equal(t, map[string]string{"plan": pro.ID, "product": p.ID}, deleted[0].Details)
}

func TestResourcesCustomers(t *testing.T) {
	f := newFixture(t)
	a, tid, ctx, e := f.admin, f.tenant, f.ctx, f.eng
	now := f.clock.Now()

	c, err := e.CreateCustomer(ctx, a, tid, engine.NewCustomer{Name: "Initech", Email: "Billing@Initech.example"})
	require.NoError(t, err)
	require.Equal(t, store.Customer{TenantID: tid, ID: c.ID, Name: "Initech", Email: "billing@initech.example", CreatedAt: now, UpdatedAt: now}, c)
	noEmail, err := e.CreateCustomer(ctx, a, tid, engine.NewCustomer{Name: "Hooli"})
	require.NoError(t, err)
	require.Empty(t, noEmail.Email)
	// Customers' emails need not be unique.
	_, err = e.CreateCustomer(ctx, a, tid, engine.NewCustomer{Name: "Initech EU", Email: "billing@initech.example"})
	require.NoError(t, err)

	got, err := e.GetCustomer(ctx, a, tid, c.ID)
	require.NoError(t, err)
	require.Equal(t, c, got)
	list, next, err := e.ListCustomers(ctx, a, tid, store.Page{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []store.Customer{c, noEmail}, list)
	require.NotEmpty(t, next)
	rest, next, err := e.ListCustomers(ctx, a, tid, store.Page{After: next, Limit: 2})
	require.NoError(t, err)
	require.Len(t, rest, 1)
	require.Empty(t, next)

	c, err = e.UpdateCustomer(ctx, a, tid, c.ID, engine.CustomerPatch{Name: resPtr("Initech Corp")})
	require.NoError(t, err)
	require.Equal(t, "Initech Corp", c.Name)
	require.Equal(t, "billing@initech.example", c.Email)
	c, err = e.UpdateCustomer(ctx, a, tid, c.ID, engine.CustomerPatch{Email: resPtr("")})
	require.NoError(t, err)
	require.Empty(t, c.Email, "an empty email removes it")

	require.NoError(t, e.DeleteCustomer(ctx, a, tid, c.ID))
	_, err = e.GetCustomer(ctx, a, tid, c.ID)
	require.ErrorIs(t, err, engine.ErrNotFound)
}

func TestResourcesMaxUsers(t *testing.T) {
	f := newFixture(t)
	tid, admin := f.addTenant("small", tenant.Limits{MaxUsers: 3}) // the admin is user 1
	ctx, e := f.ctx, f.eng
	create := func(email string) (store.User, error) {
		return e.CreateUser(ctx, admin, tid, engine.NewUser{Email: email, Name: "N"})
	}
	_, err := create("two@example.com")
	require.NoError(t, err)
	three, err := create("three@example.com")
	require.NoError(t, err)
	_, err = create("four@example.com")
	require.ErrorIs(t, err, engine.ErrInvalidInput)
	require.Contains(t, err.Error(), "3 users")
	_, err = e.CreateUser(ctx, engine.System(), tid, engine.NewUser{Email: "four@example.com", Name: "N"})
	require.ErrorIs(t, err, engine.ErrInvalidInput, "the system is bound by the tenant's license too")

	require.NoError(t, e.DeleteUser(ctx, admin, tid, three.ID))
	_, err = create("four@example.com")
	require.NoError(t, err, "room again after a delete")

	// The tenant record is unchanged by the counting.
	ten, err := e.GetTenant(ctx, admin, tid)
	require.NoError(t, err)
	require.Equal(t, int64(3), ten.License.Limits.MaxUsers)

	// Unlimited (0) in acme.
	for i := range 5 {
		_, err := e.CreateUser(ctx, f.admin, f.tenant, engine.NewUser{Email: fmt.Sprintf("u%d@example.com", i), Name: "N"})
		require.NoError(t, err)
	}
}

func TestResourcesMaxUsersConcurrent(t *testing.T) {
	f := newFixture(t)
	const max = 5
	tid, admin := f.addTenant("race", tenant.Limits{MaxUsers: max})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
	)
	for i := range 20 {
		wg.Go(func() {
			_, err := f.eng.CreateUser(context.Background(), admin, tid, engine.NewUser{Email: fmt.Sprintf("c%d@example.com", i), Name: "N"})
			if err == nil {
				mu.Lock()
				created++
				mu.Unlock()
				return
			}
			if !errors.Is(err, engine.ErrInvalidInput) {
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, max-1, created, "exactly the room left beside the admin")
	users, _, err := f.eng.ListUsers(f.ctx, admin, tid, store.Page{})
	require.NoError(t, err)
	require.Len(t, users, max)
}

func TestResourcesAudit(t *testing.T) {
	f := newFixture(t)
	a, tid, ctx, e := f.admin, f.tenant, f.ctx, f.eng
	actor := "admin:" + a.UserID

	u := resUser(t, f, "audited@example.com", "")
	_, err := e.UpdateUser(ctx, a, tid, u.ID, engine.UserPatch{Role: resPtr(store.RoleAdmin), Name: resPtr("Audited")})
	require.NoError(t, err)
	_, err = e.UpdateUser(ctx, a, tid, u.ID, engine.UserPatch{Status: resPtr(store.UserDeactivated)})
	require.NoError(t, err)
	_, err = e.UpdateUser(ctx, a, tid, u.ID, engine.UserPatch{})
	require.NoError(t, err)
	require.NoError(t, e.DeleteUser(ctx, a, tid, u.ID))
	g, err := e.CreateGroup(ctx, a, tid, engine.NewGroup{Name: "G"})
	require.NoError(t, err)
	_, err = e.UpdateGroup(ctx, a, tid, g.ID, engine.GroupPatch{Name: resPtr("G2")})
	require.NoError(t, err)
	require.NoError(t, e.DeleteGroup(ctx, a, tid, g.ID))
	p, err := e.CreateProduct(ctx, a, tid, engine.NewProduct{Name: "P"})
	require.NoError(t, err)
	_, err = e.UpdateProduct(ctx, a, tid, p.ID, engine.ProductPatch{Description: resPtr("d")})
	require.NoError(t, err)
	pl, err := e.CreatePlan(ctx, a, tid, engine.NewPlan{ProductID: p.ID, Name: "pl"})
	require.NoError(t, err)
	_, err = e.UpdatePlan(ctx, a, tid, pl.ID, engine.PlanPatch{Name: resPtr("pl2")})
	require.NoError(t, err)
	require.NoError(t, e.DeletePlan(ctx, a, tid, pl.ID))
	require.NoError(t, e.DeleteProduct(ctx, a, tid, p.ID))
	c, err := e.CreateCustomer(ctx, a, tid, engine.NewCustomer{Name: "C"})
	require.NoError(t, err)
	_, err = e.UpdateCustomer(ctx, a, tid, c.ID, engine.CustomerPatch{Name: resPtr("C2")})
	require.NoError(t, err)
	require.NoError(t, e.DeleteCustomer(ctx, a, tid, c.ID))
	// A refused change leaves no event.
	_, err = e.CreateCustomer(ctx, a, tid, engine.NewCustomer{})
	require.ErrorIs(t, err, engine.ErrInvalidInput)

	cases := []struct {
		typ     string
		n       int
		details map[string]string // of the first event
	}{
		// The fixture's admin was created by the system.
		{engine.EventUserCreated, 2, map[string]string{"user": a.UserID, "role": "admin"}},
		{engine.EventUserUpdated, 2, map[string]string{"user": u.ID, "fields": "name,role", "role_before": "member", "role": "admin"}},
		{engine.EventUserDeleted, 1, map[string]string{"user": u.ID}},
		{engine.EventGroupCreated, 1, map[string]string{"group": g.ID}},
		{engine.EventGroupUpdated, 1, map[string]string{"group": g.ID, "fields": "name"}},
		{engine.EventGroupDeleted, 1, map[string]string{"group": g.ID}},
		{engine.EventProductCreated, 1, map[string]string{"product": p.ID}},
		{engine.EventProductUpdated, 1, map[string]string{"product": p.ID, "fields": "description"}},
		{engine.EventProductDeleted, 1, map[string]string{"product": p.ID}},
		{engine.EventPlanCreated, 1, map[string]string{"plan": pl.ID, "product": p.ID}},
		{engine.EventPlanUpdated, 1, map[string]string{"plan": pl.ID, "product": p.ID, "fields": "name"}},
		{engine.EventPlanDeleted, 1, map[string]string{"plan": pl.ID, "product": p.ID}},
		{engine.EventCustomerCreated, 1, map[string]string{"customer": c.ID}},
		{engine.EventCustomerUpdated, 1, map[string]string{"customer": c.ID, "fields": "name"}},
		{engine.EventCustomerDeleted, 1, map[string]string{"customer": c.ID}},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			evs := resEvents(t, f, tid, tc.typ)
			require.Len(t, evs, tc.n)
			ev := evs[0]
			require.Equal(t, tid, ev.TenantID)
			require.Equal(t, tc.details, ev.Details)
			require.Equal(t, f.clock.Now(), ev.Time)
			require.NotEmpty(t, ev.ID)
			if tc.typ == engine.EventUserCreated {
				require.Equal(t, "system", ev.Actor)
				require.Equal(t, actor, evs[1].Actor)
			} else {
				require.Equal(t, actor, ev.Actor)
			}
		})
	}
	updates := resEvents(t, f, tid, engine.EventUserUpdated)
	require.Equal(t, store.SeverityWarning, updates[0].Severity, "a role change is a privilege change")
	require.Equal(t, store.SeverityInfo, updates[1].Severity)
	require.Equal(t, map[string]string{"user": u.ID, "fields": "status", "status_before": "active", "status": "deactivated"}, updates[1].Details)
}

// A token with users:create and users:edit must not be able to make an
// admin (for example its own user), nor change or remove one.
func TestResourcesTokenCannotTouchAdmins(t *testing.T) {
	f := newFixture(t)
	a, tid, ctx, e := f.admin, f.tenant, f.ctx, f.eng
	owner := resUser(t, f, "bot-owner@example.com", store.RoleMember)
	victim := resUser(t, f, "member@example.com", store.RoleMember)
	ct, err := e.CreateUserToken(ctx, a, tid, engine.NewUserToken{
		UserID: owner.ID, Name: "onboarding",
		Permissions: permission.NewSet(permission.ViewUsers, permission.CreateUsers, permission.EditUsers, permission.DeleteUsers),
	})
	require.NoError(t, err)
	_, p := f.login(ct)

	cases := []struct {
		name string
		call func() error
	}{
		{"create an admin", func() error {
			_, err := e.CreateUser(ctx, p, tid, engine.NewUser{Email: "evil@example.com", Name: "E", Role: store.RoleAdmin})
			return err
		}},
		{"promote its own user", func() error {
			_, err := e.UpdateUser(ctx, p, tid, owner.ID, engine.UserPatch{Role: resPtr(store.RoleAdmin)})
			return err
		}},
		{"change an admin's email", func() error {
			_, err := e.UpdateUser(ctx, p, tid, a.UserID, engine.UserPatch{Email: resPtr("evil@example.com")})
			return err
		}},
		{"deactivate an admin", func() error {
			_, err := e.UpdateUser(ctx, p, tid, a.UserID, engine.UserPatch{Status: resPtr(store.UserDeactivated)})
			return err
		}},
		{"delete an admin", func() error { return e.DeleteUser(ctx, p, tid, a.UserID) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.call(), engine.ErrAccessDenied)
		})
	}
	got, err := e.GetUser(ctx, p, tid, owner.ID)
	require.NoError(t, err)
	require.Equal(t, store.RoleMember, got.Role)
	admin, err := e.GetUser(ctx, a, tid, a.UserID)
	require.NoError(t, err)
	require.Equal(t, store.UserActive, admin.Status)
	require.Equal(t, "admin@acme.test", admin.Email)

	// What its permissions allow on members it may do.
	m, err := e.CreateUser(ctx, p, tid, engine.NewUser{Email: "new@example.com", Name: "N"})
	require.NoError(t, err)
	require.Equal(t, store.RoleMember, m.Role)
	_, err = e.UpdateUser(ctx, p, tid, victim.ID, engine.UserPatch{Name: resPtr("Renamed"), Role: resPtr(store.RoleMember)})
	require.NoError(t, err)
	require.NoError(t, e.DeleteUser(ctx, p, tid, victim.ID))

	// And nothing its permissions do not.
	_, err = e.CreateProduct(ctx, p, tid, engine.NewProduct{Name: "P"})
	require.ErrorIs(t, err, engine.ErrAccessDenied)
	_, err = e.CreateGroup(ctx, p, tid, engine.NewGroup{Name: "G"})
	require.ErrorIs(t, err, engine.ErrAccessDenied)
	_, _, err = e.ListCustomers(ctx, p, tid, store.Page{})
	require.ErrorIs(t, err, engine.ErrAccessDenied)

	// The refusals are audited (buffered: Close flushes them).
	require.NoError(t, e.Close())
	denied := resEvents(t, f, tid, engine.EventAccessDenied)
	var adminOnly int
	for _, ev := range denied {
		if ev.Reason == "admin_only" {
			adminOnly++
			require.Equal(t, ct.Token.ID, ev.TokenID)
		}
	}
	require.Equal(t, len(cases), adminOnly)
}
