package engine_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
	"github.com/licensekit/licensekit/tenant"
	"pgregory.net/rapid"
)

// The multi-tenant property test: three tenants, each with an admin and a
// token principal holding random permissions; random operations by random
// actors (admins, principals, an admin naming another tenant's user, a
// member posing as an admin) against random tenant IDs (including other
// tenants' and one that does not exist) and random record IDs (including
// other tenants' records, deleted ones and junk). A model of each tenant
// predicts every propOutcome: success, ErrAccessDenied, ErrNotFound or
// ErrInvalidInput. Any cross-tenant success or model mismatch fails the
// run, and rapid shrinks it to a minimal sequence.
//
// Runs are rapid's -rapid.checks (default 100); each run takes propSteps
// steps.

const propSteps = 50

// propOutcome is what an operation did, as the model predicts it.
type propOutcome string

const (
	propOutOK       propOutcome = "ok"
	propOutDenied   propOutcome = "access denied"
	propOutNotFound propOutcome = "not found"
	propOutInvalid  propOutcome = "invalid input"
)

func propClassify(err error) propOutcome {
	switch {
	case err == nil:
		return propOutOK
	case errors.Is(err, engine.ErrAccessDenied):
		return propOutDenied
	case errors.Is(err, engine.ErrNotFound):
		return propOutNotFound
	case errors.Is(err, engine.ErrInvalidInput):
		return propOutInvalid
	}
	return propOutcome("unexpected error: " + err.Error())
}

type propLicense struct {
	status store.LicenseStatus
	key    string // the current key
}

// propTenant is the model of one tenant.
type propTenant struct {
	users     map[string]bool // id -> is an admin
	products  map[string]bool
	customers map[string]bool
	licenses  map[string]*propLicense
}

type propActorKind int

const (
	propKindAdmin     propActorKind = iota // the tenant's admin
	propKindPrincipal                      // the tenant's token principal
	propKindImpostor                       // Admin{tenant, another tenant's admin user}
	propKindMember                         // Admin{tenant, a member user}
)

func (k propActorKind) String() string {
	return [...]string{"admin", "principal", "impostor", "member-as-admin"}[k]
}

type propActor struct {
	kind   propActorKind
	tenant string
	actor  engine.Actor
}

type propWorld struct {
	t       *rapid.T
	ctx     context.Context
	e       *engine.Engine
	tenants []string
	admins  map[string]engine.Admin
	prins   map[string]*engine.Principal
	model   map[string]*propTenant

	// every ID or key ever issued, in any tenant, deleted or not
	everUsers, everProducts, everCustomers, everLicenses, everKeys []string
	emails                                                         int

	stats *propStats
}

type propStats struct {
	runs, steps, crossAttempts, crossSuccesses, mismatches atomic.Int64
	byOutcome                                              [4]atomic.Int64
}

const propGhostTenant = "ghost"

func newPropWorld(t *rapid.T, stats *propStats) *propWorld {
	st := memstore.New()
	clock := &manualClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e, err := engine.New(engine.Config{
		Store: st, MasterKey: testMasterKey, Clock: clock.Now,
		// Unknown keys are validated on purpose, many times.
		GuessLimit: tenant.Rate{Limit: 1 << 40, Window: time.Minute},
	})
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	t.Cleanup(func() {
		_ = e.Close()
		_ = st.Close()
	})
	w := &propWorld{
		t: t, ctx: context.Background(), e: e,
		tenants: []string{"t0", "t1", "t2"},
		admins:  map[string]engine.Admin{}, prins: map[string]*engine.Principal{}, model: map[string]*propTenant{},
		stats: stats,
	}
	addr := netip.MustParseAddr("192.0.2.1")
	for i, tid := range w.tenants {
		propMust(t, "CreateTenant", propSecond(e.CreateTenant(w.ctx, engine.System(), engine.NewTenant{
			ID: tid, Name: tid, License: tenant.License{Plan: "pro", Status: tenant.StatusActive},
		})))
		admin, err := e.CreateUser(w.ctx, engine.System(), tid, engine.NewUser{Email: "admin@" + tid + ".test", Name: "Admin", Role: store.RoleAdmin})
		propMust(t, "CreateUser", err)
		w.admins[tid] = engine.Admin{TenantID: tid, UserID: admin.ID}
		w.model[tid] = &propTenant{
			users: map[string]bool{admin.ID: true}, products: map[string]bool{},
			customers: map[string]bool{}, licenses: map[string]*propLicense{},
		}
		w.everUsers = append(w.everUsers, admin.ID)

		bits := rapid.Uint64Range(0, permission.Full().Bits()).Draw(t, fmt.Sprintf("permissions of t%d", i))
		perms, err := permission.SetFromBits(bits & permission.Full().Bits())
		propMust(t, "SetFromBits", err)
		ct, err := e.CreateUserToken(w.ctx, w.admins[tid], tid, engine.NewUserToken{UserID: admin.ID, Name: "prop", Permissions: perms})
		propMust(t, "CreateUserToken", err)
		resp, err := e.Exchange(w.ctx, ct.Token.ID, ct.Credential.Reveal(), addr)
		propMust(t, "Exchange", err)
		p, err := e.Authenticate(w.ctx, resp.AccessToken.Reveal(), addr)
		propMust(t, "Authenticate", err)
		if !p.Permissions.Equal(perms) {
			t.Fatalf("principal of %s holds %s, want %s", tid, p.Permissions, perms)
		}
		w.prins[tid] = p
	}
	return w
}

func propMust(t *rapid.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func propSecond[T any](_ T, err error) error { return err }

// drawActor picks an actor of a random tenant.
func (w *propWorld) drawActor() propActor {
	tid := rapid.SampledFrom(w.tenants).Draw(w.t, "actor tenant")
	kind := rapid.SampledFrom([]propActorKind{propKindAdmin, propKindAdmin, propKindPrincipal, propKindPrincipal, propKindPrincipal, propKindImpostor, propKindMember}).Draw(w.t, "actor kind")
	switch kind {
	case propKindAdmin:
		return propActor{kind, tid, w.admins[tid]}
	case propKindPrincipal:
		return propActor{kind, tid, w.prins[tid]}
	case propKindImpostor:
		other := rapid.SampledFrom(w.others(tid)).Draw(w.t, "impostor's real tenant")
		return propActor{kind, tid, engine.Admin{TenantID: tid, UserID: w.admins[other].UserID}}
	}
	var members []string
	for id, admin := range w.model[tid].users {
		if !admin {
			members = append(members, id)
		}
	}
	slices.Sort(members)
	if len(members) == 0 {
		members = []string{uuid.NewString()}
	}
	return propActor{propKindMember, tid, engine.Admin{TenantID: tid, UserID: rapid.SampledFrom(members).Draw(w.t, "member")}}
}

func (w *propWorld) others(tid string) []string {
	var out []string
	for _, o := range w.tenants {
		if o != tid {
			out = append(out, o)
		}
	}
	return out
}

// drawTenant picks the tenant an operation names: usually the actor's,
// often another, sometimes one that does not exist.
func (w *propWorld) drawTenant(a propActor) string {
	return rapid.SampledFrom([]string{a.tenant, a.tenant, a.tenant, a.tenant, w.tenants[0], w.tenants[1], w.tenants[2], propGhostTenant}).Draw(w.t, "target tenant")
}

// drawID picks a record ID: one ever issued in any tenant, or junk.
func (w *propWorld) drawID(pool []string, label string) string {
	junk := []string{uuid.NewString(), "", "../" + w.tenants[0], "not-an-id"}
	return rapid.SampledFrom(append(slices.Clone(pool), junk...)).Draw(w.t, label)
}

// allowed is the model of authorization: may a act on target needing perm?
func (w *propWorld) allowed(a propActor, target string, perm permission.Permission) bool {
	if a.tenant != target {
		return false
	}
	switch a.kind {
	case propKindAdmin:
		return true
	case propKindPrincipal:
		return w.prins[a.tenant].Permissions.Has(perm)
	}
	return false
}

// modelOf returns the target tenant's model; the ghost tenant is empty.
func (w *propWorld) modelOf(tid string) *propTenant {
	if m := w.model[tid]; m != nil {
		return m
	}
	return &propTenant{users: map[string]bool{}, products: map[string]bool{}, customers: map[string]bool{}, licenses: map[string]*propLicense{}}
}

// check compares an propOutcome with the model's prediction.
func (w *propWorld) check(step int, what string, a propActor, target string, want propOutcome, err error) {
	w.t.Helper()
	got := propClassify(err)
	w.stats.steps.Add(1)
	if a.tenant != target || a.kind == propKindImpostor || a.kind == propKindMember {
		w.stats.crossAttempts.Add(1)
		if got == propOutOK {
			w.stats.crossSuccesses.Add(1)
			w.t.Fatalf("step %d: CROSS-TENANT SUCCESS: %s by %s of %s on tenant %s", step, what, a.kind, a.tenant, target)
		}
	}
	for i, o := range []propOutcome{propOutOK, propOutDenied, propOutNotFound, propOutInvalid} {
		if got == o {
			w.stats.byOutcome[i].Add(1)
		}
	}
	if got != want {
		w.stats.mismatches.Add(1)
		w.t.Fatalf("step %d: MODEL MISMATCH: %s by %s of %s on tenant %s: got %q, model says %q", step, what, a.kind, a.tenant, target, got, want)
	}
}

// mismatch reports a successful result that disagrees with the model.
func (w *propWorld) mismatch(step int, format string, args ...any) {
	w.t.Helper()
	w.stats.mismatches.Add(1)
	w.t.Fatalf("step %d: MODEL MISMATCH: "+format, append([]any{step}, args...)...)
}

// propCollect pages through a list with small pages.
func propCollect[T any](list func(store.Page) ([]T, string, error)) ([]T, error) {
	var out []T
	page := store.Page{Limit: 3}
	for {
		recs, next, err := list(page)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
		if next == "" {
			return out, nil
		}
		page.After = next
	}
}

func (w *propWorld) checkList(step int, kind, target string, gotIDs []string, gotTenants []string, want map[string]bool) {
	w.t.Helper()
	for _, tid := range gotTenants {
		if tid != target {
			w.stats.crossSuccesses.Add(1)
			w.t.Fatalf("step %d: CROSS-TENANT SUCCESS: listing %s of %s returned a record of %s", step, kind, target, tid)
		}
	}
	slices.Sort(gotIDs)
	wantIDs := slices.Sorted(maps.Keys(want))
	if !slices.Equal(gotIDs, wantIDs) {
		w.mismatch(step, "listing %s of %s: got %v, model has %v", kind, target, gotIDs, wantIDs)
	}
}

func (w *propWorld) checkRecord(step int, kind, target, wantID, gotID, gotTenant string) {
	w.t.Helper()
	if gotTenant != target {
		w.stats.crossSuccesses.Add(1)
		w.t.Fatalf("step %d: CROSS-TENANT SUCCESS: %s %s read in %s belongs to %s", step, kind, wantID, target, gotTenant)
	}
	if gotID != wantID {
		w.mismatch(step, "%s %s: got record %s", kind, wantID, gotID)
	}
}

// step performs one random operation and checks it against the model.
func (w *propWorld) step(i int) {
	ctx, e := w.ctx, w.e
	a := w.drawActor()
	target := w.drawTenant(a)
	m := w.modelOf(target)
	opName := rapid.SampledFrom([]string{
		"CreateUser", "GetUser", "ListUsers", "UpdateUser", "DeleteUser",
		"CreateProduct", "GetProduct", "ListProducts", "UpdateProduct", "DeleteProduct",
		"CreateCustomer", "GetCustomer", "ListCustomers", "UpdateCustomer", "DeleteCustomer",
		"CreateLicense", "CreateLicense", "GetLicense", "ListLicenses", "UpdateLicense",
		"SetLicenseStatus", "ReissueLicense", "DeleteLicense",
		"ValidateLicense", "ValidateLicense",
	}).Draw(w.t, "operation")
	// want returns the prediction for an operation needing perm whose
	// record exists (found) in the target tenant.
	want := func(perm permission.Permission, found bool) propOutcome {
		switch {
		case !w.allowed(a, target, perm):
			return propOutDenied
		case !found:
			return propOutNotFound
		}
		return propOutOK
	}
	name := fmt.Sprintf("%s(%s)", opName, target)

	switch opName {
	case "CreateUser":
		w.emails++
		u, err := e.CreateUser(ctx, a.actor, target, engine.NewUser{Email: fmt.Sprintf("u%d@prop.test", w.emails), Name: "U"})
		w.check(i, name, a, target, want(permission.CreateUsers, true), err)
		if err == nil {
			w.checkRecord(i, "user", target, u.ID, u.ID, u.TenantID)
			m.users[u.ID] = false
			w.everUsers = append(w.everUsers, u.ID)
		}
	case "GetUser":
		id := w.drawID(w.everUsers, "user id")
		u, err := e.GetUser(ctx, a.actor, target, id)
		_, found := m.users[id]
		w.check(i, name, a, target, want(permission.ViewUsers, found), err)
		if err == nil {
			w.checkRecord(i, "user", target, id, u.ID, u.TenantID)
		}
	case "ListUsers":
		us, err := propCollect(func(p store.Page) ([]store.User, string, error) { return e.ListUsers(ctx, a.actor, target, p) })
		w.check(i, name, a, target, want(permission.ViewUsers, true), err)
		if err == nil {
			w.checkList(i, "users", target, scIDs(us, scUserID), scIDs(us, func(u store.User) string { return u.TenantID }), m.users)
		}
	case "UpdateUser", "DeleteUser":
		id := w.drawID(w.everUsers, "user id")
		isAdmin, found := m.users[id]
		if isAdmin && a.kind == propKindAdmin && a.tenant == target && opName == "DeleteUser" {
			id, isAdmin, found = uuid.NewString(), false, false // an admin deleting the admin would end the run
		}
		perm := permission.EditUsers
		var err error
		if opName == "UpdateUser" {
			_, err = e.UpdateUser(ctx, a.actor, target, id, engine.UserPatch{Name: scPtr("Renamed")})
		} else {
			perm = permission.DeleteUsers
			err = e.DeleteUser(ctx, a.actor, target, id)
		}
		expect := want(perm, found)
		if expect == propOutOK && isAdmin && a.kind == propKindPrincipal {
			expect = propOutDenied // a token never touches an administrator
		}
		w.check(i, name, a, target, expect, err)
		if err == nil && opName == "DeleteUser" {
			delete(m.users, id)
		}

	case "CreateProduct":
		p, err := e.CreateProduct(ctx, a.actor, target, engine.NewProduct{Name: "P"})
		w.check(i, name, a, target, want(permission.EditProducts, true), err)
		if err == nil {
			w.checkRecord(i, "product", target, p.ID, p.ID, p.TenantID)
			m.products[p.ID] = true
			w.everProducts = append(w.everProducts, p.ID)
		}
	case "GetProduct":
		id := w.drawID(w.everProducts, "product id")
		p, err := e.GetProduct(ctx, a.actor, target, id)
		w.check(i, name, a, target, want(permission.ViewProducts, m.products[id]), err)
		if err == nil {
			w.checkRecord(i, "product", target, id, p.ID, p.TenantID)
		}
	case "ListProducts":
		ps, err := propCollect(func(p store.Page) ([]store.Product, string, error) { return e.ListProducts(ctx, a.actor, target, p) })
		w.check(i, name, a, target, want(permission.ViewProducts, true), err)
		if err == nil {
			w.checkList(i, "products", target, scIDs(ps, scProductID), scIDs(ps, func(p store.Product) string { return p.TenantID }), m.products)
		}
	case "UpdateProduct":
		id := w.drawID(w.everProducts, "product id")
		p, err := e.UpdateProduct(ctx, a.actor, target, id, engine.ProductPatch{Description: scPtr("changed")})
		w.check(i, name, a, target, want(permission.EditProducts, m.products[id]), err)
		if err == nil {
			w.checkRecord(i, "product", target, id, p.ID, p.TenantID)
		}
	case "DeleteProduct":
		id := w.drawID(w.everProducts, "product id")
		err := e.DeleteProduct(ctx, a.actor, target, id)
		w.check(i, name, a, target, want(permission.EditProducts, m.products[id]), err)
		if err == nil {
			delete(m.products, id)
		}

	case "CreateCustomer":
		c, err := e.CreateCustomer(ctx, a.actor, target, engine.NewCustomer{Name: "C"})
		w.check(i, name, a, target, want(permission.EditCustomers, true), err)
		if err == nil {
			w.checkRecord(i, "customer", target, c.ID, c.ID, c.TenantID)
			m.customers[c.ID] = true
			w.everCustomers = append(w.everCustomers, c.ID)
		}
	case "GetCustomer":
		id := w.drawID(w.everCustomers, "customer id")
		c, err := e.GetCustomer(ctx, a.actor, target, id)
		w.check(i, name, a, target, want(permission.ViewCustomers, m.customers[id]), err)
		if err == nil {
			w.checkRecord(i, "customer", target, id, c.ID, c.TenantID)
		}
	case "ListCustomers":
		cs, err := propCollect(func(p store.Page) ([]store.Customer, string, error) { return e.ListCustomers(ctx, a.actor, target, p) })
		w.check(i, name, a, target, want(permission.ViewCustomers, true), err)
		if err == nil {
			w.checkList(i, "customers", target, scIDs(cs, func(c store.Customer) string { return c.ID }),
				scIDs(cs, func(c store.Customer) string { return c.TenantID }), m.customers)
		}
	case "UpdateCustomer":
		id := w.drawID(w.everCustomers, "customer id")
		c, err := e.UpdateCustomer(ctx, a.actor, target, id, engine.CustomerPatch{Name: scPtr("Renamed")})
		w.check(i, name, a, target, want(permission.EditCustomers, m.customers[id]), err)
		if err == nil {
			w.checkRecord(i, "customer", target, id, c.ID, c.TenantID)
		}
	case "DeleteCustomer":
		id := w.drawID(w.everCustomers, "customer id")
		err := e.DeleteCustomer(ctx, a.actor, target, id)
		w.check(i, name, a, target, want(permission.EditCustomers, m.customers[id]), err)
		if err == nil {
			delete(m.customers, id)
		}

	case "CreateLicense":
		cust := w.drawID(w.everCustomers, "license customer")
		prod := w.drawID(w.everProducts, "license product")
		l, err := e.CreateLicense(ctx, a.actor, target, engine.NewLicense{CustomerID: cust, ProductID: prod})
		expect := want(permission.EditLicenses, true)
		if expect == propOutOK && (!m.customers[cust] || !m.products[prod]) {
			expect = propOutInvalid // references propMust be the target tenant's
		}
		w.check(i, name, a, target, expect, err)
		if err == nil {
			w.checkRecord(i, "license", target, l.License.ID, l.License.ID, l.License.TenantID)
			m.licenses[l.License.ID] = &propLicense{status: store.LicenseActive, key: l.Key.Reveal()}
			w.everLicenses = append(w.everLicenses, l.License.ID)
			w.everKeys = append(w.everKeys, l.Key.Reveal())
		}
	case "GetLicense":
		id := w.drawID(w.everLicenses, "license id")
		l, err := e.GetLicense(ctx, a.actor, target, id)
		w.check(i, name, a, target, want(permission.ViewLicenses, m.licenses[id] != nil), err)
		if err == nil {
			w.checkRecord(i, "license", target, id, l.ID, l.TenantID)
			if l.Status != m.licenses[id].status {
				w.mismatch(i, "license %s: status %s, model %s", id, l.Status, m.licenses[id].status)
			}
		}
	case "ListLicenses":
		ls, err := propCollect(func(p store.Page) ([]engine.License, string, error) { return e.ListLicenses(ctx, a.actor, target, p) })
		w.check(i, name, a, target, want(permission.ViewLicenses, true), err)
		if err == nil {
			ids := map[string]bool{}
			for id := range m.licenses {
				ids[id] = true
			}
			w.checkList(i, "licenses", target, scIDs(ls, scLicenseID), scIDs(ls, func(l engine.License) string { return l.TenantID }), ids)
		}
	case "UpdateLicense":
		id := w.drawID(w.everLicenses, "license id")
		l, err := e.UpdateLicense(ctx, a.actor, target, id, engine.LicensePatch{Attributes: &map[string]string{"step": fmt.Sprint(i)}})
		w.check(i, name, a, target, want(permission.EditLicenses, m.licenses[id] != nil), err)
		if err == nil {
			w.checkRecord(i, "license", target, id, l.ID, l.TenantID)
		}
	case "SetLicenseStatus":
		id := w.drawID(w.everLicenses, "license id")
		status := rapid.SampledFrom([]store.LicenseStatus{store.LicenseActive, store.LicenseSuspended, store.LicenseRevoked}).Draw(w.t, "status")
		_, err := e.SetLicenseStatus(ctx, a.actor, target, id, status)
		lic := m.licenses[id]
		expect := want(permission.EditLicenses, lic != nil)
		if expect == propOutOK && lic.status == store.LicenseRevoked && status != store.LicenseRevoked {
			expect = propOutInvalid // revocation is final
		}
		w.check(i, name, a, target, expect, err)
		if err == nil {
			lic.status = status
		}
	case "ReissueLicense":
		id := w.drawID(w.everLicenses, "license id")
		l, err := e.ReissueLicense(ctx, a.actor, target, id)
		w.check(i, name, a, target, want(permission.EditLicenses, m.licenses[id] != nil), err)
		if err == nil {
			w.checkRecord(i, "license", target, id, l.License.ID, l.License.TenantID)
			m.licenses[id].key = l.Key.Reveal()
			w.everKeys = append(w.everKeys, l.Key.Reveal())
		}
	case "DeleteLicense":
		id := w.drawID(w.everLicenses, "license id")
		err := e.DeleteLicense(ctx, a.actor, target, id)
		w.check(i, name, a, target, want(permission.EditLicenses, m.licenses[id] != nil), err)
		if err == nil {
			delete(m.licenses, id)
		}

	case "ValidateLicense":
		key := rapid.SampledFrom(append(slices.Clone(w.everKeys), engine.DefaultLicenseKeyFormat{}.Generate(), "junk")).Draw(w.t, "key")
		res, err := e.ValidateLicense(ctx, key, engine.ValidationScope{}, netip.MustParseAddr("203.0.113.9"))
		w.stats.steps.Add(1)
		if err != nil {
			w.mismatch(i, "ValidateLicense: %v", err)
		}
		wantRes := engine.ValidationResult{Code: engine.CodeNotFound}
		var wantID string
		for _, tid := range w.tenants {
			for id, l := range w.model[tid].licenses {
				if l.key == key {
					wantID = id
					wantRes.Code = map[store.LicenseStatus]engine.ValidationCode{
						store.LicenseActive: engine.CodeValid, store.LicenseSuspended: engine.CodeSuspended, store.LicenseRevoked: engine.CodeRevoked,
					}[l.status]
					wantRes.Valid = l.status == store.LicenseActive
				}
			}
		}
		gotID := ""
		if res.License != nil {
			gotID = res.License.ID
		}
		if res.Code != wantRes.Code || res.Valid != wantRes.Valid || gotID != wantID {
			w.mismatch(i, "ValidateLicense: got %s %v license %q, model %s %v license %q", res.Code, res.Valid, gotID, wantRes.Code, wantRes.Valid, wantID)
		}
	}
}

func TestMultiTenantProperty(t *testing.T) {
	stats := &propStats{}
	rapid.Check(t, func(rt *rapid.T) {
		stats.runs.Add(1)
		w := newPropWorld(rt, stats)
		for i := range propSteps {
			w.step(i)
		}
	})
	t.Logf("rapid: %d runs x %d steps = %d operations checked against the model; "+
		"outcomes ok=%d denied=%d not-found=%d invalid=%d; cross-tenant attempts=%d, cross-tenant successes=%d, model mismatches=%d",
		stats.runs.Load(), propSteps, stats.steps.Load(),
		stats.byOutcome[0].Load(), stats.byOutcome[1].Load(), stats.byOutcome[2].Load(), stats.byOutcome[3].Load(),
		stats.crossAttempts.Load(), stats.crossSuccesses.Load(), stats.mismatches.Load())
	if stats.crossSuccesses.Load() != 0 || stats.mismatches.Load() != 0 {
		t.Fatalf("%d cross-tenant successes, %d model mismatches", stats.crossSuccesses.Load(), stats.mismatches.Load())
	}
}
