// Command example is a host application embedding licensekit, and the
// embedding guide: it opens a Badger store, builds the engine, mounts the
// HTTP API under /v1 on its own http.ServeMux beside a route of its own, and
// on a fresh data directory seeds a demo tenant and prints how to try it
// with curl.
//
//	go run ./example                    # http://127.0.0.1:8080, data in ./licensekit-data
//	go run ./example -demo-credentials demo.json -demo-limit 5
//	LICENSEKIT_SECRET=$(openssl rand -hex 32) go run ./example \
//	    -addr :8443 -tls-cert cert.pem -tls-key key.pem
//
// Flags:
//
//	-addr ADDR              listen address (default 127.0.0.1:8080; port 0 picks a free one)
//	-data DIR               data directory (default ./licensekit-data): the Badger store in
//	                        DIR/store and, without LICENSEKIT_SECRET, DIR/dev-master-secret
//	-demo-credentials FILE  when seeding, also write the demo secrets to FILE as JSON (mode 0600)
//	-demo-limit N           the demo tenant's API requests and license validations per minute
//	                        (default 1000000; 0 is unlimited; a small N shows a 429). Given on
//	                        a later start, it changes the existing demo tenant's limits.
//	-tls-cert, -tls-key     serve HTTPS with this PEM certificate and key, with HSTS
//	-postgres DSN           keep the data in PostgreSQL (also LICENSEKIT_POSTGRES_DSN)
//	                        instead of Badger; several replicas may share the database
//	                        (each trusts its cache for 2 s; quotas are counted in it)
//
// The master secret, from which every key of the engine is derived, lives
// outside the store: LICENSEKIT_SECRET holds it, hex or base64, at least 32
// random bytes. Without it the example generates a development secret into
// DIR/dev-master-secret (mode 0600), warns, and reuses it on later starts.
//
// The demo tenant's secrets (its user token and license key) are shown once,
// when the tenant is seeded: the store keeps only their digests. To start
// over, stop the example and delete the data directory.
//
// Plain HTTP is for loopback development: listening on another address
// without -tls-cert, the example warns (serve HTTPS, or put a TLS-terminating
// proxy in front). Behind a proxy, -trusted-proxies names it, so that the
// API and the admin console (at /console/) read the client's address from
// X-Forwarded-For, which the sign-in and guessing limits count by; and
// -secure-cookies gives the console's cookies the Secure attribute and the
// __Host- prefix, which the console otherwise sets only on requests that
// arrive over TLS.
//
// SIGINT or SIGTERM shuts down gracefully: the HTTP server stops taking
// requests and drains those in flight, the engine writes its batched quota
// counters, token usage and audit events, and the store is closed.
//
// Subcommands go before the flags: "serve" (the default) and "review",
// which prints the least-privilege review of a tenant's user tokens (never
// used, stale, unused permissions, no expiry, expiring, due for rotation)
// as plain text, reading the data directory while the server is stopped:
//
//	go run ./example review [-data DIR] [-tenant demo] [-stale-days 30] [-window-days 90] [-expiring-days 30]
//
// While the server runs, review says so and exits with status 1; ask the
// server instead (GET /v1/review with a token holding audit:view).
package main
