// Package console is licensekit's embeddable admin web console: the
// server-rendered pages where a tenant's administrators sign in, manage
// users, create, review, rotate and retire user tokens, read the audit
// log and see their platform license. It is an http.Handler over an
// *engine.Engine; every decision (who may sign in, what an admin may do,
// what is valid) is the engine's.
//
// # Where to start
//
// New builds a *Console; the host mounts it under its prefix with one
// line:
//
//	con, err := console.New(eng, console.Options{Adapter: api}) // Prefix: "/console/"
//	mux.Handle("/console/", con)
//
// Give it the API's *httpadapter.Adapter so it reads client addresses
// behind the same trusted proxies, and the engine's clock.
//
// # Pages
//
// Relative to the prefix:
//
//	GET  signin, POST signin             sign-in (tenant, email, password)
//	POST signout                         sign-out
//	GET  users, users/new, users/{id}    users: list, create, edit name and
//	POST users/new, users/{id},          role, deactivate, reactivate, set
//	     users/{id}/deactivate|reactivate|password  another's password
//	GET  tokens, tokens/new, tokens/{id} user tokens: list, create (presets,
//	POST tokens/new                      grouped permissions, expiry, CIDRs)
//	GET  tokens/{id}/rotate|delete       confirmations
//	POST tokens/{id}/rotate|delete|deactivate|reactivate
//	GET  review                          the least-privilege review
//	POST review/{id}/remove-unused
//	GET  audit                           the audit log (type, token, time; paged)
//	GET  tenant                          platform license, quotas, usage
//	GET  account, POST account/password  one's own password
//	GET  assets/{name}                   embedded CSS and JavaScript
//
// A new credential (creation, rotation) is the POST's own response,
// shown once, never redirected to or put in a URL. The rotation form
// names the generation of the token it showed
// (engine.RotateUserTokenFrom), so submitting it again (reloading the
// credential page, a second tab) is a 409 that says the token was already
// rotated, never a second rotation that would replace the credential just
// shown. Creation has no such guard: a resubmitted form creates a second
// token, visible in the list.
//
// # Security
//
// Sessions live in the store (engine.SignIn, AuthenticateSession): the
// cookie carries only the session's ID and secret, is HttpOnly and
// SameSite=Strict, and under TLS is the "__Host-lk_console" cookie
// (Secure, Path=/); over plain HTTP it is "lk_console" with the prefix
// as its path. Sign-out, a password change, a role change and
// deactivating the user end sessions at once. The most powerful actions
// (creating an administrator or a user with a password, making a user an
// administrator, setting another user's password) also ask for the
// signed-in administrator's own password (engine.ConfirmPassword,
// throttled and audited like a sign-in), so a session left open or
// borrowed cannot plant an administrator or take over an account.
// Sign-in is throttled per address and per account by the engine before
// the password hash runs; a second, long-lived cookie
// ("lk_console_device", with the same attributes) holds the engine's
// device token, so a browser that signed in to an account before is
// charged its own budget and guessers elsewhere cannot lock the
// account's owner out. It grants nothing by itself, and it does not
// exempt a client address from the address's own budget: browsers behind
// one NAT or proxy share that budget, so give the console the API's
// Adapter with its TrustedProxies configured, or every client is the
// proxy.
//
// A browser that sends two session cookies of the name (another port or
// subdomain of the host can plant one with a more specific Path, which
// the browser then sends first) is treated as signed out and the
// console's own cookie cleared; two device cookies count as none. With
// Options.TenantID set, another tenant's session is signed out here
// (neither ended nor cleared: it belongs to another console of the host).
//
// Options.SecureCookies makes the cookies Secure (and __Host-) when a
// reverse proxy terminates TLS in front of the host.
//
// Mount the console on an origin of its own (admin.example.com, not a
// path beside other applications): a __Host- cookie must have Path=/, so
// the browser sends the session cookie to every path of the host, and
// every page of the origin shares the console's cookies and its
// same-origin trust.
//
// Every unsafe request passes http.CrossOriginProtection (Sec-Fetch-Site,
// Origin), and every form of a signed-in page carries the session's
// anti-forgery token, checked in constant time. The sign-in form, which
// has no session yet, carries a token of its own: loading the page sets
// a short-lived cookie ("__Host-lk_console_signin" under TLS, else
// "lk_console_signin"; HttpOnly, SameSite=Strict, one hour) whose random
// value the form repeats, and a sign-in whose form and cookie disagree is
// refused before the engine sees it (no password hash, no charge to any
// budget). That stops login CSRF (a victim signed in to an attacker's
// account) even from a browser that sends neither Sec-Fetch-Site nor
// Origin. Over plain HTTP a sibling subdomain can set that cookie too:
// serve the console over TLS. Every response carries a
// Content-Security-Policy without 'unsafe-inline' (the pages have no
// inline script or style), frame-ancestors 'none', Referrer-Policy,
// X-Content-Type-Options, X-Frame-Options and Cross-Origin-Opener-Policy;
// pages are Cache-Control: no-store. Bodies are capped at MaxBodyBytes.
// Form fields are read from the body only, never the URL. Messages chosen
// by a URL (?done=) are fixed strings: nothing in a link is reflected.
//
// Every page works without JavaScript; the one script adds a copy button.
package console
