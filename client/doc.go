// Package client is a Go client for the licensekit HTTP API (package
// httpadapter). It imports only the standard library and package
// permission.
//
// # Where to start
//
// An application that only checks its customer's license key needs no
// credential at all:
//
//	v, err := client.ValidateLicense(ctx, nil, "https://licensing.example.com", key, client.ValidateOptions{ProductID: productID})
//	if err == nil && v.Valid { ... }
//
// Everything else goes through a Client built from a user token:
//
//	c, err := client.New(client.Config{
//		BaseURL:      "https://licensing.example.com",
//		UserTokenID:  tokenID,                    // the user token's UUID
//		UserToken:    client.NewSecret(userToken), // "lkut_..."
//		MaxRetryWait: 5 * time.Second,            // wait out short 429s
//	})
//	if err != nil { ... }
//	defer c.Close() // revokes the refresh token
//	users, next, err := c.ListUsers(ctx, client.ListOptions{Limit: 50})
//
// Every method takes a context and returns typed records mirroring the
// API's JSON; lists return one page and the cursor of the next ("" at the
// end). Errors match sentinels with errors.Is:
//
//	switch {
//	case errors.Is(err, client.ErrAccessDenied):   // 403: the token lacks the permission
//	case errors.Is(err, client.ErrInvalidToken):   // 401: the user token is no good
//	case errors.Is(err, client.ErrLicenseLimit):   // 429: the tenant's quota; see (*APIError).RetryAfter
//	case errors.Is(err, client.ErrInvalidLicense): // 402: the tenant's platform license
//	}
//
// # Tokens
//
// The Client exchanges the user token for an access token (OAuth 2.0
// client_credentials at POST /v1/auth/token, the user token sent only there
// and only as HTTP Basic client authentication) on its first call, caches
// the access token, and refreshes it with the refresh-token grant when a
// quarter of its life, at most ten seconds, is left. When the server
// answers 401 to a call, the client refreshes once and replays the call
// (request bodies are held in memory, so they replay safely); when the
// refresh token is refused it exchanges the user token again. However many
// goroutines call at once, one exchange or refresh is in flight: the others
// wait for it, so a refresh token (which the server accepts once) is never
// presented twice. RotateToken on the client's own user token switches the
// client to the new credential. Close revokes the refresh token.
//
// A 429 is retried after its Retry-After only while the call's total wait
// stays within Config.MaxRetryWait (zero: never).
//
// # Security behaviour
//
//   - Credentials (user token, access and refresh tokens, license keys) are
//     held as Secret, which prints "[REDACTED]" under every fmt verb, slog
//     and JSON. They never appear in an error: the server's error message
//     is scrubbed of every credential the client knows before it becomes
//     an APIError's Message, and responses are never quoted.
//   - New (and ValidateLicense) refuse a plain http:// URL to anything but
//     a loopback address (127.0.0.0/8, ::1, "localhost") with
//     ErrInsecureHTTP, unless AllowInsecureHTTP is set. Names are not
//     resolved for the check.
//   - Redirects are never followed, so a credential cannot be sent on to
//     another host or downgraded to HTTP; a 3xx is an *APIError.
//   - Each response's status, Content-Type (JSON), size (at most 10 MiB)
//     and shape (a JSON value of the expected form, with its required
//     fields; nothing after it) are checked before anything of it is used;
//     a response that fails is ErrMalformedResponse.
//   - ValidateLicense, both forms, sends no Authorization header.
package client
