package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/*
var assetFS embed.FS

// page is what every template sees.
type page struct {
	Title string
	// Nav names the top-navigation entry of the page ("tokens", …).
	Nav string
	// Session is nil on pages shown signed out; the layout then has no
	// navigation.
	Session *engine.ConsoleSession
	// CSRF is the session's anti-forgery token, for every form.
	CSRF string
	// Notice is a fixed message chosen by the ?done= parameter; Error a
	// message about the request (a form's invalid input).
	Notice string
	Error  string
	// Data is the page's own.
	Data any
}

// notice returns the fixed message the request's ?done= names, or "".
// The query names a message, it never carries text, so a link cannot make
// the console say anything it would not say anyway.
func notice(r *http.Request) string {
	switch r.URL.Query().Get("done") {
	case "signed-out":
		return "You have signed out."
	case "session-ended":
		return "Your session has ended. Sign in again."
	case "cookie-conflict":
		return "Your browser sent two console session cookies, one perhaps set by another site of this host, so it was signed out. Sign in again; if that does not last, clear this site's cookies."
	case "password-changed":
		return "Your password was changed and every session of yours has ended. Sign in with the new password."
	case "user-created":
		return "The user was created."
	case "user-created-nopw":
		return "The user was created, but the password was not set: set one below."
	case "user-updated":
		return "The user was updated."
	case "user-deactivated":
		return "The user was deactivated: their tokens and console sessions stopped working at once."
	case "user-reactivated":
		return "The user was reactivated."
	case "password-set":
		return "The password was set. Every console session of the user has ended."
	case "token-deactivated":
		return "The token was deactivated: it and every access token derived from it are refused until it is reactivated."
	case "token-reactivated":
		return "The token was reactivated."
	case "token-deleted":
		return "The token was deleted."
	case "narrowed":
		return "The token now holds only the permissions it used within the review window."
	}
	return ""
}

func (c *Console) parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"u":      c.link,
		"asset":  c.assetURL,
		"when":   formatTime,
		"iso":    isoTime,
		"ago":    c.ago,
		"date":   formatDate,
		"dur":    formatDuration,
		"per":    perWindow,
		"permID": permID,
		"perms":  func(s permission.Set) []permission.Permission { return s.Permissions() },
		"join":   strings.Join,
		"words":  func(s engine.Finding) string { return strings.ReplaceAll(string(s), "_", " ") },
		"quota": func(name string, q engine.QuotaStatus) quotaRow {
			return quotaRow{Name: name, Q: q}
		},
	}
	base, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	// Every other file of templates/ is one page, defining "title" and
	// "content" for the layout.
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	out := make(map[string]*template.Template, len(files))
	for _, file := range files {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if name == "layout" {
			continue
		}
		clone, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("console: templates: %w", err)
		}
		t, err := clone.ParseFS(templateFS, file)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// quotaRow is one row of the tenant page's quota table.
type quotaRow struct {
	Name string
	Q    engine.QuotaStatus
}

// link is the console path of its segments, each escaped: {{u "tokens"
// .ID "rotate"}} → /console/tokens/<id>/rotate.
func (c *Console) link(segments ...string) string {
	esc := make([]string, len(segments))
	for i, s := range segments {
		esc[i] = url.PathEscape(s)
	}
	return c.prefix + strings.Join(esc, "/")
}

// render writes a page. It executes into a buffer first, so a template
// failure is a clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, q *request, status int, name string, p *page) {
	if q != nil && q.sess != nil {
		p.Session, p.CSRF = q.sess, q.sess.CSRFToken()
	}
	if p.Notice == "" {
		p.Notice = notice(r)
	}
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		c.log.ErrorContext(r.Context(), "console: rendering a page", "page", name, "error", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("Internal error.\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// errorData is the error page's.
type errorData struct {
	Heading, Message string
	Status           int
	// Link, when set, is a console path the page offers (with LinkText)
	// besides the way back.
	Link, LinkText string
}

// errorPage renders a page that says what went wrong, never why inside.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, q *request, status int, heading, message string) {
	c.render(w, r, q, status, "error", &page{
		Title: heading, Data: errorData{Heading: heading, Message: message, Status: status},
	})
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request, q *request) {
	c.errorPage(w, r, q, http.StatusNotFound, "Not found", "There is no such page, or no such record in your tenant.")
}

// serverError logs err (which never holds a secret: the engine's errors
// don't) and shows a page without it.
func (c *Console) serverError(w http.ResponseWriter, r *http.Request, q *request, err error) {
	switch {
	case errors.Is(err, engine.ErrClosed):
		// The host is shutting down: not the console's failure.
		w.Header().Set("Retry-After", "5")
		c.errorPage(w, r, q, http.StatusServiceUnavailable, "Unavailable", "The service is shutting down. Try again in a moment.")
		return
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The browser went away; nobody reads the answer.
		c.errorPage(w, r, q, http.StatusServiceUnavailable, "Unavailable", "The request was cancelled.")
		return
	}
	c.log.ErrorContext(r.Context(), "console: internal error", "method", r.Method, "path", r.URL.Path, "error", err)
	c.errorPage(w, r, q, http.StatusInternalServerError, "Something went wrong",
		"The console could not complete the request. Try again; if it keeps failing, the host's logs say more.")
}

// tooMany shows a 429 page with Retry-After.
func (c *Console) tooMany(w http.ResponseWriter, r *http.Request, q *request, le *engine.LimitError) {
	header, wait := retryAfter(le)
	w.Header().Set("Retry-After", header)
	c.errorPage(w, r, q, http.StatusTooManyRequests, "Too many attempts",
		"Too many attempts. Wait "+wait+" and try again.")
}

// retryAfter is a refusal's wait as the Retry-After header (whole
// seconds) and as the page says it. Both come from LimitError.RetryAfter
// (rounded up, at least a second), so the page never tells a wait the
// header does not, and neither is shorter than the limiter's.
func retryAfter(le *engine.LimitError) (header, text string) {
	d := le.RetryAfter()
	return strconv.FormatInt(int64(d/time.Second), 10), waitDuration(d)
}

// fail answers an engine error with its page. Invalid input is not here:
// forms answer it by showing themselves again with the message.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, q *request, err error) {
	var le *engine.LimitError
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.notFound(w, r, q)
	case errors.Is(err, engine.ErrInvalidSession):
		c.clearSessionCookie(w, r)
		c.toSignIn(w, r, "session-ended")
	case errors.Is(err, engine.ErrAccessDenied):
		c.errorPage(w, r, q, http.StatusForbidden, "Access denied", "Your account may not do this.")
	case errors.As(err, &le):
		c.tooMany(w, r, q, le)
	case errors.Is(err, engine.ErrInvalidInput), errors.Is(err, engine.ErrAlreadyExists):
		c.errorPage(w, r, q, http.StatusBadRequest, "Invalid request", inputMessage(err))
	default:
		c.serverError(w, r, q, err)
	}
}

// inputMessage is an invalid-input error as the admin reads it: the
// engine's message (safe to show) without its "invalid input: " lead.
func inputMessage(err error) string {
	msg := err.Error()
	if errors.Is(err, engine.ErrAlreadyExists) {
		return "A record with that value already exists."
	}
	msg = strings.TrimPrefix(msg, engine.ErrInvalidInput.Error()+": ")
	if msg == "" {
		return "The input is invalid."
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// --- assets -------------------------------------------------------------------

type asset struct {
	body        []byte
	contentType string
	version     string // a digest of body: the cache-busting query
}

func loadAssets() (map[string]asset, error) {
	out := map[string]asset{}
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".js":
			ct = "text/javascript; charset=utf-8"
		}
		out[path.Base(p)] = asset{body: body, contentType: ct, version: hex.EncodeToString(sum[:6])}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: assets: %w", err)
	}
	return out, nil
}

// assetURL is an asset's path with its version, so it can be cached for
// good: a new release changes the URL.
func (c *Console) assetURL(name string) string {
	return c.prefix + "assets/" + name + "?v=" + c.assets[name].version
}

func (c *Console) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := c.assets[r.PathValue("name")]
	if !ok {
		c.notFound(w, r, nil)
		return
	}
	h := w.Header()
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	h.Set("ETag", `"`+a.version+`"`)
	if r.Header.Get("If-None-Match") == `"`+a.version+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.body)
	}
}

// --- formatting -----------------------------------------------------------------

const timeLayout = "2006-01-02 15:04 UTC"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(timeLayout)
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ago says how long ago (or how far ahead) t is, coarsely.
func (c *Console) ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := c.now().Sub(t)
	if d < 0 {
		return "in " + roughDuration(-d)
	}
	if d < time.Minute {
		return "just now"
	}
	return roughDuration(d) + " ago"
}

// plural is "1 unit" or "n units".
func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return plural(int64(d/time.Second), "second")
	case d < time.Hour:
		return plural(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int64(d/time.Hour), "hour")
	default:
		return plural(int64(d/(24*time.Hour)), "day")
	}
}

// waitDuration prints how long to wait, to the second, rounded up
// ("1 minute 4 seconds"): saying less than the wait invites a retry that
// fails again, and saying more than Retry-After contradicts it.
func waitDuration(d time.Duration) string {
	d = (d + time.Second - 1).Truncate(time.Second)
	if d < time.Second {
		d = time.Second
	}
	var parts []string
	if h := int64(d / time.Hour); h > 0 {
		parts = append(parts, plural(h, "hour"))
	}
	if m := int64(d % time.Hour / time.Minute); m > 0 {
		parts = append(parts, plural(m, "minute"))
	}
	if s := int64(d % time.Minute / time.Second); s > 0 {
		parts = append(parts, plural(s, "second"))
	}
	return strings.Join(parts, " ")
}

// formatDuration prints a window or a wait: "1 minute", "15 minutes",
// "2 hours 30 minutes", "45 seconds".
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "0 seconds"
	}
	if d < time.Minute || d%time.Minute != 0 && d < time.Hour {
		return roughDuration(d.Round(time.Second))
	}
	var parts []string
	if days := d / (24 * time.Hour); days > 0 && d%(24*time.Hour) == 0 {
		return roughDuration(d)
	}
	if h := d / time.Hour; h > 0 {
		parts = append(parts, roughDuration(h*time.Hour))
	}
	if m := (d % time.Hour) / time.Minute; m > 0 {
		parts = append(parts, roughDuration(m*time.Minute))
	}
	return strings.Join(parts, " ")
}

// perWindow names a quota's window after "per": "minute", "hour",
// "day", else the duration ("per 15 minutes").
func perWindow(d time.Duration) string {
	switch d {
	case time.Second:
		return "second"
	case time.Minute:
		return "minute"
	case time.Hour:
		return "hour"
	case 24 * time.Hour:
		return "day"
	}
	return formatDuration(d)
}

// permID is a permission checkbox's element id: "perm-" and the code with
// ':' as '-' ("perm-users-view").
func permID(code string) string { return "perm-" + strings.ReplaceAll(code, ":", "-") }
