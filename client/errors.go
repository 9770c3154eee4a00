package client

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// Errors the API answers with. A refused request returns an *APIError that
// matches, with errors.Is, the sentinel of its status:
//
//	if errors.Is(err, client.ErrAccessDenied) { ... }
var (
	// ErrInvalidToken: 401. The credential (user token, access or refresh
	// token) is missing, malformed, unknown, expired, revoked or another
	// tenant's; the server never says which. The client has already
	// refreshed and retried once when a call returns it.
	ErrInvalidToken = errors.New("licensekit: invalid token")
	// ErrInvalidLicense: 402. The tenant's platform license is expired or
	// suspended (not a customer's license: see ValidateLicense for those).
	ErrInvalidLicense = errors.New("licensekit: invalid license")
	// ErrAccessDenied: 403. The token lacks the permission the call needs.
	ErrAccessDenied = errors.New("licensekit: access denied")
	// ErrLicenseLimit: 429 "Too Many Requests (Reached license limit)". The
	// tenant is over its platform license's request or validation quota;
	// APIError.RetryAfter says when to try again.
	ErrLicenseLimit = errors.New("licensekit: too many requests (reached license limit)")
	// ErrTooManyRequests: any other 429, typically "Too Many Requests":
	// this client address failed too many exchanges or validations. It
	// does not match ErrLicenseLimit, nor ErrLicenseLimit it.
	ErrTooManyRequests = errors.New("licensekit: too many requests")
	// ErrBadRequest: 400. The request was malformed or invalid; the
	// APIError's Message says why.
	ErrBadRequest = errors.New("licensekit: bad request")
	// ErrNotFound: 404. No such record in the token's tenant.
	ErrNotFound = errors.New("licensekit: not found")
	// ErrConflict: 409. A record with that ID or unique attribute exists.
	ErrConflict = errors.New("licensekit: conflict")
)

// Errors of the client itself.
var (
	// ErrMalformedResponse: a response did not have the shape the API
	// promises (status, content type, JSON body, required fields, size).
	// Nothing of such a response is used.
	ErrMalformedResponse = errors.New("licensekit: malformed response")
	// ErrInsecureHTTP: New or ValidateLicense was given a plain http:// URL
	// to a host that is not a loopback address, without AllowInsecureHTTP.
	ErrInsecureHTTP = errors.New("licensekit: refusing to send credentials over plain HTTP to a non-loopback host")
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("licensekit: client closed")
)

// Messages of the HTTP contract that select a sentinel.
const licenseLimitMessage = "Too Many Requests (Reached license limit)"

// APIError is a non-2xx answer of the API. It matches (errors.Is) the
// sentinel of its status: 400 ErrBadRequest, 401 ErrInvalidToken, 402
// ErrInvalidLicense, 403 ErrAccessDenied, 404 ErrNotFound, 409 ErrConflict,
// 429 ErrLicenseLimit or ErrTooManyRequests (by Message). Other statuses
// (405, 413, 415, 5xx, an unexpected 3xx) match no sentinel; check
// StatusCode.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is the "error" field of the JSON error body (for example
	// "Access denied"), or the status text when the body had none. It is
	// cleaned before use: control characters removed, at most 256 bytes,
	// and any credential the client knows of replaced by "[REDACTED]".
	Message string
	// RetryAfter is the Retry-After header of a 429 (or 503) response;
	// zero when absent.
	RetryAfter time.Duration
	// Description is the OAuth "error_description" of the body, if any
	// (the token and revocation endpoints' 400s), cleaned like Message.
	Description string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "licensekit: %d %s", e.StatusCode, e.Message)
	if e.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's status.
func (e *APIError) Is(target error) bool {
	s := e.sentinel()
	return s != nil && s == target
}

func (e *APIError) sentinel() error {
	switch e.StatusCode {
	case http.StatusBadRequest:
		return ErrBadRequest
	case http.StatusUnauthorized:
		return ErrInvalidToken
	case http.StatusPaymentRequired:
		return ErrInvalidLicense
	case http.StatusForbidden:
		return ErrAccessDenied
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusTooManyRequests:
		if e.Message == licenseLimitMessage {
			return ErrLicenseLimit
		}
		return ErrTooManyRequests
	}
	return nil
}

// malformedError is an ErrMalformedResponse whose text was scrubbed of
// credentials.
type malformedError struct{ msg string }

func (e *malformedError) Error() string        { return e.msg }
func (e *malformedError) Is(target error) bool { return target == ErrMalformedResponse }

func malformed(s *scrubber, format string, args ...any) error {
	msg := ErrMalformedResponse.Error() + ": " + fmt.Sprintf(format, args...)
	return &malformedError{msg: s.clean(msg, 512)}
}

// scrubber removes known credentials from text that came from the server
// (or that quotes it) before it goes into an error.
type scrubber struct{ secrets []string }

func newScrubber(secrets ...Secret) *scrubber {
	s := &scrubber{}
	s.add(secrets...)
	return s
}

func (s *scrubber) add(secrets ...Secret) {
	for _, x := range secrets {
		if !x.IsZero() {
			s.secrets = append(s.secrets, x.Reveal())
		}
	}
}

// clean returns msg without control characters, without any known secret,
// and cut to at most max bytes.
func (s *scrubber) clean(msg string, max int) string {
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, msg)
	if s != nil {
		for _, x := range s.secrets {
			msg = strings.ReplaceAll(msg, x, redacted)
		}
	}
	if len(msg) > max {
		cut := max
		for cut > 0 && !utf8RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
