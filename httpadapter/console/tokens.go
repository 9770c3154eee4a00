package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
)

// tokenRow is a token with what the lists show beside it.
type tokenRow struct {
	Token engine.UserToken
	// Owner is the owning user, if it still exists.
	Owner *store.User
	// LastUsedAt and LastUsedAddr come from the review's usage data.
	LastUsedAt   time.Time
	LastUsedAddr string
}

type tokensData struct {
	Tokens []tokenRow
	Next   string
}

func (c *Console) tokensPage(w http.ResponseWriter, r *http.Request, q *request) {
	ctx := r.Context()
	tokens, next, err := c.eng.ListUserTokens(ctx, q.admin(), q.tenant(),
		store.Page{After: r.URL.Query().Get("after"), Limit: listPageSize})
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	users, err := c.allUsers(r, q)
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	// Last use (time and address) of this page's tokens: reads only.
	ids := make([]string, len(tokens))
	for i, t := range tokens {
		ids[i] = t.ID
	}
	activity, err := c.eng.TokenActivity(ctx, q.admin(), q.tenant(), ids)
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	rows := make([]tokenRow, 0, len(tokens))
	for _, t := range tokens {
		row := tokenRow{Token: t, Owner: users[t.UserID]}
		a := activity[t.ID]
		row.LastUsedAt, row.LastUsedAddr = a.LastUsedAt, a.LastUsedAddr
		rows = append(rows, row)
	}
	c.render(w, r, q, http.StatusOK, "tokens", &page{Title: "User tokens", Nav: "tokens", Data: tokensData{Tokens: rows, Next: next}})
}

// allUsers maps the tenant's user IDs to their records.
func (c *Console) allUsers(r *http.Request, q *request) (map[string]*store.User, error) {
	out := map[string]*store.User{}
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		users, next, err := c.eng.ListUsers(r.Context(), q.admin(), q.tenant(), page)
		if err != nil {
			return nil, err
		}
		for i := range users {
			out[users[i].ID] = &users[i]
		}
		if next == "" {
			return out, nil
		}
		page.After = next
	}
}

// allTokens lists every token of the tenant (deleted ones excluded).
func (c *Console) allTokens(r *http.Request, q *request) ([]engine.UserToken, error) {
	var out []engine.UserToken
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		tokens, next, err := c.eng.ListUserTokens(r.Context(), q.admin(), q.tenant(), page)
		if err != nil {
			return nil, err
		}
		out = append(out, tokens...)
		if next == "" {
			return out, nil
		}
		page.After = next
	}
}

// permGroup is one fieldset of permission checkboxes.
type permGroup struct {
	Legend string
	Perms  []permBox
}

type permBox struct {
	Code, Name, Description string
	Extension, Checked      bool
}

// permGroups lays the catalogue out as the form shows it: the product's
// three groups in their order, then any other group (extensions) in
// catalogue order; each permission where its Group says.
func permGroups(checked permission.Set) []permGroup {
	order := []string{permission.GroupUserManagement, permission.GroupProductsLicenses, permission.GroupGroupManagement}
	byGroup := map[string][]permBox{}
	for _, p := range permission.All() {
		g := p.Group()
		if _, ok := byGroup[g]; !ok {
			known := false
			for _, o := range order {
				known = known || o == g
			}
			if !known {
				order = append(order, g)
			}
		}
		byGroup[g] = append(byGroup[g], permBox{
			Code: p.Code(), Name: p.Name(), Extension: p.Extension(), Checked: checked.Has(p),
		})
	}
	out := make([]permGroup, 0, len(order))
	for _, g := range order {
		if len(byGroup[g]) > 0 {
			out = append(out, permGroup{Legend: g, Perms: byGroup[g]})
		}
	}
	return out
}

// tokenForm is the create form, as shown and as submitted.
type tokenForm struct {
	Name    string
	Owner   string
	Expires string
	CIDRs   string
	Perms   permission.Set
	// Preset is the preset whose boxes were ticked, if any.
	Preset string
}

type newTokenData struct {
	Form    tokenForm
	Owners  []store.User
	Groups  []permGroup
	Presets []permission.Preset
	// MinDate is the earliest expiry the date picker offers (today).
	MinDate string
	// MaxLifetime is the tenant's cap on token lifetime, if any.
	MaxLifetime time.Duration
}

func (c *Console) newTokenPage(w http.ResponseWriter, r *http.Request, q *request) {
	form := tokenForm{Owner: q.sess.UserID}
	if p, ok := permission.LookupPreset(r.URL.Query().Get("preset")); ok {
		form.Perms, form.Preset = p.Set, p.ID
	}
	c.showTokenForm(w, r, q, http.StatusOK, "", form)
}

func (c *Console) showTokenForm(w http.ResponseWriter, r *http.Request, q *request, status int, msg string, form tokenForm) {
	users, err := c.allUsers(r, q)
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	data := newTokenData{
		Form: form, Groups: permGroups(form.Perms), Presets: permission.Presets(),
		MinDate: c.now().UTC().Format(time.DateOnly),
	}
	for _, u := range sortedUsers(users) {
		if u.Status == store.UserActive {
			data.Owners = append(data.Owners, *u)
		}
	}
	if st, err := c.eng.TenantStatus(r.Context(), q.admin(), q.tenant()); err == nil {
		data.MaxLifetime = st.Tenant.Policy.MaxTokenLifetime
	}
	c.render(w, r, q, status, "token_new", &page{Title: "New user token", Nav: "tokens", Error: msg, Data: data})
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request, q *request) {
	form := tokenForm{
		Name: r.PostFormValue("name"), Owner: r.PostFormValue("owner"),
		Expires: strings.TrimSpace(r.PostFormValue("expires")), CIDRs: r.PostFormValue("cidrs"),
	}
	again := func(msg string) { c.showTokenForm(w, r, q, http.StatusBadRequest, msg, form) }
	for _, code := range r.PostForm["perm"] {
		p, err := permission.Lookup(code)
		if err != nil || p.Code() != code {
			again("Unknown permission in the form: reload the page.")
			return
		}
		form.Perms = form.Perms.Add(p)
	}
	in := engine.NewUserToken{UserID: form.Owner, Name: form.Name, Permissions: form.Perms, AllowedCIDRs: splitCIDRs(form.CIDRs)}
	if form.Expires != "" {
		day, err := time.Parse(time.DateOnly, form.Expires)
		if err != nil {
			again("The expiry must be a date (YYYY-MM-DD).")
			return
		}
		// The stores encode times as RFC 3339, which has four-digit years;
		// the engine does not bound the expiry itself.
		if day.Year() >= 9999 {
			again("The expiry must be before the year 9999.")
			return
		}
		in.ExpiresAt = endOfDay(day)
	}
	ct, err := c.eng.CreateUserToken(r.Context(), q.admin(), q.tenant(), in)
	if errors.Is(err, engine.ErrInvalidInput) {
		again(inputMessage(err))
		return
	}
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	c.showCredential(w, r, q, ct, false)
}

// endOfDay is when a token given an expiry date stops working: the end
// of that day, UTC, so a token "expiring on the 31st" works on the 31st.
func endOfDay(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC).Add(24 * time.Hour)
}

// splitCIDRs reads the allowlist textarea: one CIDR per line, or
// separated by commas or spaces.
func splitCIDRs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
}

type credentialData struct {
	Token      engine.UserToken
	Credential string
	Rotated    bool
}

// showCredential renders the page that shows a new credential. It is the
// POST's own response, never a redirect: the credential must not be in a
// URL, and the page is not stored (Cache-Control: no-store, as every
// page), so going back does not show it again.
func (c *Console) showCredential(w http.ResponseWriter, r *http.Request, q *request, ct engine.CreatedUserToken, rotated bool) {
	title := "Token created"
	if rotated {
		title = "Token rotated"
	}
	c.render(w, r, q, http.StatusOK, "credential", &page{Title: title, Nav: "tokens", Data: credentialData{
		Token: ct.Token, Credential: ct.Credential.Reveal(), Rotated: rotated,
	}})
}

type tokenData struct {
	Token engine.UserToken
	Owner *store.User
	// Creator is the admin who created the token, when it is still a user.
	Creator *store.User
	Review  engine.TokenReview
	// Reviewed is false when the review had no entry for the token.
	Reviewed bool
	Active   bool
}

func (c *Console) loadToken(w http.ResponseWriter, r *http.Request, q *request) (engine.UserToken, bool) {
	t, err := c.eng.GetUserToken(r.Context(), q.admin(), q.tenant(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, q, err)
		return t, false
	}
	return t, true
}

func (c *Console) tokenPage(w http.ResponseWriter, r *http.Request, q *request) {
	t, ok := c.loadToken(w, r, q)
	if !ok {
		return
	}
	data := tokenData{Token: t, Active: t.Status == store.TokenActive}
	if u, err := c.eng.GetUser(r.Context(), q.admin(), q.tenant(), t.UserID); err == nil {
		data.Owner = &u
	} else if !errors.Is(err, engine.ErrNotFound) {
		c.fail(w, r, q, err)
		return
	}
	// The engine names the creator as the audit log does ("admin:<id>").
	if id, ok := strings.CutPrefix(t.CreatedBy, "admin:"); ok {
		if u, err := c.eng.GetUser(r.Context(), q.admin(), q.tenant(), id); err == nil {
			data.Creator = &u
		}
	}
	rev, err := c.eng.Review(r.Context(), q.admin(), q.tenant(), engine.ReviewOptions{})
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	data.Review, data.Reviewed = rev.Token(t.ID)
	c.render(w, r, q, http.StatusOK, "token", &page{Title: t.Name, Nav: "tokens", Data: data})
}

type confirmData struct {
	Token  engine.UserToken
	Action string
}

// confirmPage asks before a rotation or a deletion; its form posts to the
// same path.
func (c *Console) confirmPage(action string) func(http.ResponseWriter, *http.Request, *request) {
	return func(w http.ResponseWriter, r *http.Request, q *request) {
		t, ok := c.loadToken(w, r, q)
		if !ok {
			return
		}
		title := "Rotate " + t.Name
		if action == "delete" {
			title = "Delete " + t.Name
		}
		c.render(w, r, q, http.StatusOK, "confirm", &page{Title: title, Nav: "tokens", Data: confirmData{Token: t, Action: action}})
	}
}

// msgAlreadyRotated answers a rotation of a generation that is gone: most
// often the credential page reloaded, which resubmits its form.
const msgAlreadyRotated = "This token was already rotated; its new credential was shown once. Rotate again if you need a new one."

// rotateToken rotates the generation the confirmation showed, and only
// that one: a resubmitted form (a reload of the credential page, a
// double click, a second tab) would otherwise replace the credential just
// shown, and the program given it would stop working.
func (c *Console) rotateToken(w http.ResponseWriter, r *http.Request, q *request) {
	id := r.PathValue("id")
	gen, err := strconv.ParseUint(r.PostFormValue("generation"), 10, 64)
	if err != nil {
		// Another tenant's token (or none) is a 404 whatever the form
		// holds, as on every other route.
		if _, ok := c.loadToken(w, r, q); !ok {
			return
		}
		c.errorPage(w, r, q, http.StatusBadRequest, "Invalid request",
			"The rotation form is out of date. Open the token and rotate it again.")
		return
	}
	ct, err := c.eng.RotateUserTokenFrom(r.Context(), q.admin(), q.tenant(), id, gen)
	if errors.Is(err, engine.ErrStale) {
		c.render(w, r, q, http.StatusConflict, "error", &page{Title: "Already rotated", Nav: "tokens", Data: errorData{
			Heading: "Already rotated", Message: msgAlreadyRotated, Status: http.StatusConflict,
			Link: c.link("tokens", id), LinkText: "Go to the token",
		}})
		return
	}
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	c.showCredential(w, r, q, ct, true)
}

func (c *Console) setTokenStatus(active bool) func(http.ResponseWriter, *http.Request, *request) {
	return func(w http.ResponseWriter, r *http.Request, q *request) {
		id := r.PathValue("id")
		var err error
		done := "token-deactivated"
		if active {
			_, err = c.eng.ReactivateUserToken(r.Context(), q.admin(), q.tenant(), id)
			done = "token-reactivated"
		} else {
			_, err = c.eng.DeactivateUserToken(r.Context(), q.admin(), q.tenant(), id)
		}
		if err != nil {
			c.fail(w, r, q, err)
			return
		}
		c.redirect(w, r, "tokens/"+url.PathEscape(id)+"?done="+done)
	}
}

func (c *Console) deleteToken(w http.ResponseWriter, r *http.Request, q *request) {
	if err := c.eng.DeleteUserToken(r.Context(), q.admin(), q.tenant(), r.PathValue("id")); err != nil {
		c.fail(w, r, q, err)
		return
	}
	c.redirect(w, r, "tokens?done=token-deleted")
}
