// Package httpadapter serves licensekit's HTTP API (DESIGN §6) over an
// *engine.Engine, and offers middleware that lets a host guard its own
// routes with the same tokens. It holds no business rule: it reads
// requests, calls one engine operation, and writes the engine's answer or
// error in the contract's form. Every decision (who may do what, quotas,
// what is valid) is the engine's.
//
// # Where to start
//
// New builds an *Adapter, an http.Handler serving every route of Routes on
// its own http.ServeMux (no global state, nothing registered on
// http.DefaultServeMux):
//
//	api := httpadapter.New(eng, httpadapter.Options{})
//	mux := http.NewServeMux()
//	mux.Handle("/v1/", api)
//
// Routes are registered under "/v1/". To serve the API under another
// prefix, strip it:
//
//	mux.Handle("/licensing/v1/", http.StripPrefix("/licensing", api))
//
// Routes lists every route with its engine operation and the rule
// engine.Operations declares for it (public, authenticated, or one
// permission); the same table drives the mux, the OpenAPI 3.1 document
// served at GET /v1/openapi.json (and returned by Adapter.OpenAPI), and
// the tests that walk every route.
//
// # The host's own routes
//
// Authenticate verifies the Bearer access token and puts the
// *engine.Principal in the request context (PrincipalFrom); Require(perm)
// also checks a permission and charges the tenant's API quota through
// engine.Authorize:
//
//	mux.Handle("GET /reports", api.Require(permission.ViewLicenses)(reports))
//
// Both answer refusals exactly as the API's routes do.
//
// # Errors and their precedence
//
// Errors are JSON {"error": "<message>"} with the contract's messages
// (Options.ErrorRenderer replaces the writer). Engine errors map by
// errors.Is: ErrInvalidToken 401 "Invalid token" (with WWW-Authenticate:
// Bearer realm="…", error="invalid_token"; without error= when no Bearer
// credentials were sent at all, RFC 6750 §3.1), ErrInvalidLicense 402
// "Invalid license", ErrAccessDenied 403 "Access denied" (with an
// insufficient_scope challenge naming the missing permission),
// ErrLicenseLimit 429 "Too Many Requests (Reached license limit)" (with
// Retry-After and RateLimit-Limit/-Remaining/-Reset), ErrTooManyAttempts
// 429 "Too Many Requests" (with Retry-After), ErrNotFound 404 "Not found",
// ErrAlreadyExists 409 "Already exists", ErrInvalidInput 400 with the
// engine's message; anything else is 500 "Internal error", logged
// (without secrets) and never detailed in the body. Unknown paths are 404
// and known paths with another method 405 (with Allow), both JSON.
//
// Every 401 for a presented credential is the same bytes, headers and
// body, whatever the reason (malformed, unknown, expired, revoked, rotated,
// another tenant's or deployment's); the reason is in the audit log. The
// token endpoint's refusals are that same 401 too.
//
// A request is handled in this order, so that the precedence 401, 402,
// 403, 429 holds whatever else is wrong with it:
//
//  1. authentication of the Bearer token, before any of the request is
//     read (401, then 402);
//  2. the route reads its path, query and body: Content-Type must be
//     application/json (415; the token, revoke and introspect endpoints
//     also take application/x-www-form-urlencoded), the body at most
//     Options.MaxBodyBytes (413), one JSON object without unknown fields
//     or trailing data (400);
//  3. the engine operation checks the permission (403), charges the
//     tenant's quota (429), then validates its input (400) and finds its
//     records (404).
//
// When step 2 fails on a route guarded by a permission, the adapter asks
// engine.Authorize for the route's permission before answering: a caller
// without the permission gets 403 (a caller over its quota 429) whatever
// it sent, and only a caller that may perform the operation learns that
// its input was malformed. That request is charged one unit of quota, as
// any admitted request is. Input errors of public routes are answered
// directly.
//
// # Credentials and caching
//
// Responses carrying a secret (the token endpoint, token rotation,
// license creation and reissue) are the only place a secret is written,
// with Cache-Control: no-store and Pragma: no-cache. Every response of the
// adapter carries Cache-Control: no-store and X-Content-Type-Options:
// nosniff. Successful (and other non-429) responses of a request charged
// against a limited tenant carry RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset. Nothing the adapter logs holds a secret, a body or an
// Authorization header; internal errors are logged with the route
// pattern, never the raw path.
//
// # Client addresses and trusted proxies
//
// The engine limits failed exchanges and validations per client address
// and records addresses in the audit log. The adapter gives it the
// connection's peer address, unless the peer is in
// Options.TrustedProxies: then the address comes from the one header
// named by Options.ForwardedHeader (X-Forwarded-For by default, or
// Forwarded, RFC 7239 for=), read from the right: the first address that
// is not itself a trusted proxy is the client. The other header is never
// read, because proxies append to one and pass the other through as the
// client sent it. A forwarding header from any other peer is ignored, so a
// client cannot choose its own address. List only the proxies that
// overwrite or append to the configured header.
package httpadapter
