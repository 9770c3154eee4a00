// Package engine is licensekit's façade: every operation of the product,
// with tenancy, permissions, quotas, credentials and audit enforced
// inside it, over any store.Store. The HTTP adapter only translates it.
//
// # Where to start
//
// New builds an Engine from a Config (a store and a master key at least).
// The host bootstraps with the System actor: CreateTenant, then CreateUser
// for the tenant's first administrator. From then on:
//
//   - an administrator, acting as Admin{TenantID, UserID}, creates user
//     tokens with CreateUserToken and hands the credential (shown once) to a
//     program;
//   - the program calls Exchange (OAuth 2.0 client credentials) to get a
//     24-hour access token and a refresh token, and Refresh to renew them;
//   - each API request calls Authenticate with the access token, and the
//     returned *Principal is the actor of the operation it performs; the
//     operation checks the principal's permission and charges the tenant's
//     API quota;
//   - client applications call ValidateLicense with a license key and no
//     token at all.
//
// # Credentials
//
// Every secret has 256 random bits (license keys 130), is returned once as
// a Secret (which prints as [REDACTED] everywhere but Reveal), and is stored
// only as an HMAC-SHA256 digest under a key derived (HKDF) from the master
// key, which never enters the store. A user token is "lkut_" + its UUID and
// secret + a CRC-32, so junk is refused before any store read and leaked
// tokens are easy to scan for. An access token ("lkat_") is self-contained
// and MAC'd; it names its user token, the token's generation and its
// refresh family, so rotating the user token (a new generation), revoking
// the family or deactivating the token ends every access token at once, in
// one write. Refresh tokens ("lkrt_") are single use; reuse revokes the
// family (RFC 9700 §4.14.2).
//
// # Operations and their guards
//
// Every operation is declared in Operations with exactly one rule; an
// undeclared operation is refused (deny by default). Admins may perform
// every operation of their tenant except the system ones; token principals
// need the listed permission; extensions to the product's permission
// catalogue are marked (ext).
//
//	operation                 guard
//	CreateTenant              system only
//	GetTenant, TenantStatus   admin only
//	ListTenants               system only
//	SetTenantLicense          system only
//	SetTenantPolicy           admin only
//	SuspendTenant             system only
//	ListUsers, GetUser        users:view
//	CreateUser                users:create
//	UpdateUser                users:edit
//	DeleteUser                users:delete
//	SetPassword               admin only
//	ListGroups, GetGroup,
//	ListGroupMembers          users:view
//	CreateGroup               groups:create
//	UpdateGroup,
//	AddGroupMember,
//	RemoveGroupMember         groups:edit
//	DeleteGroup               groups:delete
//	ListProducts, GetProduct,
//	ListPlans, GetPlan        products:view
//	Create/Update/Delete
//	  Product and Plan        products:edit
//	ListCustomers,
//	GetCustomer               customers:view
//	Create/Update/Delete
//	  Customer                customers:edit (ext)
//	ListLicenses, GetLicense  licenses:view
//	CreateLicense,
//	UpdateLicense,
//	SetLicenseStatus,
//	ReissueLicense,
//	DeleteLicense             licenses:edit
//	ValidateLicense           public
//	CreateUserToken,
//	SetUserTokenPermissions,
//	RemoveUnusedPermissions,
//	ReactivateUserToken       admin only
//	ListUserTokens,
//	GetUserToken,
//	RotateUserToken,
//	DeactivateUserToken,
//	DeleteUserToken           tokens:edit
//	Exchange, Refresh, Revoke public (the credential is the proof)
//	SignIn, AuthenticateSession,
//	SignOut, ChangePassword,
//	ConfirmPassword           public (the password or session is the proof)
//	Introspect                any authenticated principal of the tenant
//	ListAudit                 audit:view (ext)
//	Review                    audit:view (ext)
//
// RemoveUnusedPermissions is guarded by the rule of SetUserTokenPermissions
// (it is one), RotateUserTokenFrom by RotateUserToken's, TokenActivity by
// ListUserTokens'. Sweep is the host's and the engine's own background work,
// not an operation of any actor.
//
// # Errors
//
// Operations return the sentinels of errors.go, checked with errors.Is:
// ErrInvalidToken, ErrInvalidLicense, ErrAccessDenied, ErrLicenseLimit (a
// *LimitError with the wait), ErrTooManyAttempts, ErrNotFound,
// ErrAlreadyExists, ErrInvalidInput. When several apply they come in that
// order: a bad token before an invalid license before a missing permission
// before a limit.
//
// # Governance
//
// Everything of DESIGN §8 is in the engine:
//
//   - The audit log (ListAudit): token lifecycle, refresh-token reuse,
//     permission changes, user and license changes, every failed
//     authentication with its reason code and client address (never what
//     was presented), every denied access with the missing permission,
//     every 429. Config.AuditRetention deletes old events in the
//     background (Sweep).
//   - The Observer and the Logger hear of every event as it happens, off
//     the request path.
//   - Alert rules (Config.AlertRules, DefaultAlertRules): N failed
//     authentications within W per client address, tenant or token raise
//     one EventAlertFired of high severity per window.
//   - Usage tracking: per user token, the last use (time, client address),
//     requests per UTC day (UsageDays kept) and, per permission, when the
//     token last exercised it. Recorded in memory on the request path
//     (atomics, no allocation), merged into the store's usage records
//     every Config.UsageFlushInterval, on Flush and on Close.
//   - Review: the least-privilege review of a tenant's tokens (never
//     used, stale, unused permissions with the set that would have served,
//     no expiry, expiring, due for rotation under tenant.Policy.MaxTokenAge);
//     RemoveUnusedPermissions applies its suggestion to one token.
//   - Policies (tenant.Policy): MaxTokenLifetime refuses longer-lived
//     tokens at creation; DeactivateUnusedAfter deactivates unused tokens
//     in the background (Sweep), each deactivation audited.
//
// # Administrator sign-in (the admin console)
//
// The console (package httpadapter/console) signs tenant administrators in
// through the engine, so its rules hold for any front end:
//
//   - SetPassword (admins and the system) stores an argon2id hash
//     (Config.Console.PasswordHashing, OWASP's parameters by default); the
//     hash never leaves the engine. Passwords have 12 to 256 characters,
//     no composition rules (NIST SP 800-63B).
//   - SignIn charges every attempt to the client's network and to the
//     account before the hash runs, so guessing costs a bounded number of
//     hashes; at most Config.Console.MaxConcurrentHashes run at once. Every
//     wrong tenant, email, password or role gets the same ErrSignInFailed
//     after the same work; the audit log records which (console.sign_in_failed)
//     and the failures feed the alert rules like failed authentications.
//   - A session is stored (store.ConsoleSession) as a keyed digest of a
//     256-bit secret; the cookie is "lkcs_" + base32(id | secret | crc32).
//     AuthenticateSession checks it against its user on every request, so
//     SignOut, a password change, demotion, deactivation or deletion ends
//     it at once; sessions have an idle and an absolute expiry. Each
//     session has an anti-forgery token derived from its ID
//     (ConsoleSession.CSRFToken).
//
// # State outside the store
//
// The engine caches what the request path needs (tenant licenses and
// quotas, user-token and refresh-family state) and batches quota counters
// and request-path audit events, writing them every Config.FlushInterval
// and on Close, and token usage, written every Config.UsageFlushInterval
// and on Close. Changes made through this Engine apply to its cache at
// once. Quota counters are written at least every FlushInterval; a crash
// forgets at most that much consumption, a Close nothing.
package engine
