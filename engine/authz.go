package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
)

// Operation names one engine operation. Every operation is declared in
// Operations with exactly one rule; an operation without one is refused.
type Operation string

// Access is the kind of rule that guards an operation.
type Access int

const (
	// AccessPermission: a token principal needs Operation.Permission;
	// tenant admins and the system may.
	AccessPermission Access = iota + 1
	// AccessAdmin: tenant admins and the system only, never a token
	// (creating tokens, changing a token's permissions).
	AccessAdmin
	// AccessSystem: the host only (platform management).
	AccessSystem
	// AccessAuthenticated: any token principal of the tenant, admins, the
	// system.
	AccessAuthenticated
	// AccessPublic: no actor at all (license validation, the token
	// endpoint).
	AccessPublic
)

func (a Access) String() string {
	switch a {
	case AccessPermission:
		return "permission"
	case AccessAdmin:
		return "admin only"
	case AccessSystem:
		return "system only"
	case AccessAuthenticated:
		return "authenticated"
	case AccessPublic:
		return "public"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// OperationRule is the declared guard of one operation.
type OperationRule struct {
	Operation  Operation
	Access     Access
	Permission permission.Permission // meaningful with AccessPermission
}

// The operations of the engine.
const (
	OpCreateTenant     Operation = "CreateTenant"
	OpGetTenant        Operation = "GetTenant"
	OpListTenants      Operation = "ListTenants"
	OpSetTenantLicense Operation = "SetTenantLicense"
	OpSetTenantPolicy  Operation = "SetTenantPolicy"
	OpSuspendTenant    Operation = "SuspendTenant"
	OpTenantStatus     Operation = "TenantStatus"

	OpListUsers   Operation = "ListUsers"
	OpGetUser     Operation = "GetUser"
	OpCreateUser  Operation = "CreateUser"
	OpUpdateUser  Operation = "UpdateUser"
	OpDeleteUser  Operation = "DeleteUser"
	OpSetPassword Operation = "SetPassword"

	OpListGroups        Operation = "ListGroups"
	OpGetGroup          Operation = "GetGroup"
	OpListGroupMembers  Operation = "ListGroupMembers"
	OpCreateGroup       Operation = "CreateGroup"
	OpUpdateGroup       Operation = "UpdateGroup"
	OpAddGroupMember    Operation = "AddGroupMember"
	OpRemoveGroupMember Operation = "RemoveGroupMember"
	OpDeleteGroup       Operation = "DeleteGroup"

	OpListProducts  Operation = "ListProducts"
	OpGetProduct    Operation = "GetProduct"
	OpCreateProduct Operation = "CreateProduct"
	OpUpdateProduct Operation = "UpdateProduct"
	OpDeleteProduct Operation = "DeleteProduct"
	OpListPlans     Operation = "ListPlans"
	OpGetPlan       Operation = "GetPlan"
	OpCreatePlan    Operation = "CreatePlan"
	OpUpdatePlan    Operation = "UpdatePlan"
	OpDeletePlan    Operation = "DeletePlan"

	OpListCustomers  Operation = "ListCustomers"
	OpGetCustomer    Operation = "GetCustomer"
	OpCreateCustomer Operation = "CreateCustomer"
	OpUpdateCustomer Operation = "UpdateCustomer"
	OpDeleteCustomer Operation = "DeleteCustomer"

	OpListLicenses     Operation = "ListLicenses"
	OpGetLicense       Operation = "GetLicense"
	OpCreateLicense    Operation = "CreateLicense"
	OpUpdateLicense    Operation = "UpdateLicense"
	OpSetLicenseStatus Operation = "SetLicenseStatus"
	OpReissueLicense   Operation = "ReissueLicense"
	OpDeleteLicense    Operation = "DeleteLicense"
	OpValidateLicense  Operation = "ValidateLicense"

	OpCreateUserToken         Operation = "CreateUserToken"
	OpSetUserTokenPermissions Operation = "SetUserTokenPermissions"
	OpReactivateUserToken     Operation = "ReactivateUserToken"
	OpListUserTokens          Operation = "ListUserTokens"
	OpGetUserToken            Operation = "GetUserToken"
	OpRotateUserToken         Operation = "RotateUserToken"
	OpDeactivateUserToken     Operation = "DeactivateUserToken"
	OpDeleteUserToken         Operation = "DeleteUserToken"

	OpExchange   Operation = "Exchange"
	OpRefresh    Operation = "Refresh"
	OpRevoke     Operation = "Revoke"
	OpIntrospect Operation = "Introspect"

	OpSignIn              Operation = "SignIn"
	OpAuthenticateSession Operation = "AuthenticateSession"
	OpSignOut             Operation = "SignOut"
	OpChangePassword      Operation = "ChangePassword"

	OpListAudit Operation = "ListAudit"
	OpReview    Operation = "Review"
)

// Operations returns the guard of every operation: the table the package
// documentation lists and the tests walk.
func Operations() []OperationRule {
	p := func(op Operation, perm permission.Permission) OperationRule {
		return OperationRule{Operation: op, Access: AccessPermission, Permission: perm}
	}
	a := func(op Operation, acc Access) OperationRule { return OperationRule{Operation: op, Access: acc} }
	return []OperationRule{
		a(OpCreateTenant, AccessSystem),
		a(OpGetTenant, AccessAdmin),
		a(OpListTenants, AccessSystem),
		a(OpSetTenantLicense, AccessSystem),
		a(OpSetTenantPolicy, AccessAdmin),
		a(OpSuspendTenant, AccessSystem),
		a(OpTenantStatus, AccessAdmin),

		p(OpListUsers, permission.ViewUsers),
		p(OpGetUser, permission.ViewUsers),
		p(OpCreateUser, permission.CreateUsers),
		p(OpUpdateUser, permission.EditUsers),
		p(OpDeleteUser, permission.DeleteUsers),
		// Passwords sign administrators in to the console: no token sets one.
		a(OpSetPassword, AccessAdmin),

		// No permission of the catalogue views groups; a group is a set of
		// users, so seeing groups is seeing users.
		p(OpListGroups, permission.ViewUsers),
		p(OpGetGroup, permission.ViewUsers),
		p(OpListGroupMembers, permission.ViewUsers),
		p(OpCreateGroup, permission.CreateGroups),
		p(OpUpdateGroup, permission.EditGroups),
		p(OpAddGroupMember, permission.EditGroups),
		p(OpRemoveGroupMember, permission.EditGroups),
		p(OpDeleteGroup, permission.DeleteGroups),

		p(OpListProducts, permission.ViewProducts),
		p(OpGetProduct, permission.ViewProducts),
		p(OpCreateProduct, permission.EditProducts),
		p(OpUpdateProduct, permission.EditProducts),
		p(OpDeleteProduct, permission.EditProducts),
		p(OpListPlans, permission.ViewProducts),
		p(OpGetPlan, permission.ViewProducts),
		p(OpCreatePlan, permission.EditProducts),
		p(OpUpdatePlan, permission.EditProducts),
		p(OpDeletePlan, permission.EditProducts),

		p(OpListCustomers, permission.ViewCustomers),
		p(OpGetCustomer, permission.ViewCustomers),
		p(OpCreateCustomer, permission.EditCustomers),
		p(OpUpdateCustomer, permission.EditCustomers),
		p(OpDeleteCustomer, permission.EditCustomers),

		p(OpListLicenses, permission.ViewLicenses),
		p(OpGetLicense, permission.ViewLicenses),
		p(OpCreateLicense, permission.EditLicenses),
		p(OpUpdateLicense, permission.EditLicenses),
		p(OpSetLicenseStatus, permission.EditLicenses),
		p(OpReissueLicense, permission.EditLicenses),
		p(OpDeleteLicense, permission.EditLicenses),
		a(OpValidateLicense, AccessPublic),

		a(OpCreateUserToken, AccessAdmin),
		a(OpSetUserTokenPermissions, AccessAdmin),
		a(OpReactivateUserToken, AccessAdmin),
		// Viewing and rotating tokens narrows or keeps access, never widens
		// it: Edit User Tokens covers them.
		p(OpListUserTokens, permission.EditUserTokens),
		p(OpGetUserToken, permission.EditUserTokens),
		p(OpRotateUserToken, permission.EditUserTokens),
		p(OpDeactivateUserToken, permission.EditUserTokens),
		p(OpDeleteUserToken, permission.EditUserTokens),

		a(OpExchange, AccessPublic),
		a(OpRefresh, AccessPublic),
		a(OpRevoke, AccessPublic),
		a(OpIntrospect, AccessAuthenticated),

		// The console's sign-in: the password or the session cookie is the
		// proof, as a user token is Exchange's. ConfirmPassword is
		// ChangePassword's proof without the change.
		a(OpSignIn, AccessPublic),
		a(OpAuthenticateSession, AccessPublic),
		a(OpSignOut, AccessPublic),
		a(OpChangePassword, AccessPublic),

		p(OpListAudit, permission.ViewAudit),
		// The review shows what tokens did (last use, permissions
		// exercised): audit data.
		p(OpReview, permission.ViewAudit),
	}
}

func rulesByOperation() map[Operation]OperationRule {
	m := map[Operation]OperationRule{}
	for _, r := range Operations() {
		m[r.Operation] = r
	}
	return m
}

// authorize decides whether actor may perform op in tenantID. For a token
// principal it also charges the tenant's API quota, after the permission
// check, so the errors come in the contract's order: access denied, then
// the license limit. Refusals of principals are audited.
func (e *Engine) authorize(ctx context.Context, actor Actor, tenantID string, op Operation) error {
	if e.closed.Load() {
		return ErrClosed
	}
	rule, ok := e.rules[op]
	if !ok {
		return fmt.Errorf("%w: operation %q has no declared rule", ErrAccessDenied, op)
	}
	switch a := actor.(type) {
	case systemActor:
		return nil
	case Admin:
		if rule.Access == AccessSystem || a.TenantID != tenantID {
			return ErrAccessDenied
		}
		return e.checkAdmin(ctx, a)
	case *Principal:
		if a == nil || a.tenant == nil {
			return ErrInvalidToken
		}
		if a.TenantID != tenantID {
			e.denied(a, op, "other_tenant", "")
			return ErrAccessDenied
		}
		now := e.now()
		switch rule.Access {
		case AccessPermission:
			if !a.Permissions.Has(rule.Permission) {
				e.denied(a, op, "missing_permission", rule.Permission.Code())
				return ErrAccessDenied
			}
			if a.usage != nil {
				a.usage.usePermission(rule.Permission, now.UnixNano())
			}
		case AccessAuthenticated:
		default:
			e.denied(a, op, "admin_only", "")
			return ErrAccessDenied
		}
		return e.chargeAPI(ctx, a, now)
	case nil:
		return ErrAccessDenied
	}
	return ErrAccessDenied
}

// checkAdmin verifies that the host's admin is an active admin user.
func (e *Engine) checkAdmin(ctx context.Context, a Admin) error {
	var u store.User
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		u, err = tx.Tenant(a.TenantID).Users().Get(ctx, a.UserID)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid):
		return ErrAccessDenied
	case err != nil:
		return err
	case u.Role != store.RoleAdmin || u.Status != store.UserActive:
		return ErrAccessDenied
	}
	return nil
}

func (e *Engine) denied(p *Principal, op Operation, reason, perm string) {
	ev := Event{
		TenantID: p.TenantID, Type: EventAccessDenied, Severity: store.SeverityWarning,
		TokenID: p.TokenID.String(), ClientAddr: addrString(p.ClientAddr), Reason: reason,
		Details: map[string]string{"operation": string(op)},
	}
	if perm != "" {
		ev.Details["permission"] = perm
	}
	e.audit.enqueue(ev)
}

// chargeAPI admits one API request against the principal's tenant quota.
func (e *Engine) chargeAPI(ctx context.Context, p *Principal, now time.Time) error {
	d, err := e.takeAPI(ctx, p.tenant, now)
	if err != nil {
		return err
	}
	p.Quota = d
	if !d.Allowed {
		e.audit.enqueue(Event{
			TenantID: p.TenantID, Type: EventLimitReached, Severity: store.SeverityWarning,
			TokenID: p.TokenID.String(), ClientAddr: addrString(p.ClientAddr), Reason: quotaAPI,
		})
		return &LimitError{Kind: ErrLicenseLimit, Decision: d}
	}
	return nil
}

// Authorize checks that p holds perm and charges one request to its
// tenant's API quota: what a host's own route guarded by one permission
// needs. Errors: ErrInvalidToken (p is not from Authenticate),
// ErrAccessDenied, ErrLicenseLimit (a *LimitError).
func (e *Engine) Authorize(ctx context.Context, p *Principal, perm permission.Permission) error {
	if p == nil || p.tenant == nil {
		return ErrInvalidToken
	}
	if !p.Permissions.Has(perm) {
		e.denied(p, "", "missing_permission", perm.Code())
		return ErrAccessDenied
	}
	now := e.now()
	if p.usage != nil {
		p.usage.usePermission(perm, now.UnixNano())
	}
	return e.chargeAPI(ctx, p, now)
}
