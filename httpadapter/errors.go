package httpadapter

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/tenant"
)

// The messages of the HTTP contract (DESIGN §6).
const (
	msgInvalidToken     = "Invalid token"
	msgInvalidLicense   = "Invalid license"
	msgAccessDenied     = "Access denied"
	msgLicenseLimit     = "Too Many Requests (Reached license limit)"
	msgTooManyRequests  = "Too Many Requests"
	msgNotFound         = "Not found"
	msgAlreadyExists    = "Already exists"
	msgMethodNotAllowed = "Method not allowed"
	msgTooLarge         = "Request body too large"
	msgUnsupportedMedia = "Unsupported media type"
	msgInternal         = "Internal error"
)

// maxMessageBytes caps an error message that repeats a client's input.
const maxMessageBytes = 300

// errorBody is the JSON error of the contract.
type errorBody struct {
	Error string `json:"error"`
}

// oauthErrorBody is an OAuth 2.0 error (RFC 6749 §5.2).
type oauthErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// DefaultErrorRenderer writes {"error": message} as application/json.
func DefaultErrorRenderer(w http.ResponseWriter, _ *http.Request, status int, message string) {
	writeJSON(w, status, errorBody{Error: message})
}

// writeJSON writes v as the JSON body of a response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Every type the adapter writes marshals; this is unreachable.
		body = []byte(`{"error":"` + msgInternal + `"}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// inputError is a request the adapter could not read: malformed JSON, an
// unknown field, a bad query parameter (400), a body too large (413), a
// wrong content type (415). Its message is safe to show.
type inputError struct {
	status int
	msg    string
}

func (e *inputError) Error() string { return e.msg }

func badRequest(msg string) error { return &inputError{status: http.StatusBadRequest, msg: clip(msg)} }

var (
	errTooLarge         = &inputError{status: http.StatusRequestEntityTooLarge, msg: msgTooLarge}
	errUnsupportedMedia = &inputError{status: http.StatusUnsupportedMediaType, msg: msgUnsupportedMedia}
)

// clip shortens a message that may repeat client input.
func clip(s string) string {
	if len(s) <= maxMessageBytes {
		return s
	}
	cut := maxMessageBytes
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// fail writes an error response through the renderer.
func (a *Adapter) fail(w http.ResponseWriter, r *http.Request, status int, message string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	a.render(w, r, status, message)
}

// unauthorized writes the 401 of the contract. Every refusal of a
// presented credential goes through here with presented=true and yields
// the same bytes, headers and body, whatever the reason.
func (a *Adapter) unauthorized(w http.ResponseWriter, r *http.Request, presented bool) {
	ch := a.chNone
	if presented {
		ch = a.chBad
	}
	w.Header().Set("WWW-Authenticate", ch)
	a.fail(w, r, http.StatusUnauthorized, msgInvalidToken)
}

// oauthError writes a 400 of the token endpoint: {"error": code,
// "error_description": desc} by default; a host's renderer gets the code
// as the message.
func (a *Adapter) oauthError(w http.ResponseWriter, r *http.Request, code, desc string) {
	if a.custom {
		a.fail(w, r, http.StatusBadRequest, code)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	writeJSON(w, http.StatusBadRequest, oauthErrorBody{Error: code, Description: clip(desc)})
}

// writeError maps an error of the engine (or of the adapter's reading of
// the request) to the contract's response. p, when set, is the request's
// principal (for the RateLimit headers of a charged request); scope, when
// set, is the permission code the insufficient_scope challenge names.
func (a *Adapter) writeError(w http.ResponseWriter, r *http.Request, err error, p *engine.Principal, scope string) {
	var (
		ie *inputError
		le *engine.LimitError
	)
	h := w.Header()
	switch {
	case errors.As(err, &ie):
		a.setQuotaHeaders(w, p)
		a.fail(w, r, ie.status, ie.msg)
	case errors.Is(err, engine.ErrInvalidToken):
		a.unauthorized(w, r, true)
	case errors.Is(err, engine.ErrInvalidLicense):
		a.fail(w, r, http.StatusPaymentRequired, msgInvalidLicense)
	case errors.Is(err, engine.ErrAccessDenied):
		ch := a.chScope
		if scope != "" {
			ch += `, scope="` + scope + `"`
		}
		h.Set("WWW-Authenticate", ch)
		a.fail(w, r, http.StatusForbidden, msgAccessDenied)
	case errors.Is(err, engine.ErrLicenseLimit):
		retry, reset := time.Second, time.Second
		var limit int64
		if errors.As(err, &le) {
			retry = le.RetryAfter()
			reset = max(le.Decision.ResetAfter, retry)
			limit = le.Decision.Limit
		}
		h.Set("Retry-After", seconds(retry))
		if limit > 0 {
			h.Set("RateLimit-Limit", strconv.FormatInt(limit, 10))
			h.Set("RateLimit-Remaining", "0")
			h.Set("RateLimit-Reset", seconds(reset))
		}
		a.fail(w, r, http.StatusTooManyRequests, msgLicenseLimit)
	case errors.Is(err, engine.ErrTooManyAttempts):
		retry := time.Second
		if errors.As(err, &le) {
			retry = le.RetryAfter()
		}
		h.Set("Retry-After", seconds(retry))
		a.fail(w, r, http.StatusTooManyRequests, msgTooManyRequests)
	case errors.Is(err, engine.ErrNotFound):
		a.setQuotaHeaders(w, p)
		a.fail(w, r, http.StatusNotFound, msgNotFound)
	case errors.Is(err, engine.ErrAlreadyExists):
		a.setQuotaHeaders(w, p)
		a.fail(w, r, http.StatusConflict, msgAlreadyExists)
	case errors.Is(err, engine.ErrInvalidInput):
		a.setQuotaHeaders(w, p)
		a.fail(w, r, http.StatusBadRequest, clip(inputMessage(err)))
	default:
		level := a.log.Error
		if errors.Is(err, context.Canceled) {
			level = a.log.Info // the client went away
		}
		level("licensekit http: internal error", "method", r.Method, "route", routeName(r), "error", err.Error())
		a.fail(w, r, http.StatusInternalServerError, msgInternal)
	}
}

// inputMessage is the engine's ErrInvalidInput message without its
// "invalid input: " prefix.
func inputMessage(err error) string {
	msg := err.Error()
	prefix := engine.ErrInvalidInput.Error() + ": "
	if i := strings.Index(msg, prefix); i >= 0 {
		msg = msg[:i] + msg[i+len(prefix):]
	}
	if msg == "" {
		msg = "invalid input"
	}
	return msg
}

// routeName names r's route for logs: its pattern, never its raw path
// (which a careless client may have put a secret in).
func routeName(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return "(host route)"
}

// setQuotaHeaders writes the tenant's remaining API quota when the request
// was charged against a limit.
func (a *Adapter) setQuotaHeaders(w http.ResponseWriter, p *engine.Principal) {
	if p != nil {
		setDecisionHeaders(w, p.Quota)
	}
}

// setDecisionHeaders writes a limiter decision as RateLimit headers when
// the tenant has a limit.
func setDecisionHeaders(w http.ResponseWriter, d tenant.Decision) {
	if d.Limit <= 0 {
		return
	}
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.FormatInt(d.Limit, 10))
	h.Set("RateLimit-Remaining", strconv.FormatInt(max(d.Remaining, 0), 10))
	h.Set("RateLimit-Reset", seconds(d.ResetAfter))
}

// seconds renders d in whole seconds, rounded up.
func seconds(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
