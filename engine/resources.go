package engine

import (
	"context"
	"errors"
	"maps"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// This file holds the tenant-scoped CRUD operations for users, groups
// (and their members), products, plans and customers. Every operation
// authorizes first (authz.go declares its rule), validates its input
// (errors wrap ErrInvalidInput), writes in one transaction together with
// its audit event, and maps a malformed ID to ErrNotFound: to a caller an
// ID that cannot exist and one that does not are the same.

// Input bounds.
const (
	maxNameBytes        = 200
	maxDescriptionBytes = 2000
	// maxEmailBytes is the longest address SMTP can carry (RFC 5321 §4.5.3.1
	// read with RFC 3696 errata).
	maxEmailBytes       = 254
	maxEntitlements     = 64
	maxEntitlementBytes = 1024
)

// --- users ------------------------------------------------------------------

// NewUser describes a user to create. The engine chooses the ID and
// makes the user active; a password hash is not set here.
type NewUser struct {
	// Email is required and unique within the tenant. It is stored
	// lowercased, so addresses that differ only in case are the same.
	Email string
	// Name is the user's display name, required.
	Name string
	// Role is store.RoleAdmin or store.RoleMember; empty means member.
	// Only tenant admins and the system may create admins.
	Role store.Role
}

// UserPatch changes a user; nil fields stay as they are. The password hash
// cannot be changed here.
type UserPatch struct {
	Name  *string
	Email *string
	// Role: only tenant admins and the system may change it to or from
	// admin.
	Role *store.Role
	// Status deactivated stops the user acting as an admin at once.
	Status *store.UserStatus
}

// CreateUser creates a user (users:create). Errors: ErrInvalidInput (the
// message says which field, or that the tenant's platform license allows
// no more users), ErrAlreadyExists (the email is taken in the tenant),
// ErrAccessDenied (also: a token creating an admin).
func (e *Engine) CreateUser(ctx context.Context, actor Actor, tenantID string, in NewUser) (store.User, error) {
	if err := e.authorize(ctx, actor, tenantID, OpCreateUser); err != nil {
		return store.User{}, err
	}
	name, err := cleanName("user name", in.Name)
	if err != nil {
		return store.User{}, err
	}
	email, err := cleanEmail("user email", in.Email, true)
	if err != nil {
		return store.User{}, err
	}
	role, err := checkRole(in.Role)
	if err != nil {
		return store.User{}, err
	}
	if role == store.RoleAdmin {
		if err := e.adminOnly(actor, OpCreateUser); err != nil {
			return store.User{}, err
		}
	}
	now := e.clock()
	rec := store.User{
		TenantID: tenantID, ID: newID(), Email: email, Name: name, Role: role, Status: store.UserActive,
		CreatedAt: now, UpdatedAt: now,
	}
	ev := Event{
		TenantID: tenantID, Type: EventUserCreated, Actor: actorName(actor),
		Details: map[string]string{"user": rec.ID, "role": string(role)},
	}
	err = e.createRecord(ctx, tenantID, &ev, func(tx store.Tx, scope store.TenantTx, t tenant.Tenant) error {
		if err := enforceCap(ctx, tx, t, t.License.Limits.MaxUsers, "users", scope.Users().List); err != nil {
			return err
		}
		return scope.Users().Create(ctx, rec)
	})
	if err != nil {
		return store.User{}, err
	}
	return userView(rec), nil
}

// countUsers counts the tenant's users, stopping at upTo.
// enforceCap refuses a creation that would take the tenant past max
// records of a kind (max <= 0: no cap). Counting pages through the
// records: O(records) reads per creation, acceptable because creations
// are rare next to reads; a per-tenant counter would make it O(1).
//
// Two concurrent creations could both count max-1 and both insert, since
// a range read does not see the other's insert. Writing back the tenant
// record both read makes them conflict (the store lets at most one
// read-then-write of a record commit on the value read); e.update runs the
// loser again and it recounts. The record is unchanged.
func enforceCap[T any](ctx context.Context, tx store.Tx, t tenant.Tenant, max int64, what string,
	list func(context.Context, store.Page) ([]T, string, error)) error {
	return enforceCapN(ctx, tx, t, max, what, list, 1)
}

// enforceCapN is enforceCap for adding records at once.
func enforceCapN[T any](ctx context.Context, tx store.Tx, t tenant.Tenant, max int64, what string,
	list func(context.Context, store.Page) ([]T, string, error), adding int64) error {
	if max <= 0 {
		return nil
	}
	// Past max-adding records the answer is known: stop counting there.
	enough := max - adding + 1
	if enough < 1 {
		enough = 1
	}
	n, err := countUpTo(ctx, list, enough)
	if err != nil {
		return err
	}
	if n+adding > max {
		return invalidInput("the tenant's platform license allows %d %s", max, what)
	}
	return tx.Tenants().Update(ctx, t)
}

// countUpTo counts the records list pages through, stopping once it has
// seen limit of them (limit <= 0: all of them).
func countUpTo[T any](ctx context.Context, list func(context.Context, store.Page) ([]T, string, error), limit int64) (int64, error) {
	var n int64
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		recs, next, err := list(ctx, page)
		if err != nil {
			return 0, err
		}
		n += int64(len(recs))
		if next == "" || (limit > 0 && n >= limit) {
			return n, nil
		}
		page.After = next
	}
}

// GetUser returns a user (users:view). The password hash is never
// returned. ErrNotFound if the tenant has no such user.
func (e *Engine) GetUser(ctx context.Context, actor Actor, tenantID, id string) (store.User, error) {
	if err := e.authorize(ctx, actor, tenantID, OpGetUser); err != nil {
		return store.User{}, err
	}
	rec, err := getRecord(ctx, e, tenantID, id, usersColl)
	return userView(rec), err
}

// ListUsers pages through the tenant's users in ID order (users:view).
// Password hashes are never returned.
func (e *Engine) ListUsers(ctx context.Context, actor Actor, tenantID string, page store.Page) ([]store.User, string, error) {
	if err := e.authorize(ctx, actor, tenantID, OpListUsers); err != nil {
		return nil, "", err
	}
	recs, next, err := listRecords(ctx, e, tenantID, page, usersColl)
	for i := range recs {
		recs[i] = userView(recs[i])
	}
	return recs, next, err
}

// UpdateUser changes a user's name, email, role or status (users:edit).
// A token may neither change an admin nor make one: that is for tenant
// admins and the system. Deactivating a user stops it acting as an admin
// at once. Errors: ErrNotFound, ErrInvalidInput, ErrAlreadyExists (the
// new email is taken), ErrAccessDenied.
func (e *Engine) UpdateUser(ctx context.Context, actor Actor, tenantID, id string, p UserPatch) (store.User, error) {
	if err := e.authorize(ctx, actor, tenantID, OpUpdateUser); err != nil {
		return store.User{}, err
	}
	var name, email string
	var err error
	if p.Name != nil {
		if name, err = cleanName("user name", *p.Name); err != nil {
			return store.User{}, err
		}
	}
	if p.Email != nil {
		if email, err = cleanEmail("user email", *p.Email, true); err != nil {
			return store.User{}, err
		}
	}
	if p.Role != nil {
		if *p.Role != store.RoleAdmin && *p.Role != store.RoleMember {
			return store.User{}, invalidInput("user role %q: want admin or member", *p.Role)
		}
	}
	if p.Status != nil {
		switch *p.Status {
		case store.UserActive, store.UserDeactivated:
		default:
			return store.User{}, invalidInput("user status %q: want active or deactivated", *p.Status)
		}
	}
	if p == (UserPatch{}) {
		rec, err := getRecord(ctx, e, tenantID, id, usersColl)
		return userView(rec), err
	}
	ev := Event{TenantID: tenantID, Type: EventUserUpdated, Actor: actorName(actor)}
	rec, err := changeRecord(ctx, e, tenantID, id, usersColl, &ev, func(scope store.TenantTx, r *store.User) error {
		if _, ok := actor.(*Principal); ok && (r.Role == store.RoleAdmin || (p.Role != nil && *p.Role == store.RoleAdmin)) {
			return errAdminOnly
		}
		demoted := p.Role != nil && *p.Role != store.RoleAdmin
		deactivated := p.Status != nil && *p.Status != store.UserActive
		if _, ok := actor.(Admin); ok && isActiveAdmin(*r) && (demoted || deactivated) {
			if err := keepAnAdmin(ctx, scope, r.ID); err != nil {
				return err
			}
		}
		// Reactivating a user brings back every token of theirs, which only
		// an admin may do for a single token: so only an admin reactivates.
		if _, ok := actor.(*Principal); ok && p.Status != nil && *p.Status == store.UserActive && r.Status != store.UserActive {
			return errAdminOnly
		}
		ev.Severity = ""
		// Details are rebuilt on every run: e.update may run this again.
		ev.Details = map[string]string{"user": r.ID, "fields": patchFields(
			field{"name", p.Name != nil}, field{"email", p.Email != nil},
			field{"role", p.Role != nil}, field{"status", p.Status != nil},
		)}
		if p.Name != nil {
			r.Name = name
		}
		if p.Email != nil && email != r.Email {
			r.Email = email
			r.SessionEpoch++
		}
		if p.Role != nil && *p.Role != r.Role {
			// A change of role is a change of privileges.
			ev.Details["role_before"], ev.Details["role"] = string(r.Role), string(*p.Role)
			ev.Severity = store.SeverityWarning
			r.Role = *p.Role
			r.SessionEpoch++ // ends the user's console sessions, for good
		}
		if p.Status != nil && *p.Status != r.Status {
			ev.Details["status_before"], ev.Details["status"] = string(r.Status), string(*p.Status)
			r.Status = *p.Status
			r.SessionEpoch++
		}
		return nil
	})
	if err != nil {
		return store.User{}, e.adminOnlyError(err, actor, OpUpdateUser)
	}
	if p.Status != nil {
		// A deactivated user's tokens stop at once (and resume with them).
		e.ownerChanged(tenantID, id)
	}
	return userView(rec), nil
}

// DeleteUser removes a user and its group memberships (users:delete). A
// token may not delete an admin. ErrNotFound if there is no such user.
func (e *Engine) DeleteUser(ctx context.Context, actor Actor, tenantID, id string) error {
	if err := e.authorize(ctx, actor, tenantID, OpDeleteUser); err != nil {
		return err
	}
	ev := Event{TenantID: tenantID, Type: EventUserDeleted, Actor: actorName(actor), Details: map[string]string{"user": id}}
	err := e.writeRecord(ctx, tenantID, &ev, func(scope store.TenantTx) error {
		u, err := scope.Users().Get(ctx, id)
		if err != nil {
			return notFound(err)
		}
		if _, ok := actor.(*Principal); ok && u.Role == store.RoleAdmin {
			return errAdminOnly
		}
		if _, ok := actor.(Admin); ok && isActiveAdmin(u) {
			if err := keepAnAdmin(ctx, scope, u.ID); err != nil {
				return err
			}
		}
		return notFound(scope.Users().Delete(ctx, id))
	})
	if err != nil {
		return e.adminOnlyError(err, actor, OpDeleteUser)
	}
	// A deleted user's tokens stop at once.
	e.ownerChanged(tenantID, id)
	return nil
}

func isActiveAdmin(u store.User) bool {
	return u.Role == store.RoleAdmin && u.Status == store.UserActive
}

// keepAnAdmin refuses to let an administrator demote, deactivate or
// delete the tenant's last active administrator (themselves included),
// which would leave nobody able to sign in to the console or create
// tokens. The system actor is not held to it: the host may.
func keepAnAdmin(ctx context.Context, scope store.TenantTx, except string) error {
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		users, next, err := scope.Users().List(ctx, page)
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.ID != except && isActiveAdmin(u) {
				return nil
			}
		}
		if next == "" {
			return invalidInput("the tenant's last active administrator cannot be demoted, deactivated or deleted")
		}
		page.After = next
	}
}

// userView is the user as the engine returns it: without the password
// hash, which never leaves the engine.
func userView(u store.User) store.User {
	u.PasswordHash = ""
	return u
}

func checkRole(r store.Role) (store.Role, error) {
	switch r {
	case "":
		return store.RoleMember, nil
	case store.RoleAdmin, store.RoleMember:
		return r, nil
	}
	return "", invalidInput("user role %q: want admin or member", r)
}

// errAdminOnly marks a refusal of a token principal for touching an
// administrator; adminOnlyError audits it.
var errAdminOnly = errors.New("licensekit: administrators only")

// adminOnly refuses token principals: operations that would create,
// change or remove an administrator belong to admins and the system, or a
// token with users:create or users:edit could make its own user an admin.
func (e *Engine) adminOnly(actor Actor, op Operation) error {
	if p, ok := actor.(*Principal); ok {
		e.denied(p, op, "admin_only", "")
		return ErrAccessDenied
	}
	return nil
}

// adminOnlyError turns errAdminOnly from inside a transaction into an
// audited ErrAccessDenied.
func (e *Engine) adminOnlyError(err error, actor Actor, op Operation) error {
	if errors.Is(err, errAdminOnly) {
		if aerr := e.adminOnly(actor, op); aerr != nil {
			return aerr
		}
		return ErrAccessDenied
	}
	return err
}

// --- groups -----------------------------------------------------------------

// NewGroup describes a group to create. The engine chooses the ID.
type NewGroup struct {
	Name        string // required
	Description string // optional
}

// GroupPatch changes a group; nil fields stay as they are.
type GroupPatch struct {
	Name        *string
	Description *string
}

// CreateGroup creates an empty group (groups:create).
func (e *Engine) CreateGroup(ctx context.Context, actor Actor, tenantID string, in NewGroup) (store.Group, error) {
	if err := e.authorize(ctx, actor, tenantID, OpCreateGroup); err != nil {
		return store.Group{}, err
	}
	name, err := cleanName("group name", in.Name)
	if err != nil {
		return store.Group{}, err
	}
	desc, err := cleanDescription("group description", in.Description)
	if err != nil {
		return store.Group{}, err
	}
	now := e.clock()
	rec := store.Group{TenantID: tenantID, ID: newID(), Name: name, Description: desc, CreatedAt: now, UpdatedAt: now}
	ev := Event{TenantID: tenantID, Type: EventGroupCreated, Actor: actorName(actor), Details: map[string]string{"group": rec.ID}}
	err = e.createRecord(ctx, tenantID, &ev, func(_ store.Tx, scope store.TenantTx, _ tenant.Tenant) error {
		return scope.Groups().Create(ctx, rec)
	})
	if err != nil {
		return store.Group{}, err
	}
	return rec, nil
}

// GetGroup returns a group (users:view: a group is a set of users).
func (e *Engine) GetGroup(ctx context.Context, actor Actor, tenantID, id string) (store.Group, error) {
	if err := e.authorize(ctx, actor, tenantID, OpGetGroup); err != nil {
		return store.Group{}, err
	}
	return getRecord(ctx, e, tenantID, id, groupsColl)
}

// ListGroups pages through the tenant's groups in ID order (users:view).
func (e *Engine) ListGroups(ctx context.Context, actor Actor, tenantID string, page store.Page) ([]store.Group, string, error) {
	if err := e.authorize(ctx, actor, tenantID, OpListGroups); err != nil {
		return nil, "", err
	}
	return listRecords(ctx, e, tenantID, page, groupsColl)
}

// UpdateGroup changes a group's name or description (groups:edit).
func (e *Engine) UpdateGroup(ctx context.Context, actor Actor, tenantID, id string, p GroupPatch) (store.Group, error) {
	if err := e.authorize(ctx, actor, tenantID, OpUpdateGroup); err != nil {
		return store.Group{}, err
	}
	var name, desc string
	var err error
	if p.Name != nil {
		if name, err = cleanName("group name", *p.Name); err != nil {
			return store.Group{}, err
		}
	}
	if p.Description != nil {
		if desc, err = cleanDescription("group description", *p.Description); err != nil {
			return store.Group{}, err
		}
	}
	if p == (GroupPatch{}) {
		return getRecord(ctx, e, tenantID, id, groupsColl)
	}
	ev := Event{
		TenantID: tenantID, Type: EventGroupUpdated, Actor: actorName(actor),
		Details: map[string]string{"group": id, "fields": patchFields(field{"name", p.Name != nil}, field{"description", p.Description != nil})},
	}
	return changeRecord(ctx, e, tenantID, id, groupsColl, &ev, func(_ store.TenantTx, r *store.Group) error {
		if p.Name != nil {
			r.Name = name
		}
		if p.Description != nil {
			r.Description = desc
		}
		return nil
	})
}

// DeleteGroup removes a group and its memberships, never its users
// (groups:delete).
func (e *Engine) DeleteGroup(ctx context.Context, actor Actor, tenantID, id string) error {
	if err := e.authorize(ctx, actor, tenantID, OpDeleteGroup); err != nil {
		return err
	}
	ev := Event{TenantID: tenantID, Type: EventGroupDeleted, Actor: actorName(actor), Details: map[string]string{"group": id}}
	return e.writeRecord(ctx, tenantID, &ev, func(scope store.TenantTx) error {
		return notFound(scope.Groups().Delete(ctx, id))
	})
}

// AddGroupMember adds a user of the tenant to a group (groups:edit);
// adding a member again changes nothing. Errors: ErrNotFound (no such
// group), ErrInvalidInput (userID is not a user of the tenant).
func (e *Engine) AddGroupMember(ctx context.Context, actor Actor, tenantID, groupID, userID string) error {
	if err := e.authorize(ctx, actor, tenantID, OpAddGroupMember); err != nil {
		return err
	}
	ev := Event{
		TenantID: tenantID, Type: EventGroupMemberAdded, Actor: actorName(actor),
		Details: map[string]string{"group": groupID, "user": userID},
	}
	return e.writeRecord(ctx, tenantID, &ev, func(scope store.TenantTx) error {
		if _, err := scope.Groups().Get(ctx, groupID); err != nil {
			return notFound(err)
		}
		// The store does not check members: a user of another tenant (or
		// of none) must not get in.
		if _, err := scope.Users().Get(ctx, userID); err != nil {
			return refError("user", userID, err)
		}
		return scope.Groups().AddMember(ctx, groupID, userID)
	})
}

// RemoveGroupMember removes a user from a group (groups:edit).
// ErrNotFound if there is no such group or the user is not a member.
func (e *Engine) RemoveGroupMember(ctx context.Context, actor Actor, tenantID, groupID, userID string) error {
	if err := e.authorize(ctx, actor, tenantID, OpRemoveGroupMember); err != nil {
		return err
	}
	ev := Event{
		TenantID: tenantID, Type: EventGroupMemberRemoved, Actor: actorName(actor),
		Details: map[string]string{"group": groupID, "user": userID},
	}
	return e.writeRecord(ctx, tenantID, &ev, func(scope store.TenantTx) error {
		return notFound(scope.Groups().RemoveMember(ctx, groupID, userID))
	})
}

// ListGroupMembers pages through a group's members in user-ID order
// (users:view). ErrNotFound if there is no such group.
func (e *Engine) ListGroupMembers(ctx context.Context, actor Actor, tenantID, groupID string, page store.Page) ([]store.User, string, error) {
	if err := e.authorize(ctx, actor, tenantID, OpListGroupMembers); err != nil {
		return nil, "", err
	}
	var (
		out  []store.User
		next string
	)
	err := e.st.View(ctx, func(tx store.Tx) error {
		scope := tx.Tenant(tenantID)
		if _, err := scope.Groups().Get(ctx, groupID); err != nil {
			return notFound(err)
		}
		ids, n, err := scope.Groups().Members(ctx, groupID, page)
		if err != nil {
			return pageError(err, page)
		}
		next = n
		out = make([]store.User, 0, len(ids))
		for _, id := range ids {
			u, err := scope.Users().Get(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleting a user removes its memberships; be safe anyway
			}
			if err != nil {
				return err
			}
			out = append(out, userView(u))
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// --- products ---------------------------------------------------------------

// NewProduct describes a product to create. The engine chooses the ID.
type NewProduct struct {
	Name        string // required
	Description string // optional
}

// ProductPatch changes a product; nil fields stay as they are.
type ProductPatch struct {
	Name        *string
	Description *string
}

// CreateProduct creates a product (products:edit).
func (e *Engine) CreateProduct(ctx context.Context, actor Actor, tenantID string, in NewProduct) (store.Product, error) {
	if err := e.authorize(ctx, actor, tenantID, OpCreateProduct); err != nil {
		return store.Product{}, err
	}
	name, err := cleanName("product name", in.Name)
	if err != nil {
		return store.Product{}, err
	}
	desc, err := cleanDescription("product description", in.Description)
	if err != nil {
		return store.Product{}, err
	}
	now := e.clock()
	rec := store.Product{TenantID: tenantID, ID: newID(), Name: name, Description: desc, CreatedAt: now, UpdatedAt: now}
	ev := Event{TenantID: tenantID, Type: EventProductCreated, Actor: actorName(actor), Details: map[string]string{"product": rec.ID}}
	err = e.createRecord(ctx, tenantID, &ev, func(_ store.Tx, scope store.TenantTx, _ tenant.Tenant) error {
		return scope.Products().Create(ctx, rec)
	})
	if err != nil {
		return store.Product{}, err
	}
	return rec, nil
}

// GetProduct returns a product (products:view).
func (e *Engine) GetProduct(ctx context.Context, actor Actor, tenantID, id string) (store.Product, error) {
	if err := e.authorize(ctx, actor, tenantID, OpGetProduct); err != nil {
		return store.Product{}, err
	}
	return getRecord(ctx, e, tenantID, id, productsColl)
}

// ListProducts pages through the tenant's products in ID order
// (products:view).
func (e *Engine) ListProducts(ctx context.Context, actor Actor, tenantID string, page store.Page) ([]store.Product, string, error) {
	if err := e.authorize(ctx, actor, tenantID, OpListProducts); err != nil {
		return nil, "", err
	}
	return listRecords(ctx, e, tenantID, page, productsColl)
}

// UpdateProduct changes a product's name or description (products:edit).
func (e *Engine) UpdateProduct(ctx context.Context, actor Actor, tenantID, id string, p ProductPatch) (store.Product, error) {
	if err := e.authorize(ctx, actor, tenantID, OpUpdateProduct); err != nil {
		return store.Product{}, err
	}
	var name, desc string
	var err error
	if p.Name != nil {
		if name, err = cleanName("product name", *p.Name); err != nil {
			return store.Product{}, err
		}
	}
	if p.Description != nil {
		if desc, err = cleanDescription("product description", *p.Description); err != nil {
			return store.Product{}, err
		}
	}
	if p == (ProductPatch{}) {
		return getRecord(ctx, e, tenantID, id, productsColl)
	}
	ev := Event{
		TenantID: tenantID, Type: EventProductUpdated, Actor: actorName(actor),
		Details: map[string]string{"product": id, "fields": patchFields(field{"name", p.Name != nil}, field{"description", p.Description != nil})},
	}
	return changeRecord(ctx, e, tenantID, id, productsColl, &ev, func(_ store.TenantTx, r *store.Product) error {
		if p.Name != nil {
			r.Name = name
		}
		if p.Description != nil {
			r.Description = desc
		}
		return nil
	})
}

// DeleteProduct removes a product (products:edit). It is refused with
// ErrInvalidInput while the product has plans: delete them first.
func (e *Engine) DeleteProduct(ctx context.Context, actor Actor, tenantID, id string) error {
	if err := e.authorize(ctx, actor, tenantID, OpDeleteProduct); err != nil {
		return err
	}
	ev := Event{TenantID: tenantID, Type: EventProductDeleted, Actor: actorName(actor), Details: map[string]string{"product": id}}
	return e.writeRecord(ctx, tenantID, &ev, func(scope store.TenantTx) error {
		if _, err := scope.Products().Get(ctx, id); err != nil {
			return notFound(err)
		}
		plans, _, err := scope.Plans().ListByProduct(ctx, id, store.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(plans) > 0 {
			return invalidInput("product %q still has plans: delete its plans first", id)
		}
		return notFound(scope.Products().Delete(ctx, id))
	})
}

// --- plans ------------------------------------------------------------------

// NewPlan describes a plan to create. The engine chooses the ID.
type NewPlan struct {
	// ProductID is the product the plan sells; it must exist in the tenant.
	ProductID string
	// Name is required.
	Name string
	// Entitlements are free-form: at most 64, names of 1 to 128 bytes,
	// values of at most 1024 bytes.
	Entitlements map[string]string
}

// PlanPatch changes a plan; nil fields stay as they are. A plan never
// moves to another product. Entitlements, when set, replace the whole map
// (a pointer to an empty map removes them all).
type PlanPatch struct {
	Name         *string
	Entitlements *map[string]string
}

// CreatePlan creates a plan of an existing product (products:edit).
// ErrInvalidInput if the product is not one of the tenant's.
func (e *Engine) CreatePlan(ctx context.Context, actor Actor, tenantID string, in NewPlan) (store.Plan, error) {
	if err := e.authorize(ctx, actor, tenantID, OpCreatePlan); err != nil {
		return store.Plan{}, err
	}
	name, err := cleanName("plan name", in.Name)
	if err != nil {
		return store.Plan{}, err
	}
	if err := checkEntitlements(in.Entitlements); err != nil {
		return store.Plan{}, err
	}
	if in.ProductID == "" {
		return store.Plan{}, invalidInput("plan product is required")
	}
	now := e.clock()
	rec := store.Plan{
		TenantID: tenantID, ID: newID(), ProductID: in.ProductID, Name: name,
		Entitlements: cloneEntitlements(in.Entitlements), CreatedAt: now, UpdatedAt: now,
	}
	ev := Event{
		TenantID: tenantID, Type: EventPlanCreated, Actor: actorName(actor),
		Details: map[string]string{"plan": rec.ID, "product": rec.ProductID},
	}
	err = e.createRecord(ctx, tenantID, &ev, func(_ store.Tx, scope store.TenantTx, _ tenant.Tenant) error {
		if _, err := scope.Products().Get(ctx, in.ProductID); err != nil {
			return refError("product", in.ProductID, err)
		}
		return scope.Plans().Create(ctx, rec)
	})
	if err != nil {
		return store.Plan{}, err
	}
	return rec, nil
}

// GetPlan returns a plan (products:view).
func (e *Engine) GetPlan(ctx context.Context, actor Actor, tenantID, id string) (store.Plan, error) {
	if err := e.authorize(ctx, actor, tenantID, OpGetPlan); err != nil {
		return store.Plan{}, err
	}
	return getRecord(ctx, e, tenantID, id, plansColl)
}

// ListPlans pages through one product's plans in ID order
// (products:view). ErrNotFound if there is no such product.
func (e *Engine) ListPlans(ctx context.Context, actor Actor, tenantID, productID string, page store.Page) ([]store.Plan, string, error) {
	if err := e.authorize(ctx, actor, tenantID, OpListPlans); err != nil {
		return nil, "", err
	}
	var (
		out  []store.Plan
		next string
	)
	err := e.st.View(ctx, func(tx store.Tx) error {
		scope := tx.Tenant(tenantID)
		if _, err := scope.Products().Get(ctx, productID); err != nil {
			return notFound(err)
		}
		var err error
		out, next, err = scope.Plans().ListByProduct(ctx, productID, page)
		return pageError(err, page)
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// UpdatePlan changes a plan's name or entitlements (products:edit).
func (e *Engine) UpdatePlan(ctx context.Context, actor Actor, tenantID, id string, p PlanPatch) (store.Plan, error) {
	if err := e.authorize(ctx, actor, tenantID, OpUpdatePlan); err != nil {
		return store.Plan{}, err
	}
	var name string
	var err error
	if p.Name != nil {
		if name, err = cleanName("plan name", *p.Name); err != nil {
			return store.Plan{}, err
		}
	}
	var ents map[string]string
	if p.Entitlements != nil {
		if err := checkEntitlements(*p.Entitlements); err != nil {
			return store.Plan{}, err
		}
		ents = cloneEntitlements(*p.Entitlements)
	}
	if p == (PlanPatch{}) {
		return getRecord(ctx, e, tenantID, id, plansColl)
	}
	ev := Event{
		TenantID: tenantID, Type: EventPlanUpdated, Actor: actorName(actor),
		Details: map[string]string{"plan": id, "fields": patchFields(field{"name", p.Name != nil}, field{"entitlements", p.Entitlements != nil})},
	}
	return changeRecord(ctx, e, tenantID, id, plansColl, &ev, func(_ store.TenantTx, r *store.Plan) error {
		ev.Details["product"] = r.ProductID
		if p.Name != nil {
			r.Name = name
		}
		if p.Entitlements != nil {
			r.Entitlements = maps.Clone(ents)
		}
		return nil
	})
}

// DeletePlan removes a plan (products:edit).
func (e *Engine) DeletePlan(ctx context.Context, actor Actor, tenantID, id string) error {
	if err := e.authorize(ctx, actor, tenantID, OpDeletePlan); err != nil {
		return err
	}
	ev := Event{TenantID: tenantID, Type: EventPlanDeleted, Actor: actorName(actor), Details: map[string]string{"plan": id}}
	return e.writeRecord(ctx, tenantID, &ev, func(scope store.TenantTx) error {
		plan, err := scope.Plans().Get(ctx, id)
		if err != nil {
			return notFound(err)
		}
		ev.Details["product"] = plan.ProductID
		return notFound(scope.Plans().Delete(ctx, id))
	})
}

func checkEntitlements(m map[string]string) error {
	if len(m) > maxEntitlements {
		return invalidInput("at most %d entitlements", maxEntitlements)
	}
	for k, v := range m {
		if err := checkName("entitlement name", k, 128); err != nil {
			return err
		}
		if len(v) > maxEntitlementBytes {
			return invalidInput("entitlement %q is longer than %d bytes", k, maxEntitlementBytes)
		}
		if !utf8.ValidString(v) {
			return invalidInput("entitlement %q is not valid UTF-8", k)
		}
	}
	return nil
}

// cloneEntitlements copies m so the caller's map never aliases a record;
// an empty map is stored as none.
func cloneEntitlements(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// --- customers --------------------------------------------------------------

// NewCustomer describes a customer to create. The engine chooses the ID.
type NewCustomer struct {
	// Name is required.
	Name string
	// Email is optional; when set it is validated and stored lowercased.
	// Customers' emails need not be unique.
	Email string
}

// CustomerPatch changes a customer; nil fields stay as they are. A pointer
// to "" removes the email.
type CustomerPatch struct {
	Name  *string
	Email *string
}

// CreateCustomer creates a customer (customers:edit).
func (e *Engine) CreateCustomer(ctx context.Context, actor Actor, tenantID string, in NewCustomer) (store.Customer, error) {
	if err := e.authorize(ctx, actor, tenantID, OpCreateCustomer); err != nil {
		return store.Customer{}, err
	}
	name, err := cleanName("customer name", in.Name)
	if err != nil {
		return store.Customer{}, err
	}
	email, err := cleanEmail("customer email", in.Email, false)
	if err != nil {
		return store.Customer{}, err
	}
	now := e.clock()
	rec := store.Customer{TenantID: tenantID, ID: newID(), Name: name, Email: email, CreatedAt: now, UpdatedAt: now}
	ev := Event{TenantID: tenantID, Type: EventCustomerCreated, Actor: actorName(actor), Details: map[string]string{"customer": rec.ID}}
	err = e.createRecord(ctx, tenantID, &ev, func(_ store.Tx, scope store.TenantTx, _ tenant.Tenant) error {
		return scope.Customers().Create(ctx, rec)
	})
	if err != nil {
		return store.Customer{}, err
	}
	return rec, nil
}

// GetCustomer returns a customer (customers:view).
func (e *Engine) GetCustomer(ctx context.Context, actor Actor, tenantID, id string) (store.Customer, error) {
	if err := e.authorize(ctx, actor, tenantID, OpGetCustomer); err != nil {
		return store.Customer{}, err
	}
	return getRecord(ctx, e, tenantID, id, customersColl)
}

// ListCustomers pages through the tenant's customers in ID order
// (customers:view).
func (e *Engine) ListCustomers(ctx context.Context, actor Actor, tenantID string, page store.Page) ([]store.Customer, string, error) {
	if err := e.authorize(ctx, actor, tenantID, OpListCustomers); err != nil {
		return nil, "", err
	}
	return listRecords(ctx, e, tenantID, page, customersColl)
}

// UpdateCustomer changes a customer's name or email (customers:edit).
func (e *Engine) UpdateCustomer(ctx context.Context, actor Actor, tenantID, id string, p CustomerPatch) (store.Customer, error) {
	if err := e.authorize(ctx, actor, tenantID, OpUpdateCustomer); err != nil {
		return store.Customer{}, err
	}
	var name, email string
	var err error
	if p.Name != nil {
		if name, err = cleanName("customer name", *p.Name); err != nil {
			return store.Customer{}, err
		}
	}
	if p.Email != nil {
		if email, err = cleanEmail("customer email", *p.Email, false); err != nil {
			return store.Customer{}, err
		}
	}
	if p == (CustomerPatch{}) {
		return getRecord(ctx, e, tenantID, id, customersColl)
	}
	ev := Event{
		TenantID: tenantID, Type: EventCustomerUpdated, Actor: actorName(actor),
		Details: map[string]string{"customer": id, "fields": patchFields(field{"name", p.Name != nil}, field{"email", p.Email != nil})},
	}
	return changeRecord(ctx, e, tenantID, id, customersColl, &ev, func(_ store.TenantTx, r *store.Customer) error {
		if p.Name != nil {
			r.Name = name
		}
		if p.Email != nil {
			r.Email = email
		}
		return nil
	})
}

// DeleteCustomer removes a customer (customers:edit).
func (e *Engine) DeleteCustomer(ctx context.Context, actor Actor, tenantID, id string) error {
	if err := e.authorize(ctx, actor, tenantID, OpDeleteCustomer); err != nil {
		return err
	}
	ev := Event{TenantID: tenantID, Type: EventCustomerDeleted, Actor: actorName(actor), Details: map[string]string{"customer": id}}
	return e.writeRecord(ctx, tenantID, &ev, func(scope store.TenantTx) error {
		return notFound(scope.Customers().Delete(ctx, id))
	})
}

// --- shared machinery -------------------------------------------------------

func usersColl(s store.TenantTx) store.Collection[store.User]         { return s.Users() }
func groupsColl(s store.TenantTx) store.Collection[store.Group]       { return s.Groups() }
func productsColl(s store.TenantTx) store.Collection[store.Product]   { return s.Products() }
func plansColl(s store.TenantTx) store.Collection[store.Plan]         { return s.Plans() }
func customersColl(s store.TenantTx) store.Collection[store.Customer] { return s.Customers() }

// getRecord reads one record of a tenant.
func getRecord[T any](ctx context.Context, e *Engine, tenantID, id string, coll func(store.TenantTx) store.Collection[T]) (T, error) {
	var rec T
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = coll(tx.Tenant(tenantID)).Get(ctx, id)
		return err
	})
	if err != nil {
		var zero T
		return zero, notFound(err)
	}
	return rec, nil
}

// listRecords reads one page of a tenant's records.
func listRecords[T any](ctx context.Context, e *Engine, tenantID string, page store.Page, coll func(store.TenantTx) store.Collection[T]) ([]T, string, error) {
	var (
		out  []T
		next string
	)
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		out, next, err = coll(tx.Tenant(tenantID)).List(ctx, page)
		return pageError(err, page)
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// pageError reports a cursor the store cannot read as bad input. Without
// a cursor, ErrInvalid can only be about an ID (the tenant's, a group's, a
// product's): not found.
func pageError(err error, page store.Page) error {
	if errors.Is(err, store.ErrInvalid) && page.After != "" {
		return invalidInput("malformed page cursor")
	}
	return notFound(err)
}

// createRecord runs fn in a transaction after loading the tenant (ErrNotFound
// when the system names a tenant that does not exist), and records ev in
// the same transaction.
func (e *Engine) createRecord(ctx context.Context, tenantID string, ev *Event, fn func(store.Tx, store.TenantTx, tenant.Tenant) error) error {
	err := e.update(ctx, func(tx store.Tx) error {
		t, err := tx.Tenants().Get(ctx, tenantID)
		if err != nil {
			return notFound(err)
		}
		if err := fn(tx, tx.Tenant(tenantID), t); err != nil {
			return err
		}
		return e.audit.record(ctx, tx, ev)
	})
	if err != nil {
		return err
	}
	e.audit.published(*ev)
	return nil
}

// writeRecord runs fn (a delete or a membership change) in a transaction and
// records ev in the same transaction.
func (e *Engine) writeRecord(ctx context.Context, tenantID string, ev *Event, fn func(store.TenantTx) error) error {
	err := e.update(ctx, func(tx store.Tx) error {
		if err := fn(tx.Tenant(tenantID)); err != nil {
			return err
		}
		return e.audit.record(ctx, tx, ev)
	})
	if err != nil {
		return err
	}
	e.audit.published(*ev)
	return nil
}

// changeRecord reads a record, applies change, stamps UpdatedAt and writes it
// back with ev, in one transaction.
func changeRecord[T any](ctx context.Context, e *Engine, tenantID, id string, coll func(store.TenantTx) store.Collection[T], ev *Event, change func(store.TenantTx, *T) error) (T, error) {
	var rec T
	err := e.update(ctx, func(tx store.Tx) error {
		scope := tx.Tenant(tenantID)
		c := coll(scope)
		var err error
		if rec, err = c.Get(ctx, id); err != nil {
			return notFound(err)
		}
		if err := change(scope, &rec); err != nil {
			return err
		}
		stampUpdated(&rec, e.clock())
		if err := c.Update(ctx, rec); err != nil {
			return err
		}
		return e.audit.record(ctx, tx, ev)
	})
	if err != nil {
		var zero T
		return zero, err
	}
	e.audit.published(*ev)
	return rec, nil
}

func stampUpdated(rec any, now time.Time) {
	switch r := rec.(type) {
	case *store.User:
		r.UpdatedAt = now
	case *store.Group:
		r.UpdatedAt = now
	case *store.Product:
		r.UpdatedAt = now
	case *store.Plan:
		r.UpdatedAt = now
	case *store.Customer:
		r.UpdatedAt = now
	default:
		panic("licensekit: stampUpdated: unknown record type")
	}
}

// field is one field of a patch: its name and whether it is set.
type field struct {
	name string
	set  bool
}

// patchFields names the set fields of a patch for the audit log.
func patchFields(fs ...field) string {
	var names []string
	for _, f := range fs {
		if f.set {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, ",")
}

// --- input cleaning ---------------------------------------------------------

// cleanName trims a name and checks it: required, at most maxNameBytes,
// no control characters.
func cleanName(what, s string) (string, error) {
	s = strings.TrimSpace(s)
	if err := checkName(what, s, maxNameBytes); err != nil {
		return "", err
	}
	return s, nil
}

// cleanDescription trims a description and checks it: optional, at most
// maxDescriptionBytes of UTF-8, control characters other than newlines
// and tabs refused.
func cleanDescription(what, s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxDescriptionBytes {
		return "", invalidInput("%s is longer than %d bytes", what, maxDescriptionBytes)
	}
	if !utf8.ValidString(s) {
		return "", invalidInput("%s is not valid UTF-8", what)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || r == 0x7f }) {
		return "", invalidInput("%s contains control characters", what)
	}
	return s, nil
}

// cleanEmail checks a bare address (no display name, no comments) with
// net/mail and lowercases it: the store compares emails byte for byte,
// and two users whose addresses differ only in case are one person.
// Empty is allowed only when !required.
func cleanEmail(what, s string, required bool) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		if required {
			return "", invalidInput("%s is required", what)
		}
		return "", nil
	}
	if len(s) > maxEmailBytes {
		return "", invalidInput("%s is longer than %d bytes", what, maxEmailBytes)
	}
	if store.CheckID(s) != nil {
		return "", invalidInput("%s contains control characters or invalid UTF-8", what)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", invalidInput("%s %q is not a plain email address (name@domain)", what, s)
	}
	return s, nil
}
