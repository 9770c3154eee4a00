package engine

import (
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/tenant"
)

// Actor is who performs an operation. There are three kinds, and no
// others can be made outside this package:
//
//   - Admin: a tenant administrator the host has signed in (a user of the
//     tenant with role admin). The engine checks the user's role and status
//     on every operation. Admins may do everything inside their tenant,
//     including the administrator-only operations (creating user tokens,
//     setting a token's permissions).
//   - *Principal: a request authenticated with an access token (returned by
//     Authenticate). It may do exactly what its permissions allow inside its
//     tenant; every operation charges the tenant's API quota.
//   - System: the host itself, for bootstrap (creating tenants and their
//     first administrator) and platform management.
type Actor interface{ actor() }

var (
	_ Actor = Admin{}
	_ Actor = systemActor{}
	_ Actor = (*Principal)(nil)
)

// Admin is a tenant administrator acting through the host (the admin
// console, a CLI). The host vouches for the sign-in; the engine checks that
// UserID is an active admin of TenantID.
type Admin struct {
	TenantID string
	UserID   string
}

func (Admin) actor() {}

// System returns the host's own actor.
func System() Actor { return systemActor{} }

type systemActor struct{}

func (systemActor) actor() {}

// Principal is an authenticated access token. It is created by
// Authenticate and lives for one request.
type Principal struct {
	TenantID    string
	TokenID     uuid.UUID
	UserID      string
	Permissions permission.Set
	ExpiresAt   time.Time
	ClientAddr  netip.Addr
	// Quota is the tenant's API quota after this request was admitted,
	// for rate-limit response headers. Zero until an operation charged it.
	Quota tenant.Decision

	family     uuid.UUID
	generation uint64
	tenant     *tenantState
	usage      *tokenUsage // nil when usage is not tracked
	authAt     int64       // unix nanos of the authentication
}

func (*Principal) actor() {}
