package storetest

import (
	"context"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// op is one method call of the store, on the data of a fixture.
type op struct {
	name string
	fn   func(ctx context.Context, tx store.Tx) error
}

// writeOps calls every write method once. Each call succeeds in an
// Update on a store that holds f (and only f), alone or after the calls
// before it in the list.
func writeOps(f *fixture) []op {
	tid := f.TenantID
	u := f.Users[0]
	u.Name = "changed"
	g := f.Groups[0]
	g.Name = "changed"
	p := f.Products[0]
	p.Name = "changed"
	pl := f.Plans[0]
	pl.Name = "changed"
	c := f.Customers[0]
	c.Name = "changed"
	l := f.Licenses[0]
	l.Status = store.LicenseRevoked
	tk := f.Tokens[0]
	tk.Status = store.TokenDeleted
	fam := f.Families[0]
	fam.Status = store.FamilyRevoked
	fam.RevokeReason = "changed"
	tn := f.Tenant
	tn.Name = "changed"
	usage := f.Usage[0]
	usage.LastUsedAddr = "203.0.113.1"
	newLic := newLicense("l9", 1)
	newLic.KeyDigest = digest("writeOps", tid)
	return []op{
		{"Tenants.Create", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenants().Create(ctx, newTenant(tid+"-new", 1))
		}},
		{"Tenants.Update", func(ctx context.Context, tx store.Tx) error { return tx.Tenants().Update(ctx, tn) }},
		{"Users.Create", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Users().Create(ctx, newUser("u9", 1))
		}},
		{"Users.Update", func(ctx context.Context, tx store.Tx) error { return tx.Tenant(tid).Users().Update(ctx, u) }},
		{"Users.Delete", func(ctx context.Context, tx store.Tx) error { return tx.Tenant(tid).Users().Delete(ctx, f.Users[2].ID) }},
		{"Groups.Create", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Groups().Create(ctx, newGroup("g9", 1))
		}},
		{"Groups.Update", func(ctx context.Context, tx store.Tx) error { return tx.Tenant(tid).Groups().Update(ctx, g) }},
		{"Groups.Delete", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Groups().Delete(ctx, f.Groups[1].ID)
		}},
		{"Groups.AddMember", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Groups().AddMember(ctx, "g1", "u9")
		}},
		{"Groups.RemoveMember", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Groups().RemoveMember(ctx, "g1", "u2")
		}},
		{"Products.Create", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Products().Create(ctx, newProduct("prod9", 1))
		}},
		{"Products.Update", func(ctx context.Context, tx store.Tx) error { return tx.Tenant(tid).Products().Update(ctx, p) }},
		{"Products.Delete", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Products().Delete(ctx, f.Products[1].ID)
		}},
		{"Plans.Create", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Plans().Create(ctx, newPlan("plan9", 1))
		}},
		{"Plans.Update", func(ctx context.Context, tx store.Tx) error { return tx.Tenant(tid).Plans().Update(ctx, pl) }},
		{"Plans.Delete", func(ctx context.Context, tx store.Tx) error { return tx.Tenant(tid).Plans().Delete(ctx, f.Plans[1].ID) }},
		{"Customers.Create", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Customers().Create(ctx, newCustomer("c9", 1))
		}},
		{"Customers.Update", func(ctx context.Context, tx store.Tx) error { return tx.Tenant(tid).Customers().Update(ctx, c) }},
		{"Customers.Delete", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Customers().Delete(ctx, f.Customers[1].ID)
		}},
		{"Licenses.Create", func(ctx context.Context, tx store.Tx) error { return tx.Tenant(tid).Licenses().Create(ctx, newLic) }},
		{"Licenses.Update", func(ctx context.Context, tx store.Tx) error { return tx.Tenant(tid).Licenses().Update(ctx, l) }},
		{"Licenses.Delete", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Licenses().Delete(ctx, f.Licenses[1].ID)
		}},
		{"UserTokens.Create", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).UserTokens().Create(ctx, newToken(tid+"-token9", 1))
		}},
		{"UserTokens.Update", func(ctx context.Context, tx store.Tx) error { return tx.Tenant(tid).UserTokens().Update(ctx, tk) }},
		{"RefreshFamilies.Create", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).RefreshFamilies().Create(ctx, newFamily(tid+"-family9", 1))
		}},
		{"RefreshFamilies.Update", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).RefreshFamilies().Update(ctx, fam)
		}},
		{"Audit.Append", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Audit().Append(ctx, newEvent("ev9", 1))
		}},
		{"Audit.Prune", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Tenant(tid).Audit().Prune(ctx, at(99, 0), 100)
			return err
		}},
		{"Usage.Put(new)", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Usage().Put(ctx, newUsage("token9", 1))
		}},
		{"Usage.Put(overwrite)", func(ctx context.Context, tx store.Tx) error { return tx.Tenant(tid).Usage().Put(ctx, usage) }},
		{"Quotas.Put(new)", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Quotas().Put(ctx, "new", tenant.LimiterState{TAT: base})
		}},
		{"Quotas.Put(overwrite)", func(ctx context.Context, tx store.Tx) error {
			return tx.Tenant(tid).Quotas().Put(ctx, "api", tenant.LimiterState{TAT: base})
		}},
	}
}

// readOps calls every read method once. Each call succeeds on a store
// that holds f.
func readOps(f *fixture) []op {
	tid := f.TenantID
	page := store.Page{Limit: 2}
	return []op{
		{"Tenants.Get", func(ctx context.Context, tx store.Tx) error { _, err := tx.Tenants().Get(ctx, tid); return err }},
		{"Tenants.List", func(ctx context.Context, tx store.Tx) error { _, _, err := tx.Tenants().List(ctx, page); return err }},
		{"LicenseByKeyDigest", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.LicenseByKeyDigest(ctx, f.Licenses[0].KeyDigest)
			return err
		}},
		{"UserTokenByID", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.UserTokenByID(ctx, f.Tokens[0].ID)
			return err
		}},
		{"RefreshFamilyByID", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.RefreshFamilyByID(ctx, f.Families[0].ID)
			return err
		}},
		{"Users.Get", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Tenant(tid).Users().Get(ctx, "u1")
			return err
		}},
		{"Users.List", func(ctx context.Context, tx store.Tx) error {
			_, _, err := tx.Tenant(tid).Users().List(ctx, page)
			return err
		}},
		{"Users.GetByEmail", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Tenant(tid).Users().GetByEmail(ctx, f.Users[0].Email)
			return err
		}},
		{"Groups.Get", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Tenant(tid).Groups().Get(ctx, "g1")
			return err
		}},
		{"Groups.List", func(ctx context.Context, tx store.Tx) error {
			_, _, err := tx.Tenant(tid).Groups().List(ctx, page)
			return err
		}},
		{"Groups.Members", func(ctx context.Context, tx store.Tx) error {
			_, _, err := tx.Tenant(tid).Groups().Members(ctx, "g1", page)
			return err
		}},
		{"Groups.GroupsOf", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Tenant(tid).Groups().GroupsOf(ctx, "u1")
			return err
		}},
		{"Products.Get", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Tenant(tid).Products().Get(ctx, "prod1")
			return err
		}},
		{"Products.List", func(ctx context.Context, tx store.Tx) error {
			_, _, err := tx.Tenant(tid).Products().List(ctx, page)
			return err
		}},
		{"Plans.Get", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Tenant(tid).Plans().Get(ctx, "plan1")
			return err
		}},
		{"Plans.List", func(ctx context.Context, tx store.Tx) error {
			_, _, err := tx.Tenant(tid).Plans().List(ctx, page)
			return err
		}},
		{"Plans.ListByProduct", func(ctx context.Context, tx store.Tx) error {
			_, _, err := tx.Tenant(tid).Plans().ListByProduct(ctx, "prod1", page)
			return err
		}},
		{"Customers.Get", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Tenant(tid).Customers().Get(ctx, "c1")
			return err
		}},
		{"Customers.List", func(ctx context.Context, tx store.Tx) error {
			_, _, err := tx.Tenant(tid).Customers().List(ctx, page)
			return err
		}},
		{"Licenses.Get", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Tenant(tid).Licenses().Get(ctx, "l1")
			return err
		}},
		{"Licenses.List", func(ctx context.Context, tx store.Tx) error {
			_, _, err := tx.Tenant(tid).Licenses().List(ctx, page)
			return err
		}},
		{"UserTokens.Get", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Tenant(tid).UserTokens().Get(ctx, f.Tokens[0].ID)
			return err
		}},
		{"UserTokens.List", func(ctx context.Context, tx store.Tx) error {
			_, _, err := tx.Tenant(tid).UserTokens().List(ctx, page)
			return err
		}},
		{"RefreshFamilies.Get", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Tenant(tid).RefreshFamilies().Get(ctx, f.Families[0].ID)
			return err
		}},
		{"RefreshFamilies.List", func(ctx context.Context, tx store.Tx) error {
			_, _, err := tx.Tenant(tid).RefreshFamilies().List(ctx, page)
			return err
		}},
		{"Audit.List", func(ctx context.Context, tx store.Tx) error {
			_, _, err := tx.Tenant(tid).Audit().List(ctx, store.AuditQuery{}, page)
			return err
		}},
		{"Usage.Get", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Tenant(tid).Usage().Get(ctx, f.Usage[0].TokenID)
			return err
		}},
		{"Usage.List", func(ctx context.Context, tx store.Tx) error {
			_, _, err := tx.Tenant(tid).Usage().List(ctx, page)
			return err
		}},
		{"Quotas.Get", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Tenant(tid).Quotas().Get(ctx, "api")
			return err
		}},
	}
}
