package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

// This file holds the product's scenarios (issue 3, "Done when"), played
// at the engine level through the Go API with the fixture's manual clock.

// scSeeded is one of everything in a tenant, created by its admin.
type scSeeded struct {
	member   store.User
	group    store.Group
	product  store.Product
	plan     store.Plan
	customer store.Customer
	license  engine.CreatedLicense
}

// seed creates a member user (in a group), a product with a plan, a
// customer and an active license as admin.
func (f *fixture) scSeed(admin engine.Admin) scSeeded {
	f.t.Helper()
	ctx, tid := f.ctx, admin.TenantID
	var s scSeeded
	var err error
	s.member, err = f.eng.CreateUser(ctx, admin, tid, engine.NewUser{Email: "member@" + tid + ".test", Name: "Member"})
	require.NoError(f.t, err)
	s.group, err = f.eng.CreateGroup(ctx, admin, tid, engine.NewGroup{Name: "engineering"})
	require.NoError(f.t, err)
	require.NoError(f.t, f.eng.AddGroupMember(ctx, admin, tid, s.group.ID, s.member.ID))
	s.product, err = f.eng.CreateProduct(ctx, admin, tid, engine.NewProduct{Name: "Widget"})
	require.NoError(f.t, err)
	s.plan, err = f.eng.CreatePlan(ctx, admin, tid, engine.NewPlan{ProductID: s.product.ID, Name: "pro"})
	require.NoError(f.t, err)
	s.customer, err = f.eng.CreateCustomer(ctx, admin, tid, engine.NewCustomer{Name: "Initech", Email: "it@initech.test"})
	require.NoError(f.t, err)
	s.license, err = f.eng.CreateLicense(ctx, admin, tid, engine.NewLicense{
		CustomerID: s.customer.ID, ProductID: s.product.ID, PlanID: s.plan.ID,
		Attributes: map[string]string{"seats": "5"},
	})
	require.NoError(f.t, err)
	return s
}

// tokenSet creates a user token holding exactly perms, owned by the admin.
func (f *fixture) scTokenSet(admin engine.Admin, perms permission.Set) engine.CreatedUserToken {
	f.t.Helper()
	return f.token(admin, perms.Permissions()...)
}

// principal authenticates an access token from f.addr.
func (f *fixture) scPrincipal(resp *engine.TokenResponse) *engine.Principal {
	f.t.Helper()
	p, err := f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
	require.NoError(f.t, err)
	return p
}

// validate validates key with no scope from f.addr.
func (f *fixture) scValidate(key string) engine.ValidationResult {
	f.t.Helper()
	res, err := f.eng.ValidateLicense(f.ctx, key, engine.ValidationScope{}, f.addr)
	require.NoError(f.t, err)
	return res
}

func scPtr[T any](v T) *T { return &v }

// op is one engine operation performed by actor, reduced to its error.
type scOp struct {
	name string
	do   func(actor engine.Actor) error
}

// editOps lists every operation that changes something in the tenant:
// users, groups, products, plans, customers, licenses, user tokens and
// the tenant itself. tokenID is a user token of the tenant.
func (f *fixture) scEditOps(tid string, s scSeeded, tokenID string) []scOp {
	ctx, e := f.ctx, f.eng
	lic := s.license.License.ID
	err1 := func(_ any, err error) error { return err }
	return []scOp{
		{"CreateUser", func(a engine.Actor) error {
			return err1(e.CreateUser(ctx, a, tid, engine.NewUser{Email: "new@" + tid + ".test", Name: "New"}))
		}},
		{"UpdateUser", func(a engine.Actor) error {
			return err1(e.UpdateUser(ctx, a, tid, s.member.ID, engine.UserPatch{Name: scPtr("Renamed")}))
		}},
		{"UpdateUserStatus", func(a engine.Actor) error {
			return err1(e.UpdateUser(ctx, a, tid, s.member.ID, engine.UserPatch{Status: scPtr(store.UserDeactivated)}))
		}},
		{"DeleteUser", func(a engine.Actor) error { return e.DeleteUser(ctx, a, tid, s.member.ID) }},
		{"CreateGroup", func(a engine.Actor) error {
			return err1(e.CreateGroup(ctx, a, tid, engine.NewGroup{Name: "ops"}))
		}},
		{"UpdateGroup", func(a engine.Actor) error {
			return err1(e.UpdateGroup(ctx, a, tid, s.group.ID, engine.GroupPatch{Name: scPtr("renamed")}))
		}},
		{"AddGroupMember", func(a engine.Actor) error { return e.AddGroupMember(ctx, a, tid, s.group.ID, s.member.ID) }},
		{"RemoveGroupMember", func(a engine.Actor) error { return e.RemoveGroupMember(ctx, a, tid, s.group.ID, s.member.ID) }},
		{"DeleteGroup", func(a engine.Actor) error { return e.DeleteGroup(ctx, a, tid, s.group.ID) }},
		{"CreateProduct", func(a engine.Actor) error {
			return err1(e.CreateProduct(ctx, a, tid, engine.NewProduct{Name: "Gadget"}))
		}},
		{"UpdateProduct", func(a engine.Actor) error {
			return err1(e.UpdateProduct(ctx, a, tid, s.product.ID, engine.ProductPatch{Name: scPtr("Renamed")}))
		}},
		{"DeleteProduct", func(a engine.Actor) error { return e.DeleteProduct(ctx, a, tid, s.product.ID) }},
		{"CreatePlan", func(a engine.Actor) error {
			return err1(e.CreatePlan(ctx, a, tid, engine.NewPlan{ProductID: s.product.ID, Name: "basic"}))
		}},
		{"UpdatePlan", func(a engine.Actor) error {
			return err1(e.UpdatePlan(ctx, a, tid, s.plan.ID, engine.PlanPatch{Name: scPtr("renamed")}))
		}},
		{"DeletePlan", func(a engine.Actor) error { return e.DeletePlan(ctx, a, tid, s.plan.ID) }},
		{"CreateCustomer", func(a engine.Actor) error {
			return err1(e.CreateCustomer(ctx, a, tid, engine.NewCustomer{Name: "Globex"}))
		}},
		{"UpdateCustomer", func(a engine.Actor) error {
			return err1(e.UpdateCustomer(ctx, a, tid, s.customer.ID, engine.CustomerPatch{Name: scPtr("Renamed")}))
		}},
		{"DeleteCustomer", func(a engine.Actor) error { return e.DeleteCustomer(ctx, a, tid, s.customer.ID) }},
		{"CreateLicense", func(a engine.Actor) error {
			return err1(e.CreateLicense(ctx, a, tid, engine.NewLicense{CustomerID: s.customer.ID, ProductID: s.product.ID}))
		}},
		{"UpdateLicense", func(a engine.Actor) error {
			return err1(e.UpdateLicense(ctx, a, tid, lic, engine.LicensePatch{Attributes: &map[string]string{"seats": "500"}}))
		}},
		{"SuspendLicense", func(a engine.Actor) error {
			return err1(e.SetLicenseStatus(ctx, a, tid, lic, store.LicenseSuspended))
		}},
		{"RevokeLicense", func(a engine.Actor) error {
			return err1(e.SetLicenseStatus(ctx, a, tid, lic, store.LicenseRevoked))
		}},
		{"ReissueLicense", func(a engine.Actor) error { return err1(e.ReissueLicense(ctx, a, tid, lic)) }},
		{"DeleteLicense", func(a engine.Actor) error { return e.DeleteLicense(ctx, a, tid, lic) }},
		{"CreateUserToken", func(a engine.Actor) error {
			return err1(e.CreateUserToken(ctx, a, tid, engine.NewUserToken{UserID: s.member.ID, Name: "x", Permissions: permission.Full()}))
		}},
		{"SetUserTokenPermissions", func(a engine.Actor) error {
			return err1(e.SetUserTokenPermissions(ctx, a, tid, tokenID, permission.Full()))
		}},
		{"RotateUserToken", func(a engine.Actor) error { return err1(e.RotateUserToken(ctx, a, tid, tokenID)) }},
		{"DeactivateUserToken", func(a engine.Actor) error { return err1(e.DeactivateUserToken(ctx, a, tid, tokenID)) }},
		{"ReactivateUserToken", func(a engine.Actor) error { return err1(e.ReactivateUserToken(ctx, a, tid, tokenID)) }},
		{"DeleteUserToken", func(a engine.Actor) error { return e.DeleteUserToken(ctx, a, tid, tokenID) }},
		{"SetTenantPolicy", func(a engine.Actor) error {
			return err1(e.SetTenantPolicy(ctx, a, tid, tenant.Policy{}))
		}},
		{"SetTenantLicense", func(a engine.Actor) error {
			return err1(e.SetTenantLicense(ctx, a, tid, tenant.License{Plan: "enterprise", Status: tenant.StatusActive}))
		}},
		{"SuspendTenant", func(a engine.Actor) error { return err1(e.SuspendTenant(ctx, a, tid)) }},
	}
}

func scIDs[T any](recs []T, id func(T) string) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = id(r)
	}
	return out
}

func scUserID(u store.User) string        { return u.ID }
func scProductID(p store.Product) string  { return p.ID }
func scLicenseID(l engine.License) string { return l.ID }

func TestReadOnlyIntegration(t *testing.T) {
	f := newFixture(t)
	s := f.scSeed(f.admin)
	preset, ok := permission.LookupPreset(permission.PresetReadOnlyIntegration)
	require.True(t, ok)
	require.True(t, preset.Set.Equal(permission.NewSet(permission.ViewUsers, permission.ViewLicenses, permission.ViewProducts)))
	ct := f.scTokenSet(f.admin, preset.Set)
	resp, p := f.login(ct)
	require.True(t, resp.Scope.Equal(preset.Set))

	t.Run("lists", func(t *testing.T) {
		users, _, err := f.eng.ListUsers(f.ctx, p, f.tenant, store.Page{})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{f.admin.UserID, s.member.ID}, scIDs(users, scUserID))
		lics, _, err := f.eng.ListLicenses(f.ctx, p, f.tenant, store.Page{})
		require.NoError(t, err)
		require.Equal(t, []string{s.license.License.ID}, scIDs(lics, scLicenseID))
		prods, _, err := f.eng.ListProducts(f.ctx, p, f.tenant, store.Page{})
		require.NoError(t, err)
		require.Equal(t, []string{s.product.ID}, scIDs(prods, scProductID))

		_, err = f.eng.GetUser(f.ctx, p, f.tenant, s.member.ID)
		require.NoError(t, err)
		_, err = f.eng.GetLicense(f.ctx, p, f.tenant, s.license.License.ID)
		require.NoError(t, err)
		_, err = f.eng.GetProduct(f.ctx, p, f.tenant, s.product.ID)
		require.NoError(t, err)
	})

	t.Run("views outside the preset", func(t *testing.T) {
		_, _, err := f.eng.ListCustomers(f.ctx, p, f.tenant, store.Page{})
		require.ErrorIs(t, err, engine.ErrAccessDenied)
		_, _, err = f.eng.ListUserTokens(f.ctx, p, f.tenant, store.Page{})
		require.ErrorIs(t, err, engine.ErrAccessDenied)
	})

	for _, o := range f.scEditOps(f.tenant, s, ct.Token.ID) {
		t.Run("denied/"+o.name, func(t *testing.T) {
			require.ErrorIs(t, o.do(p), engine.ErrAccessDenied)
		})
	}

	t.Run("nothing changed", func(t *testing.T) {
		users, _, err := f.eng.ListUsers(f.ctx, f.admin, f.tenant, store.Page{})
		require.NoError(t, err)
		require.Len(t, users, 2)
		for _, u := range users {
			require.Equal(t, store.UserActive, u.Status)
			require.NotEqual(t, "Renamed", u.Name)
		}
		require.Equal(t, engine.CodeValid, f.scValidate(s.license.Key.Reveal()).Code)
		prods, _, err := f.eng.ListProducts(f.ctx, f.admin, f.tenant, store.Page{})
		require.NoError(t, err)
		require.Equal(t, []store.Product{s.product}, prods)
		tok, err := f.eng.GetUserToken(f.ctx, f.admin, f.tenant, ct.Token.ID)
		require.NoError(t, err)
		require.Equal(t, store.TokenActive, tok.Status)
		require.True(t, tok.Permissions.Equal(preset.Set))
		require.EqualValues(t, 1, tok.Generation)
		_, err = f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
		require.NoError(t, err)
	})
}

func TestLicenseProvisioning(t *testing.T) {
	f := newFixture(t)
	s := f.scSeed(f.admin)
	preset, _ := permission.LookupPreset(permission.PresetLicenseProvisioning)
	_, p := f.login(f.scTokenSet(f.admin, preset.Set))
	expires := f.clock.Now().Add(30 * 24 * time.Hour)

	created, err := f.eng.CreateLicense(f.ctx, p, f.tenant, engine.NewLicense{
		CustomerID: s.customer.ID, ProductID: s.product.ID, PlanID: s.plan.ID,
		ExpiresAt: expires, Attributes: map[string]string{"seats": "10"},
	})
	require.NoError(t, err)
	require.False(t, created.Key.IsZero())
	id := created.License.ID
	res := f.scValidate(created.Key.Reveal())
	require.Equal(t, engine.CodeValid, res.Code)
	require.True(t, res.Valid)
	require.Equal(t, map[string]string{"seats": "10"}, res.License.Attributes)
	require.True(t, expires.Equal(res.License.ExpiresAt))

	t.Run("update attributes", func(t *testing.T) {
		lic, err := f.eng.UpdateLicense(f.ctx, p, f.tenant, id, engine.LicensePatch{Attributes: &map[string]string{"seats": "25"}})
		require.NoError(t, err)
		require.Equal(t, "25", lic.Attributes["seats"])
		got, err := f.eng.GetLicense(f.ctx, p, f.tenant, id)
		require.NoError(t, err)
		require.Equal(t, "25", got.Attributes["seats"])
		require.Equal(t, "25", f.scValidate(created.Key.Reveal()).License.Attributes["seats"])
	})
	t.Run("suspend and reinstate", func(t *testing.T) {
		_, err := f.eng.SetLicenseStatus(f.ctx, p, f.tenant, id, store.LicenseSuspended)
		require.NoError(t, err)
		require.Equal(t, engine.CodeSuspended, f.scValidate(created.Key.Reveal()).Code)
		_, err = f.eng.SetLicenseStatus(f.ctx, p, f.tenant, id, store.LicenseActive)
		require.NoError(t, err)
		require.Equal(t, engine.CodeValid, f.scValidate(created.Key.Reveal()).Code)
	})
	t.Run("reissue", func(t *testing.T) {
		re, err := f.eng.ReissueLicense(f.ctx, p, f.tenant, id)
		require.NoError(t, err)
		require.NotEqual(t, created.Key.Reveal(), re.Key.Reveal())
		require.Equal(t, engine.CodeNotFound, f.scValidate(created.Key.Reveal()).Code)
		require.Equal(t, engine.CodeValid, f.scValidate(re.Key.Reveal()).Code)
		created = re
	})
	t.Run("lists", func(t *testing.T) {
		lics, _, err := f.eng.ListLicenses(f.ctx, p, f.tenant, store.Page{})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{s.license.License.ID, id}, scIDs(lics, scLicenseID))
		_, _, err = f.eng.ListCustomers(f.ctx, p, f.tenant, store.Page{})
		require.NoError(t, err)
		_, _, err = f.eng.ListUsers(f.ctx, p, f.tenant, store.Page{})
		require.NoError(t, err)
	})
	t.Run("revoke is final", func(t *testing.T) {
		_, err := f.eng.SetLicenseStatus(f.ctx, p, f.tenant, id, store.LicenseRevoked)
		require.NoError(t, err)
		require.Equal(t, engine.CodeRevoked, f.scValidate(created.Key.Reveal()).Code)
		_, err = f.eng.SetLicenseStatus(f.ctx, p, f.tenant, id, store.LicenseActive)
		require.ErrorIs(t, err, engine.ErrInvalidInput)
	})
	t.Run("references must be the tenant's", func(t *testing.T) {
		_, err := f.eng.CreateLicense(f.ctx, p, f.tenant, engine.NewLicense{CustomerID: "nope", ProductID: s.product.ID})
		require.ErrorIs(t, err, engine.ErrInvalidInput)
	})
	for _, o := range []scOp{
		{"CreateCustomer", func(a engine.Actor) error {
			_, err := f.eng.CreateCustomer(f.ctx, a, f.tenant, engine.NewCustomer{Name: "x"})
			return err
		}},
		{"CreateProduct", func(a engine.Actor) error {
			_, err := f.eng.CreateProduct(f.ctx, a, f.tenant, engine.NewProduct{Name: "x"})
			return err
		}},
		{"CreateUser", func(a engine.Actor) error {
			_, err := f.eng.CreateUser(f.ctx, a, f.tenant, engine.NewUser{Email: "x@x.test", Name: "x"})
			return err
		}},
	} {
		t.Run("denied/"+o.name, func(t *testing.T) { require.ErrorIs(t, o.do(p), engine.ErrAccessDenied) })
	}
}

func TestUserOnboarding(t *testing.T) {
	f := newFixture(t)
	s := f.scSeed(f.admin)
	preset, _ := permission.LookupPreset(permission.PresetUserOnboarding)
	_, p := f.login(f.scTokenSet(f.admin, preset.Set))

	u, err := f.eng.CreateUser(f.ctx, p, f.tenant, engine.NewUser{Email: "New.Hire@Acme.test", Name: "New Hire"})
	require.NoError(t, err)
	require.Equal(t, store.RoleMember, u.Role)
	require.Equal(t, store.UserActive, u.Status)
	require.Equal(t, "new.hire@acme.test", u.Email)
	got, err := f.eng.GetUser(f.ctx, p, f.tenant, u.ID)
	require.NoError(t, err)
	require.Equal(t, u, got)
	users, _, err := f.eng.ListUsers(f.ctx, p, f.tenant, store.Page{})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{f.admin.UserID, s.member.ID, u.ID}, scIDs(users, scUserID))
	_, err = f.eng.CreateUser(f.ctx, p, f.tenant, engine.NewUser{Email: "new.hire@acme.test", Name: "Again"})
	require.ErrorIs(t, err, engine.ErrAlreadyExists)
	_, _, err = f.eng.ListProducts(f.ctx, p, f.tenant, store.Page{})
	require.NoError(t, err)

	for _, o := range []scOp{
		{"CreateAdmin", func(a engine.Actor) error {
			_, err := f.eng.CreateUser(f.ctx, a, f.tenant, engine.NewUser{Email: "boss@acme.test", Name: "Boss", Role: store.RoleAdmin})
			return err
		}},
		{"UpdateUser", func(a engine.Actor) error {
			_, err := f.eng.UpdateUser(f.ctx, a, f.tenant, u.ID, engine.UserPatch{Name: scPtr("x")})
			return err
		}},
		{"DeleteUser", func(a engine.Actor) error { return f.eng.DeleteUser(f.ctx, a, f.tenant, u.ID) }},
		{"ListLicenses", func(a engine.Actor) error {
			_, _, err := f.eng.ListLicenses(f.ctx, a, f.tenant, store.Page{})
			return err
		}},
		{"CreateGroup", func(a engine.Actor) error {
			_, err := f.eng.CreateGroup(f.ctx, a, f.tenant, engine.NewGroup{Name: "x"})
			return err
		}},
	} {
		t.Run("denied/"+o.name, func(t *testing.T) { require.ErrorIs(t, o.do(p), engine.ErrAccessDenied) })
	}
}

func TestValidateLicense(t *testing.T) {
	f := newFixture(t)
	s := f.scSeed(f.admin)
	ctx, e, admin, tid := f.ctx, f.eng, f.admin, f.tenant
	newLicense := func(t *testing.T, in engine.NewLicense) engine.CreatedLicense {
		t.Helper()
		in.CustomerID, in.ProductID = s.customer.ID, s.product.ID
		l, err := e.CreateLicense(ctx, admin, tid, in)
		require.NoError(t, err)
		return l
	}
	validate := func(t *testing.T, key string, scope engine.ValidationScope) engine.ValidationResult {
		t.Helper()
		// No token at all: only the key and a client address.
		res, err := e.ValidateLicense(ctx, key, scope, netip.MustParseAddr("198.51.100.7"))
		require.NoError(t, err)
		require.Equal(t, res.Code == engine.CodeValid, res.Valid)
		return res
	}

	t.Run("VALID with public fields", func(t *testing.T) {
		res := validate(t, s.license.Key.Reveal(), engine.ValidationScope{ProductID: s.product.ID, PlanID: s.plan.ID})
		require.Equal(t, engine.ValidationResult{Valid: true, Code: engine.CodeValid, License: &engine.PublicLicense{
			ID: s.license.License.ID, ProductID: s.product.ID, PlanID: s.plan.ID, CustomerID: s.customer.ID,
			Status: store.LicenseActive, Attributes: map[string]string{"seats": "5"},
		}, Quota: res.Quota}, res)
		require.True(t, res.Quota.Allowed)
	})
	t.Run("VALID for other spellings of the key", func(t *testing.T) {
		key := s.license.Key.Reveal()
		for _, k := range []string{scLower(key), string(bytes.ReplaceAll([]byte(key), []byte("-"), nil)), " " + key + " "} {
			require.Equal(t, engine.CodeValid, validate(t, k, engine.ValidationScope{}).Code, k)
		}
	})

	notFound := engine.ValidationResult{Code: engine.CodeNotFound}
	t.Run("NOT_FOUND", func(t *testing.T) {
		for name, key := range map[string]string{
			"unknown well-formed": engine.DefaultLicenseKeyFormat{}.Generate(),
			"malformed":           "not-a-license-key",
			"empty":               "",
			"bad checksum":        scFlipLastKeyChar(s.license.Key.Reveal()),
			"huge":                string(bytes.Repeat([]byte("A"), 10000)),
		} {
			require.Equal(t, notFound, validate(t, key, engine.ValidationScope{}), name)
		}
	})
	t.Run("EXPIRED exclusive at ExpiresAt", func(t *testing.T) {
		exp := f.clock.Now().Add(time.Hour)
		l := newLicense(t, engine.NewLicense{ExpiresAt: exp})
		f.clock.Advance(time.Hour - time.Nanosecond)
		require.Equal(t, engine.CodeValid, validate(t, l.Key.Reveal(), engine.ValidationScope{}).Code)
		f.clock.Advance(time.Nanosecond)
		res := validate(t, l.Key.Reveal(), engine.ValidationScope{})
		require.Equal(t, engine.CodeExpired, res.Code)
		require.NotNil(t, res.License)
		require.Equal(t, l.License.ID, res.License.ID)
	})
	t.Run("SUSPENDED then reinstated", func(t *testing.T) {
		l := newLicense(t, engine.NewLicense{})
		_, err := e.SetLicenseStatus(ctx, admin, tid, l.License.ID, store.LicenseSuspended)
		require.NoError(t, err)
		res := validate(t, l.Key.Reveal(), engine.ValidationScope{})
		require.Equal(t, engine.CodeSuspended, res.Code)
		require.Equal(t, store.LicenseSuspended, res.License.Status)
		_, err = e.SetLicenseStatus(ctx, admin, tid, l.License.ID, store.LicenseActive)
		require.NoError(t, err)
		require.Equal(t, engine.CodeValid, validate(t, l.Key.Reveal(), engine.ValidationScope{}).Code)
	})
	t.Run("REVOKED", func(t *testing.T) {
		l := newLicense(t, engine.NewLicense{})
		_, err := e.SetLicenseStatus(ctx, admin, tid, l.License.ID, store.LicenseRevoked)
		require.NoError(t, err)
		require.Equal(t, engine.CodeRevoked, validate(t, l.Key.Reveal(), engine.ValidationScope{}).Code)
	})
	t.Run("PRODUCT_MISMATCH", func(t *testing.T) {
		other, err := e.CreateProduct(ctx, admin, tid, engine.NewProduct{Name: "Other"})
		require.NoError(t, err)
		res := validate(t, s.license.Key.Reveal(), engine.ValidationScope{ProductID: other.ID})
		require.Equal(t, engine.CodeProductMismatch, res.Code)
		require.False(t, res.Valid)
		res = validate(t, s.license.Key.Reveal(), engine.ValidationScope{ProductID: "no-such-product"})
		require.Equal(t, engine.CodeProductMismatch, res.Code)
	})
	t.Run("reissue: old key NOT_FOUND at once, new key VALID", func(t *testing.T) {
		l := newLicense(t, engine.NewLicense{})
		re, err := e.ReissueLicense(ctx, admin, tid, l.License.ID)
		require.NoError(t, err)
		require.Equal(t, notFound, validate(t, l.Key.Reveal(), engine.ValidationScope{}))
		res := validate(t, re.Key.Reveal(), engine.ValidationScope{})
		require.Equal(t, engine.CodeValid, res.Code)
		require.Equal(t, l.License.ID, res.License.ID)
	})
	t.Run("unknown key answers alike whatever exists elsewhere", func(t *testing.T) {
		// A key of another tenant validates as that tenant's license...
		_, adminB := f.addTenant("beta", tenant.Limits{})
		fb := *f
		fb.admin, fb.tenant = adminB, "beta"
		sb := fb.scSeed(adminB)
		resB := validate(t, sb.license.Key.Reveal(), engine.ValidationScope{})
		require.Equal(t, engine.CodeValid, resB.Code)
		require.Equal(t, sb.license.License.ID, resB.License.ID)
		// ...and a key that does not exist, one that was deleted and a
		// malformed one all get the very same answer.
		l := newLicense(t, engine.NewLicense{})
		require.NoError(t, e.DeleteLicense(ctx, admin, tid, l.License.ID))
		deleted := validate(t, l.Key.Reveal(), engine.ValidationScope{})
		random := validate(t, engine.DefaultLicenseKeyFormat{}.Generate(), engine.ValidationScope{})
		scoped := validate(t, engine.DefaultLicenseKeyFormat{}.Generate(), engine.ValidationScope{ProductID: s.product.ID})
		malformed := validate(t, "x", engine.ValidationScope{})
		require.Equal(t, notFound, deleted)
		require.Equal(t, deleted, random)
		require.Equal(t, deleted, scoped)
		require.Equal(t, deleted, malformed)
	})
}

func scLower(s string) string { return string(bytes.ToLower([]byte(s))) }

// scFlipLastKeyChar changes the last character of a license key, which
// breaks its checksum.
func scFlipLastKeyChar(k string) string {
	b := []byte(k)
	if b[len(b)-1] == '0' {
		b[len(b)-1] = '1'
	} else {
		b[len(b)-1] = '0'
	}
	return string(b)
}

func TestTenantLicenseInvalidEverywhere(t *testing.T) {
	type setup struct {
		resp *engine.TokenResponse
		ct   engine.CreatedUserToken
		key  string
	}
	prepare := func(f *fixture) setup {
		s := f.scSeed(f.admin)
		ct := f.token(f.admin, permission.ViewUsers)
		resp, _ := f.login(ct)
		return setup{resp: resp, ct: ct, key: s.license.Key.Reveal()}
	}
	// everything checks each entry point and returns the next refresh token.
	everything := func(t *testing.T, f *fixture, st *setup, want error) {
		t.Helper()
		check := func(name string, err error) {
			t.Helper()
			if want == nil {
				require.NoError(t, err, name)
			} else {
				require.ErrorIs(t, err, want, name)
				require.NotErrorIs(t, err, engine.ErrInvalidToken, name)
			}
		}
		_, err := f.eng.Authenticate(f.ctx, st.resp.AccessToken.Reveal(), f.addr)
		check("Authenticate", err)
		_, err = f.eng.Exchange(f.ctx, st.ct.Token.ID, st.ct.Credential.Reveal(), f.addr)
		check("Exchange", err)
		next, err := f.eng.Refresh(f.ctx, st.resp.RefreshToken.Reveal(), f.addr)
		check("Refresh", err)
		if err == nil {
			st.resp = next
		}
		_, err = f.eng.ValidateLicense(f.ctx, st.key, engine.ValidationScope{}, f.addr)
		check("ValidateLicense", err)
	}

	t.Run("expired, exclusive at ExpiresAt", func(t *testing.T) {
		f := newFixture(t)
		st := prepare(f)
		exp := f.clock.Now().Add(time.Hour)
		_, err := f.eng.SetTenantLicense(f.ctx, engine.System(), f.tenant, tenant.License{Plan: "pro", Status: tenant.StatusActive, ExpiresAt: exp})
		require.NoError(t, err)
		f.clock.Advance(time.Hour - time.Nanosecond)
		everything(t, f, &st, nil)
		f.clock.Advance(time.Nanosecond)
		everything(t, f, &st, engine.ErrInvalidLicense)
		_, err = f.eng.SetTenantLicense(f.ctx, engine.System(), f.tenant, tenant.License{Plan: "pro", Status: tenant.StatusActive, ExpiresAt: exp.Add(24 * time.Hour)})
		require.NoError(t, err)
		everything(t, f, &st, nil)
	})
	t.Run("suspended", func(t *testing.T) {
		f := newFixture(t)
		st := prepare(f)
		_, err := f.eng.SuspendTenant(f.ctx, engine.System(), f.tenant)
		require.NoError(t, err)
		everything(t, f, &st, engine.ErrInvalidLicense)
		_, err = f.eng.SetTenantLicense(f.ctx, engine.System(), f.tenant, tenant.License{Plan: "pro", Status: tenant.StatusActive})
		require.NoError(t, err)
		everything(t, f, &st, nil)
	})
	t.Run("other tenants unaffected", func(t *testing.T) {
		f := newFixture(t)
		_, adminB := f.addTenant("beta", tenant.Limits{})
		_, err := f.eng.SuspendTenant(f.ctx, engine.System(), f.tenant)
		require.NoError(t, err)
		fb := *f
		fb.admin, fb.tenant = adminB, "beta"
		st := prepare(&fb)
		everything(t, &fb, &st, nil)
	})
}

var scQuotaLimits = tenant.Limits{APIRequests: 5, APIWindow: time.Minute}

// listUsers makes one principal request (users:view) in its tenant.
func (f *fixture) scListUsers(p *engine.Principal) error {
	_, _, err := f.eng.ListUsers(f.ctx, p, p.TenantID, store.Page{})
	return err
}

func scRequireLimit(t *testing.T, err error) *engine.LimitError {
	t.Helper()
	require.ErrorIs(t, err, engine.ErrLicenseLimit)
	require.NotErrorIs(t, err, engine.ErrAccessDenied)
	var le *engine.LimitError
	require.True(t, errors.As(err, &le), "a *engine.LimitError")
	require.Greater(t, le.RetryAfter(), time.Duration(0))
	require.Equal(t, engine.ErrLicenseLimit, le.Kind)
	return le
}

func TestAPIQuota(t *testing.T) {
	f := newFixture(t)
	a, adminA := f.addTenant("quota-a", scQuotaLimits)
	b, adminB := f.addTenant("quota-b", scQuotaLimits)
	respA, pa := f.login(f.token(adminA, permission.ViewUsers))
	respB, _ := f.login(f.token(adminB, permission.ViewUsers))
	ctA := f.token(adminA, permission.ViewUsers)
	f.clock.Advance(time.Minute) // the exchanges were charged: start full

	for i := range 5 {
		require.NoError(t, f.scListUsers(pa), "request %d", i+1)
	}
	le := scRequireLimit(t, f.scListUsers(pa))
	require.EqualValues(t, 5, le.Decision.Limit)
	require.False(t, pa.Quota.Allowed)
	scRequireLimit(t, f.eng.Authorize(context.Background(), pa, permission.ViewUsers))
	_, err := f.eng.Exchange(f.ctx, ctA.Token.ID, ctA.Credential.Reveal(), f.addr)
	scRequireLimit(t, err)

	t.Run("another tenant unaffected", func(t *testing.T) {
		pb := f.scPrincipal(respB)
		require.Equal(t, b, pb.TenantID)
		for i := range 5 {
			require.NoError(t, f.scListUsers(pb), "request %d", i+1)
		}
		scRequireLimit(t, f.scListUsers(pb))
	})
	t.Run("admins are not charged", func(t *testing.T) {
		_, _, err := f.eng.ListUsers(f.ctx, adminA, a, store.Page{})
		require.NoError(t, err)
	})
	t.Run("refills with the clock", func(t *testing.T) {
		f.clock.Advance(le.RetryAfter())
		require.NoError(t, f.scListUsers(pa))
		scRequireLimit(t, f.scListUsers(pa))
		f.clock.Advance(time.Minute)
		for i := range 5 {
			require.NoError(t, f.scListUsers(pa), "request %d after refill", i+1)
		}
		scRequireLimit(t, f.scListUsers(pa))
	})
	t.Run("survives a restart", func(t *testing.T) {
		// The bucket is empty; a new engine over the same store must not
		// hand out a fresh one.
		require.NoError(t, f.eng.Close())
		e2, err := engine.New(engine.Config{Store: f.st, MasterKey: testMasterKey, Clock: f.clock.Now})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, e2.Close()) })
		p, err := e2.Authenticate(f.ctx, respA.AccessToken.Reveal(), f.addr)
		require.NoError(t, err)
		_, _, err = e2.ListUsers(f.ctx, p, a, store.Page{})
		scRequireLimit(t, err)
	})
}

func TestFailedAuthenticationsDoNotConsumeQuota(t *testing.T) {
	f := newFixture(t)
	tid, admin := f.addTenant("quota", scQuotaLimits)
	// An engine with the same master key over another store mints
	// well-formed, correctly MAC'd tokens that this store does not know.
	other := newFixture(t)
	otherTenant, otherAdmin := other.addTenant("quota", tenant.Limits{})
	unknownResp, _ := other.login(other.token(otherAdmin, permission.ViewUsers))
	require.Equal(t, otherTenant, unknownResp.TenantID)

	expiring, _ := f.login(f.token(admin, permission.ViewUsers))
	f.clock.Advance(24 * time.Hour)
	live := f.token(admin, permission.ViewUsers)
	liveResp, _ := f.login(live)
	rotatedCT := f.token(admin, permission.ViewUsers)
	rotatedResp, _ := f.login(rotatedCT)
	_, err := f.eng.RotateUserToken(f.ctx, admin, tid, rotatedCT.Token.ID)
	require.NoError(t, err)
	f.clock.Advance(time.Minute) // full bucket again

	at := func(r *engine.TokenResponse) string { return r.AccessToken.Reveal() }
	for name, tok := range map[string]string{
		"malformed": "lkat_garbage",
		"empty":     "",
		"truncated": at(liveResp)[:len(at(liveResp))-3],
		"unknown":   at(unknownResp),
		"expired":   at(expiring),
		"rotated":   at(rotatedResp),
	} {
		for range 3 {
			_, err := f.eng.Authenticate(f.ctx, tok, f.addr)
			require.ErrorIs(t, err, engine.ErrInvalidToken, name)
		}
	}
	for name, cred := range map[string]string{
		"rotated secret": rotatedCT.Credential.Reveal(),
		"malformed":      "lkut_nope",
		"altered":        alterAt(live.Credential.Reveal(), 10),
	} {
		_, err := f.eng.Exchange(f.ctx, "", cred, f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken, name)
	}
	_, err = f.eng.Refresh(f.ctx, rotatedResp.RefreshToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	_, err = f.eng.Refresh(f.ctx, "lkrt_nope", f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)

	p := f.scPrincipal(liveResp)
	for i := range int(scQuotaLimits.APIRequests) {
		require.NoError(t, f.scListUsers(p), "request %d of %d", i+1, scQuotaLimits.APIRequests)
	}
	scRequireLimit(t, f.scListUsers(p))
}

func TestErrorPrecedence(t *testing.T) {
	t.Run("access denied before the limit", func(t *testing.T) {
		f := newFixture(t)
		tid, admin := f.addTenant("over", scQuotaLimits)
		_, p := f.login(f.token(admin, permission.ViewUsers))
		for {
			if err := f.scListUsers(p); err != nil {
				scRequireLimit(t, err)
				break
			}
		}
		_, _, err := f.eng.ListLicenses(f.ctx, p, tid, store.Page{})
		require.ErrorIs(t, err, engine.ErrAccessDenied)
		require.NotErrorIs(t, err, engine.ErrLicenseLimit)
		require.ErrorIs(t, f.eng.Authorize(context.Background(), p, permission.EditLicenses), engine.ErrAccessDenied)
		_, err = f.eng.CreateUserToken(f.ctx, p, tid, engine.NewUserToken{UserID: admin.UserID, Name: "x"})
		require.ErrorIs(t, err, engine.ErrAccessDenied)
		_, _, err = f.eng.ListUsers(f.ctx, p, f.tenant, store.Page{}) // another tenant
		require.ErrorIs(t, err, engine.ErrAccessDenied)
	})
	t.Run("invalid token before invalid license", func(t *testing.T) {
		f := newFixture(t)
		good := f.token(f.admin, permission.ViewUsers)
		goodResp, _ := f.login(good)
		rotated := f.token(f.admin, permission.ViewUsers)
		rotatedResp, _ := f.login(rotated)
		deactivated := f.token(f.admin, permission.ViewUsers)
		_, err := f.eng.RotateUserToken(f.ctx, f.admin, f.tenant, rotated.Token.ID)
		require.NoError(t, err)
		_, err = f.eng.DeactivateUserToken(f.ctx, f.admin, f.tenant, deactivated.Token.ID)
		require.NoError(t, err)
		_, err = f.eng.SuspendTenant(f.ctx, engine.System(), f.tenant)
		require.NoError(t, err)

		for name, tok := range map[string]string{
			"malformed": "lkat_x",
			"rotated":   rotatedResp.AccessToken.Reveal(),
			"altered":   alterAt(goodResp.AccessToken.Reveal(), 20),
		} {
			_, err := f.eng.Authenticate(f.ctx, tok, f.addr)
			require.ErrorIs(t, err, engine.ErrInvalidToken, name)
			require.NotErrorIs(t, err, engine.ErrInvalidLicense, name)
		}
		for name, c := range map[string]engine.CreatedUserToken{"rotated": rotated, "deactivated": deactivated} {
			_, err := f.eng.Exchange(f.ctx, c.Token.ID, c.Credential.Reveal(), f.addr)
			require.ErrorIs(t, err, engine.ErrInvalidToken, name)
			require.NotErrorIs(t, err, engine.ErrInvalidLicense, name)
		}
		_, err = f.eng.Refresh(f.ctx, rotatedResp.RefreshToken.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
		require.NotErrorIs(t, err, engine.ErrInvalidLicense)

		// The good token of the suspended tenant: invalid license.
		_, err = f.eng.Authenticate(f.ctx, goodResp.AccessToken.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidLicense)
		f.clock.Advance(24 * time.Hour)
		_, err = f.eng.Authenticate(f.ctx, goodResp.AccessToken.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken, "expired beats suspended")
	})
}

func TestUserTokenLifecycle(t *testing.T) {
	f := newFixture(t)
	ct := f.token(f.admin, permission.ViewUsers)
	resp, _ := f.login(ct)
	auth := func() error {
		_, err := f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
		return err
	}
	exchange := func() error {
		_, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
		return err
	}

	tok, err := f.eng.DeactivateUserToken(f.ctx, f.admin, f.tenant, ct.Token.ID)
	require.NoError(t, err)
	require.Equal(t, store.TokenDeactivated, tok.Status)
	require.ErrorIs(t, auth(), engine.ErrInvalidToken)
	require.ErrorIs(t, exchange(), engine.ErrInvalidToken)
	_, err = f.eng.Refresh(f.ctx, resp.RefreshToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)

	tok, err = f.eng.ReactivateUserToken(f.ctx, f.admin, f.tenant, ct.Token.ID)
	require.NoError(t, err)
	require.Equal(t, store.TokenActive, tok.Status)
	require.NoError(t, auth())
	require.NoError(t, exchange())

	require.NoError(t, f.eng.DeleteUserToken(f.ctx, f.admin, f.tenant, ct.Token.ID))
	require.ErrorIs(t, auth(), engine.ErrInvalidToken)
	require.ErrorIs(t, exchange(), engine.ErrInvalidToken)
	_, err = f.eng.Refresh(f.ctx, resp.RefreshToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	_, err = f.eng.ReactivateUserToken(f.ctx, f.admin, f.tenant, ct.Token.ID)
	require.ErrorIs(t, err, engine.ErrNotFound, "a deleted token stays deleted")
	require.ErrorIs(t, f.eng.DeleteUserToken(f.ctx, f.admin, f.tenant, ct.Token.ID), engine.ErrNotFound)
	toks, _, err := f.eng.ListUserTokens(f.ctx, f.admin, f.tenant, store.Page{})
	require.NoError(t, err)
	require.Empty(t, toks)
}

func TestOwnerDeactivationStopsTokens(t *testing.T) {
	f := newFixture(t)
	owner, err := f.eng.CreateUser(f.ctx, f.admin, f.tenant, engine.NewUser{Email: "bot@acme.test", Name: "Bot"})
	require.NoError(t, err)
	ct, err := f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{
		UserID: owner.ID, Name: "bot", Permissions: permission.NewSet(permission.ViewUsers),
	})
	require.NoError(t, err)
	resp, _ := f.login(ct)
	auth := func() error {
		_, err := f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
		return err
	}
	exchange := func() error {
		_, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
		return err
	}
	require.NoError(t, auth())

	_, err = f.eng.UpdateUser(f.ctx, f.admin, f.tenant, owner.ID, engine.UserPatch{Status: scPtr(store.UserDeactivated)})
	require.NoError(t, err)
	require.ErrorIs(t, exchange(), engine.ErrInvalidToken, "Exchange after the owner's deactivation")
	require.ErrorIs(t, auth(), engine.ErrInvalidToken, "Authenticate after the owner's deactivation")
	_, err = f.eng.Refresh(f.ctx, resp.RefreshToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken, "Refresh after the owner's deactivation")

	_, err = f.eng.UpdateUser(f.ctx, f.admin, f.tenant, owner.ID, engine.UserPatch{Status: scPtr(store.UserActive)})
	require.NoError(t, err)
	require.NoError(t, exchange(), "Exchange after the owner's reactivation")
	require.NoError(t, auth(), "Authenticate after the owner's reactivation")

	require.NoError(t, f.eng.DeleteUser(f.ctx, f.admin, f.tenant, owner.ID))
	require.ErrorIs(t, exchange(), engine.ErrInvalidToken, "Exchange after the owner's deletion")
	require.ErrorIs(t, auth(), engine.ErrInvalidToken, "Authenticate after the owner's deletion")
}

func TestSetUserTokenPermissions(t *testing.T) {
	f := newFixture(t)
	f.scSeed(f.admin)
	both := permission.NewSet(permission.ViewUsers, permission.ViewLicenses)
	ct := f.scTokenSet(f.admin, both)
	resp, p := f.login(ct)
	require.True(t, p.Permissions.Equal(both))
	listLicenses := func(p *engine.Principal) error {
		_, _, err := f.eng.ListLicenses(f.ctx, p, f.tenant, store.Page{})
		return err
	}
	require.NoError(t, listLicenses(p))

	t.Run("narrowing applies at once", func(t *testing.T) {
		_, err := f.eng.SetUserTokenPermissions(f.ctx, f.admin, f.tenant, ct.Token.ID, permission.NewSet(permission.ViewUsers))
		require.NoError(t, err)
		p := f.scPrincipal(resp)
		require.True(t, p.Permissions.Equal(permission.NewSet(permission.ViewUsers)))
		require.ErrorIs(t, listLicenses(p), engine.ErrAccessDenied)
		require.NoError(t, f.scListUsers(p))
	})
	t.Run("widening does not widen an existing access token", func(t *testing.T) {
		wide := both.Add(permission.EditLicenses, permission.ViewCustomers)
		_, err := f.eng.SetUserTokenPermissions(f.ctx, f.admin, f.tenant, ct.Token.ID, wide)
		require.NoError(t, err)
		p := f.scPrincipal(resp)
		require.True(t, p.Permissions.SubsetOf(both), "got %s", p.Permissions)
		require.False(t, p.Permissions.Has(permission.EditLicenses))
		require.ErrorIs(t, f.eng.Authorize(context.Background(), p, permission.ViewCustomers), engine.ErrAccessDenied)
		// A new exchange gets the new set.
		_, p2 := f.login(ct)
		require.True(t, p2.Permissions.Equal(wide))
	})
}

// TestRefreshDoesNotWidenScope: widening a user token's permissions must
// not widen a refresh family that was exchanged before (RFC 6749 §6: a
// refreshed token's scope never exceeds the scope originally granted;
// DESIGN §3: "exchange and refresh never widen the set"; the doc of
// SetUserTokenPermissions: "widening applies only to tokens exchanged
// afterwards").
func TestRefreshDoesNotWidenScope(t *testing.T) {
	f := newFixture(t)
	narrow := permission.NewSet(permission.ViewUsers)
	ct := f.scTokenSet(f.admin, narrow)
	resp, _ := f.login(ct)
	_, err := f.eng.SetUserTokenPermissions(f.ctx, f.admin, f.tenant, ct.Token.ID, permission.Full())
	require.NoError(t, err)
	next, err := f.eng.Refresh(f.ctx, resp.RefreshToken.Reveal(), f.addr)
	require.NoError(t, err)
	require.True(t, next.Scope.SubsetOf(narrow), "refreshed scope %s is wider than the exchanged %s", next.Scope, narrow)
	p := f.scPrincipal(next)
	require.True(t, p.Permissions.SubsetOf(narrow), "refreshed principal %s is wider than the exchanged %s", p.Permissions, narrow)
}

func TestTokenPrincipalCannotAdministerTokens(t *testing.T) {
	f := newFixture(t)
	s := f.scSeed(f.admin)
	ct := f.scTokenSet(f.admin, permission.Full())
	_, p := f.login(ct)
	other := f.token(f.admin, permission.ViewUsers)
	for _, o := range []scOp{
		{"CreateUserToken for its own user", func(a engine.Actor) error {
			_, err := f.eng.CreateUserToken(f.ctx, a, f.tenant, engine.NewUserToken{UserID: f.admin.UserID, Name: "x", Permissions: permission.Full()})
			return err
		}},
		{"CreateUserToken for a member", func(a engine.Actor) error {
			_, err := f.eng.CreateUserToken(f.ctx, a, f.tenant, engine.NewUserToken{UserID: s.member.ID, Name: "x"})
			return err
		}},
		{"SetUserTokenPermissions of itself", func(a engine.Actor) error {
			_, err := f.eng.SetUserTokenPermissions(f.ctx, a, f.tenant, ct.Token.ID, permission.Full())
			return err
		}},
		{"SetUserTokenPermissions of another", func(a engine.Actor) error {
			_, err := f.eng.SetUserTokenPermissions(f.ctx, a, f.tenant, other.Token.ID, permission.Full())
			return err
		}},
		{"ReactivateUserToken", func(a engine.Actor) error {
			_, err := f.eng.ReactivateUserToken(f.ctx, a, f.tenant, other.Token.ID)
			return err
		}},
		{"CreateUser admin", func(a engine.Actor) error {
			_, err := f.eng.CreateUser(f.ctx, a, f.tenant, engine.NewUser{Email: "root@acme.test", Name: "Root", Role: store.RoleAdmin})
			return err
		}},
		{"UpdateUser to admin", func(a engine.Actor) error {
			_, err := f.eng.UpdateUser(f.ctx, a, f.tenant, s.member.ID, engine.UserPatch{Role: scPtr(store.RoleAdmin)})
			return err
		}},
		{"UpdateUser an admin", func(a engine.Actor) error {
			_, err := f.eng.UpdateUser(f.ctx, a, f.tenant, f.admin.UserID, engine.UserPatch{Name: scPtr("x")})
			return err
		}},
		{"DeleteUser an admin", func(a engine.Actor) error { return f.eng.DeleteUser(f.ctx, a, f.tenant, f.admin.UserID) }},
		{"CreateTenant", func(a engine.Actor) error {
			_, err := f.eng.CreateTenant(f.ctx, a, engine.NewTenant{ID: "evil", Name: "evil", License: tenant.License{Status: tenant.StatusActive}})
			return err
		}},
		{"SuspendTenant", func(a engine.Actor) error {
			_, err := f.eng.SuspendTenant(f.ctx, a, f.tenant)
			return err
		}},
	} {
		t.Run(o.name, func(t *testing.T) { require.ErrorIs(t, o.do(p), engine.ErrAccessDenied) })
	}
	tok, err := f.eng.GetUserToken(f.ctx, f.admin, f.tenant, other.Token.ID)
	require.NoError(t, err)
	require.True(t, tok.Permissions.Equal(permission.NewSet(permission.ViewUsers)))
}

// TestRotateCannotEscalate: rotating a user token returns its new
// credential to the caller. A token principal holding only tokens:edit
// must not be able to rotate a token with wider permissions and take its
// credential: that is a token gaining permissions it was not given
// (DESIGN §3).
func TestRotateCannotEscalate(t *testing.T) {
	f := newFixture(t)
	powerful := f.scTokenSet(f.admin, permission.Full())
	weak := f.token(f.admin, permission.EditUserTokens)
	_, p := f.login(weak)

	rotated, err := f.eng.RotateUserToken(f.ctx, p, f.tenant, powerful.Token.ID)
	if err == nil {
		_, p2 := f.login(rotated)
		require.Failf(t, "privilege escalation",
			"a principal with %s rotated a token with %s and, with its credential, acts with %s",
			p.Permissions, powerful.Token.Permissions, p2.Permissions)
	}
	require.ErrorIs(t, err, engine.ErrAccessDenied)

	// Rotating itself (no wider) stays allowed.
	_, err = f.eng.RotateUserToken(f.ctx, p, f.tenant, weak.Token.ID)
	require.NoError(t, err)
}

func TestRevoke(t *testing.T) {
	f := newFixture(t)
	ct := f.token(f.admin, permission.ViewUsers)

	t.Run("refresh token kills its family", func(t *testing.T) {
		first, _ := f.login(ct)
		second, err := f.eng.Refresh(f.ctx, first.RefreshToken.Reveal(), f.addr)
		require.NoError(t, err)
		other, _ := f.login(ct) // another family of the same token
		require.NoError(t, f.eng.Revoke(f.ctx, second.RefreshToken.Reveal(), f.addr))
		for name, at := range map[string]*engine.TokenResponse{"first": first, "second": second} {
			_, err := f.eng.Authenticate(f.ctx, at.AccessToken.Reveal(), f.addr)
			require.ErrorIs(t, err, engine.ErrInvalidToken, name)
		}
		_, err = f.eng.Refresh(f.ctx, second.RefreshToken.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
		f.scPrincipal(other)
		// Revoking again is not an error.
		require.NoError(t, f.eng.Revoke(f.ctx, second.RefreshToken.Reveal(), f.addr))
	})
	t.Run("access token kills its family", func(t *testing.T) {
		resp, _ := f.login(ct)
		require.NoError(t, f.eng.Revoke(f.ctx, resp.AccessToken.Reveal(), f.addr))
		_, err := f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
		_, err = f.eng.Refresh(f.ctx, resp.RefreshToken.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
	})
	t.Run("unknown or malformed is not an error", func(t *testing.T) {
		elsewhere := newFixture(t)
		foreign, _ := elsewhere.login(elsewhere.token(elsewhere.admin, permission.ViewUsers))
		resp, _ := f.login(ct)
		for name, tok := range map[string]string{
			"empty":                "",
			"garbage":              "not a token",
			"malformed refresh":    "lkrt_abc",
			"malformed access":     "lkat_abc",
			"user token":           ct.Credential.Reveal(),
			"unknown refresh":      foreign.RefreshToken.Reveal(),
			"unknown access":       foreign.AccessToken.Reveal(),
			"forged refresh (seq)": scForgeRefresh(t, resp.RefreshToken.Reveal()),
		} {
			require.NoError(t, f.eng.Revoke(f.ctx, tok, f.addr), name)
		}
		// None of them revoked anything.
		f.scPrincipal(resp)
		_, err := f.eng.Refresh(f.ctx, resp.RefreshToken.Reveal(), f.addr)
		require.NoError(t, err)
	})
}

// scForgeRefresh changes one character of a refresh token's secret; the
// checksum then fails, so the engine sees junk.
func scForgeRefresh(t *testing.T, tok string) string {
	t.Helper()
	b := []byte(tok)
	i := len(b) - 20
	if b[i] == 'a' {
		b[i] = 'b'
	} else {
		b[i] = 'a'
	}
	return string(b)
}

func TestIntrospect(t *testing.T) {
	f := newFixture(t)
	tidB, adminB := f.addTenant("beta", tenant.Limits{})
	ct := f.token(f.admin, permission.ViewUsers, permission.ViewLicenses)
	live, p := f.login(ct)
	revoked, _ := f.login(ct)
	require.NoError(t, f.eng.Revoke(f.ctx, revoked.RefreshToken.Reveal(), f.addr))
	theirs, pb := f.login(f.token(adminB, permission.ViewUsers))

	for _, actor := range []struct {
		name string
		a    engine.Actor
	}{{"admin", f.admin}, {"principal", p}} {
		t.Run(actor.name, func(t *testing.T) {
			got, err := f.eng.Introspect(f.ctx, actor.a, f.tenant, live.AccessToken.Reveal())
			require.NoError(t, err)
			require.True(t, got.Active)
			require.Equal(t, "access_token", got.TokenType)
			require.Equal(t, ct.Token.ID, got.ClientID)
			require.Equal(t, f.admin.UserID, got.Subject)
			require.Equal(t, f.tenant, got.TenantID)
			require.True(t, got.Scope.Equal(ct.Token.Permissions))

			got, err = f.eng.Introspect(f.ctx, actor.a, f.tenant, live.RefreshToken.Reveal())
			require.NoError(t, err)
			require.True(t, got.Active)
			require.Equal(t, "refresh_token", got.TokenType)

			for name, tok := range map[string]string{
				"another tenant's access":  theirs.AccessToken.Reveal(),
				"another tenant's refresh": theirs.RefreshToken.Reveal(),
				"revoked access":           revoked.AccessToken.Reveal(),
				"revoked refresh":          revoked.RefreshToken.Reveal(),
				"user token":               ct.Credential.Reveal(),
				"garbage":                  "garbage",
			} {
				got, err := f.eng.Introspect(f.ctx, actor.a, f.tenant, tok)
				require.NoError(t, err, name)
				require.Equal(t, engine.Introspection{}, got, name)
			}
		})
	}
	t.Run("another tenant's principal is denied", func(t *testing.T) {
		_, err := f.eng.Introspect(f.ctx, pb, f.tenant, live.AccessToken.Reveal())
		require.ErrorIs(t, err, engine.ErrAccessDenied)
		got, err := f.eng.Introspect(f.ctx, pb, tidB, live.AccessToken.Reveal())
		require.NoError(t, err)
		require.False(t, got.Active)
	})
	t.Run("expired", func(t *testing.T) {
		f.clock.Advance(24 * time.Hour)
		got, err := f.eng.Introspect(f.ctx, f.admin, f.tenant, live.AccessToken.Reveal())
		require.NoError(t, err)
		require.Equal(t, engine.Introspection{}, got)
	})
}

func TestMasterKeyRotation(t *testing.T) {
	f := newFixture(t) // k1
	s := f.scSeed(f.admin)
	ct := f.token(f.admin, permission.ViewUsers)
	resp, _ := f.login(ct)
	resp2, _ := f.login(ct)
	k2 := engine.MasterKey{ID: "k2", Secret: bytes.Repeat([]byte{0x24}, 32)}

	newEngine := func(t *testing.T, cfg engine.Config) *engine.Engine {
		t.Helper()
		cfg.Store, cfg.Clock = f.st, f.clock.Now
		e, err := engine.New(cfg)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, e.Close()) })
		return e
	}

	t.Run("current k2, previous k1", func(t *testing.T) {
		e := newEngine(t, engine.Config{MasterKey: k2, PreviousMasterKeys: []engine.MasterKey{testMasterKey}})
		p, err := e.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
		require.NoError(t, err, "k1 access token")
		require.Equal(t, ct.Token.ID, p.TokenID.String())
		res, err := e.ValidateLicense(f.ctx, s.license.Key.Reveal(), engine.ValidationScope{}, f.addr)
		require.NoError(t, err)
		require.Equal(t, engine.CodeValid, res.Code, "k1 license key")
		next, err := e.Refresh(f.ctx, resp.RefreshToken.Reveal(), f.addr)
		require.NoError(t, err, "k1 refresh token")
		_, err = e.Authenticate(f.ctx, next.AccessToken.Reveal(), f.addr)
		require.NoError(t, err, "k2 access token")
		fresh, err := e.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
		require.NoError(t, err, "k1 user token")
		_, err = e.Authenticate(f.ctx, fresh.AccessToken.Reveal(), f.addr)
		require.NoError(t, err)
		// New credentials are made under k2: reissue and rotate, then an
		// engine with k2 alone accepts them.
		re, err := e.ReissueLicense(f.ctx, f.admin, f.tenant, s.license.License.ID)
		require.NoError(t, err)
		rot, err := e.RotateUserToken(f.ctx, f.admin, f.tenant, ct.Token.ID)
		require.NoError(t, err)
		only2 := newEngine(t, engine.Config{MasterKey: k2})
		res, err = only2.ValidateLicense(f.ctx, re.Key.Reveal(), engine.ValidationScope{}, f.addr)
		require.NoError(t, err)
		require.Equal(t, engine.CodeValid, res.Code)
		r2, err := only2.Exchange(f.ctx, rot.Token.ID, rot.Credential.Reveal(), f.addr)
		require.NoError(t, err)
		_, err = only2.Authenticate(f.ctx, r2.AccessToken.Reveal(), f.addr)
		require.NoError(t, err)
	})
	t.Run("k2 only rejects k1", func(t *testing.T) {
		ct := f.token(f.admin, permission.ViewUsers)
		l, err := f.eng.CreateLicense(f.ctx, f.admin, f.tenant, engine.NewLicense{CustomerID: s.customer.ID, ProductID: s.product.ID})
		require.NoError(t, err)
		e := newEngine(t, engine.Config{MasterKey: k2})
		_, err = e.Authenticate(f.ctx, resp2.AccessToken.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken, "k1 access token")
		res, err := e.ValidateLicense(f.ctx, l.Key.Reveal(), engine.ValidationScope{}, f.addr)
		require.NoError(t, err)
		require.Equal(t, engine.ValidationResult{Code: engine.CodeNotFound}, res, "k1 license key")
		_, err = e.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken, "k1 user token")
		_, err = e.Refresh(f.ctx, resp2.RefreshToken.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken, "k1 refresh token")
	})
	t.Run("an unknown key id with the same secret is rejected", func(t *testing.T) {
		e := newEngine(t, engine.Config{MasterKey: engine.MasterKey{ID: "k9", Secret: testMasterKey.Secret}})
		_, err := e.Authenticate(f.ctx, resp2.AccessToken.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
	})
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]engine.Config{
		"no store":      {MasterKey: testMasterKey},
		"no key":        {Store: memstore.New()},
		"short secret":  {Store: memstore.New(), MasterKey: engine.MasterKey{ID: "k", Secret: []byte("short")}},
		"bad key id":    {Store: memstore.New(), MasterKey: engine.MasterKey{ID: "k/1", Secret: testMasterKey.Secret}},
		"duplicate ids": {Store: memstore.New(), MasterKey: testMasterKey, PreviousMasterKeys: []engine.MasterKey{testMasterKey}},
		"negative ttl":  {Store: memstore.New(), MasterKey: testMasterKey, AccessTokenTTL: -time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			e, err := engine.New(cfg)
			require.Error(t, err)
			require.Nil(t, e)
		})
	}
}

// TestUseAfterClose: a host that calls the engine after Close (a request
// racing shutdown) gets ErrClosed: not a crash of its process, and not a
// success whose audit events would never be written or observed.
func TestUseAfterClose(t *testing.T) {
	for _, withObserver := range []bool{false, true} {
		t.Run(fmt.Sprintf("observer=%v", withObserver), func(t *testing.T) {
			f := newFixture(t, func(c *engine.Config) {
				if withObserver {
					c.Observer = engine.ObserverFunc(func(engine.Event) {})
				}
			})
			ct := f.token(f.admin, permission.ViewUsers)
			resp, _ := f.login(ct)
			require.NoError(t, f.eng.Close())
			for _, o := range []scOp{
				{"CreateProduct", func(a engine.Actor) error {
					_, err := f.eng.CreateProduct(f.ctx, a, f.tenant, engine.NewProduct{Name: "late"})
					return err
				}},
				{"Exchange", func(engine.Actor) error {
					_, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
					return err
				}},
				{"Refresh", func(engine.Actor) error {
					_, err := f.eng.Refresh(f.ctx, resp.RefreshToken.Reveal(), f.addr)
					return err
				}},
				{"Authenticate", func(engine.Actor) error {
					_, err := f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
					return err
				}},
				{"Authenticate junk", func(engine.Actor) error {
					_, err := f.eng.Authenticate(f.ctx, "lkat_junk", f.addr)
					return err
				}},
				{"RotateUserToken", func(a engine.Actor) error {
					_, err := f.eng.RotateUserToken(f.ctx, a, f.tenant, ct.Token.ID)
					return err
				}},
			} {
				var err error
				require.NotPanics(t, func() { err = o.do(f.admin) }, o.name)
				require.ErrorIs(t, err, engine.ErrClosed, o.name)
			}
		})
	}
}

// TestUserTokenExpiryAndAllowlist: a user token's expiry caps its access
// tokens, and its CIDR allowlist applies to Exchange and Authenticate.
func TestUserTokenExpiryAndAllowlist(t *testing.T) {
	f := newFixture(t)
	t.Run("expiry", func(t *testing.T) {
		exp := f.clock.Now().Add(time.Hour)
		ct, err := f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{
			UserID: f.admin.UserID, Name: "short", Permissions: permission.NewSet(permission.ViewUsers), ExpiresAt: exp,
		})
		require.NoError(t, err)
		resp, _ := f.login(ct)
		require.Equal(t, time.Hour, resp.ExpiresIn, "the access token ends with its user token")
		f.clock.Advance(time.Hour - time.Nanosecond)
		f.scPrincipal(resp)
		f.clock.Advance(time.Nanosecond)
		_, err = f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
		_, err = f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
		_, err = f.eng.Refresh(f.ctx, resp.RefreshToken.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
	})
	t.Run("allowlist", func(t *testing.T) {
		ct, err := f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{
			UserID: f.admin.UserID, Name: "ci", Permissions: permission.NewSet(permission.ViewUsers),
			AllowedCIDRs: []string{"192.0.2.0/24", "2001:db8::/32"},
		})
		require.NoError(t, err)
		resp, _ := f.login(ct) // from 192.0.2.10
		for addr, ok := range map[string]bool{
			"192.0.2.200": true, "::ffff:192.0.2.7": true, "2001:db8::1": true,
			"198.51.100.1": false, "2001:db9::1": false,
		} {
			a := netip.MustParseAddr(addr)
			_, errA := f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), a)
			_, errE := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), a)
			if ok {
				require.NoError(t, errA, addr)
				require.NoError(t, errE, addr)
			} else {
				require.ErrorIs(t, errA, engine.ErrInvalidToken, addr)
				require.ErrorIs(t, errE, engine.ErrInvalidToken, addr)
			}
		}
		_, err = f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), netip.Addr{})
		require.ErrorIs(t, err, engine.ErrInvalidToken, "no address at all")
	})
}

// TestValidationQuota: validations count against their own limit, apart
// from the API quota, and unknown keys do not count against the tenant.
func TestValidationQuota(t *testing.T) {
	f := newFixture(t)
	tid, admin := f.addTenant("validating", tenant.Limits{APIRequests: 5, Validations: 3, ValidationWindow: time.Minute})
	fv := *f
	fv.tenant, fv.admin = tid, admin
	s := fv.scSeed(admin)
	_, p := f.login(f.token(admin, permission.ViewUsers))
	f.clock.Advance(time.Minute)
	validate := func() error {
		_, err := f.eng.ValidateLicense(f.ctx, s.license.Key.Reveal(), engine.ValidationScope{}, f.addr)
		return err
	}

	for range 5 {
		require.NoError(t, f.scListUsers(p))
	}
	scRequireLimit(t, f.scListUsers(p))
	for range 10 { // unknown keys: charged to the address, not the tenant
		res, err := f.eng.ValidateLicense(f.ctx, engine.DefaultLicenseKeyFormat{}.Generate(), engine.ValidationScope{}, netip.MustParseAddr("198.51.100.99"))
		require.NoError(t, err)
		require.Equal(t, engine.CodeNotFound, res.Code)
	}
	for i := range 3 {
		require.NoError(t, validate(), "validation %d with the API quota spent", i+1)
	}
	scRequireLimit(t, validate())
	f.clock.Advance(time.Minute)
	require.NoError(t, f.scListUsers(p), "the API quota refilled")
	require.NoError(t, validate(), "the validation quota refilled")
}

// alterAt changes the character at i of a credential to another character
// of the same alphabet (never to itself, which would alter nothing).
func alterAt(s string, i int) string {
	c := byte('a')
	if s[i] == c {
		c = 'b'
	}
	return s[:i] + string(c) + s[i+1:]
}
