package console

import (
	"errors"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/store"
)

// listPageSize is how many rows a list page shows.
const listPageSize = 50

// Password bounds, as the engine's policy has them (at least 12
// characters, at most 256 bytes). The console checks them before
// creating a user with a password, so that a refused password does not
// leave a half-made user; the engine's check stays the one that counts.
const (
	passwordMinChars = 12
	passwordMaxBytes = 256
)

type usersData struct {
	Users []store.User
	// Next is the cursor of the next page, or "".
	Next string
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, q *request) {
	users, next, err := c.eng.ListUsers(r.Context(), q.admin(), q.tenant(),
		store.Page{After: r.URL.Query().Get("after"), Limit: listPageSize})
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	c.render(w, r, q, http.StatusOK, "users", &page{Title: "Users", Nav: "users", Data: usersData{Users: users, Next: next}})
}

type userForm struct {
	Email, Name string
	Role        store.Role
}

func (c *Console) newUserPage(w http.ResponseWriter, r *http.Request, q *request) {
	c.render(w, r, q, http.StatusOK, "user_new", &page{Title: "New user", Nav: "users", Data: userForm{Role: store.RoleMember}})
}

func (c *Console) createUser(w http.ResponseWriter, r *http.Request, q *request) {
	form := userForm{
		Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Role: store.Role(r.PostFormValue("role")),
	}
	password := r.PostFormValue("password")
	again := func(msg string) {
		c.render(w, r, q, http.StatusBadRequest, "user_new", &page{Title: "New user", Nav: "users", Error: msg, Data: form})
	}
	if form.Role != store.RoleAdmin && form.Role != store.RoleMember {
		again("Choose the role: admin or member.")
		return
	}
	if password != "" {
		if msg := passwordProblem(password); msg != "" {
			again(msg)
			return
		}
	}
	// An administrator, or a user whose password the creator knows, is a
	// way into the console: a session left open must not be enough to
	// plant one. The form's own checks come first, so that a typo there
	// costs no confirmation attempt.
	if (form.Role == store.RoleAdmin || password != "") && !c.confirmed(w, r, q, again) {
		return
	}
	u, err := c.eng.CreateUser(r.Context(), q.admin(), q.tenant(), engine.NewUser{Email: form.Email, Name: form.Name, Role: form.Role})
	switch {
	case errors.Is(err, engine.ErrAlreadyExists):
		again("A user with that email already exists.")
		return
	case errors.Is(err, engine.ErrInvalidInput):
		again(inputMessage(err))
		return
	case err != nil:
		c.fail(w, r, q, err)
		return
	}
	done := "user-created"
	if password != "" {
		if err := c.eng.SetPassword(r.Context(), q.admin(), q.tenant(), u.ID, engine.NewSecret(password)); err != nil {
			if !errors.Is(err, engine.ErrInvalidInput) {
				c.log.ErrorContext(r.Context(), "console: setting a new user's password", "error", err)
			}
			done = "user-created-nopw"
		}
	}
	c.redirect(w, r, "users/"+url.PathEscape(u.ID)+"?done="+done)
}

// Answers to the confirmation of the admin's own password.
const (
	msgConfirmMissing = "Enter your password to confirm."
	msgConfirmWrong   = "Your password is not right."
)

// confirmed checks the signed-in administrator's own password, posted as
// confirm_password, before one of the console's most powerful actions
// (making an administrator, setting a password another will sign in
// with): a session left open or borrowed does not know it. A missing or
// wrong one is answered with again(message), the form shown again; a
// throttled one (the engine charges it like a sign-in) and an ended
// session with their own pages. It reports whether the action may go on.
func (c *Console) confirmed(w http.ResponseWriter, r *http.Request, q *request, again func(msg string)) bool {
	pw := r.PostFormValue("confirm_password")
	if pw == "" {
		// Nothing was guessed: no hash, no charge to the sign-in budget.
		again(msgConfirmMissing)
		return false
	}
	err := c.eng.ConfirmPassword(r.Context(), q.sess, engine.NewSecret(pw), q.addr)
	switch {
	case err == nil:
		return true
	case errors.Is(err, engine.ErrSignInFailed):
		again(msgConfirmWrong)
	default:
		// A *engine.LimitError is a 429 with Retry-After, an ended session
		// the way to sign-in.
		c.fail(w, r, q, err)
	}
	return false
}

// passwordProblem says what is wrong with a new password, or "".
func passwordProblem(pw string) string {
	switch {
	case len(pw) > passwordMaxBytes:
		return "The password is too long (at most 256 bytes)."
	case !utf8.ValidString(pw) || utf8.RuneCountInString(pw) < passwordMinChars:
		return "The password is too short: use at least 12 characters."
	}
	return ""
}

type userData struct {
	User   store.User
	Tokens []tokenRow
	// Self is the signed-in administrator's own record.
	Self bool
	// Form holds what was submitted when the edit form is shown again.
	Form userForm
}

func (c *Console) userPage(w http.ResponseWriter, r *http.Request, q *request) {
	c.showUser(w, r, q, http.StatusOK, "", nil)
}

// showUser renders a user's page; form, when not nil, is an edit that
// was refused with msg.
func (c *Console) showUser(w http.ResponseWriter, r *http.Request, q *request, status int, msg string, form *userForm) {
	u, err := c.eng.GetUser(r.Context(), q.admin(), q.tenant(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	tokens, err := c.allTokens(r, q)
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	data := userData{User: u, Self: u.ID == q.sess.UserID, Form: userForm{Name: u.Name, Role: u.Role}}
	if form != nil {
		data.Form = *form
	}
	for _, t := range tokens {
		if t.UserID == u.ID {
			data.Tokens = append(data.Tokens, tokenRow{Token: t})
		}
	}
	c.render(w, r, q, status, "user", &page{Title: u.Name, Nav: "users", Error: msg, Data: data})
}

func (c *Console) updateUser(w http.ResponseWriter, r *http.Request, q *request) {
	form := userForm{Name: r.PostFormValue("name"), Role: store.Role(r.PostFormValue("role"))}
	if form.Role != store.RoleAdmin && form.Role != store.RoleMember {
		c.showUser(w, r, q, http.StatusBadRequest, "Choose the role: admin or member.", &form)
		return
	}
	id := r.PathValue("id")
	u, err := c.eng.GetUser(r.Context(), q.admin(), q.tenant(), id)
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	patch := engine.UserPatch{Name: &form.Name}
	// The role is patched only when the form changes it: an edit that
	// keeps an admin's role (a rename) cannot re-promote one that another
	// admin demoted meanwhile, so every promotion is a confirmed one.
	if form.Role != u.Role {
		patch.Role = &form.Role
	}
	if form.Role == store.RoleAdmin && u.Role != store.RoleAdmin {
		again := func(msg string) { c.showUser(w, r, q, http.StatusBadRequest, msg, &form) }
		if !c.confirmed(w, r, q, again) {
			return
		}
	}
	_, err = c.eng.UpdateUser(r.Context(), q.admin(), q.tenant(), id, patch)
	switch {
	case errors.Is(err, engine.ErrInvalidInput):
		c.showUser(w, r, q, http.StatusBadRequest, inputMessage(err), &form)
		return
	case err != nil:
		c.fail(w, r, q, err)
		return
	}
	// Demoting oneself ends one's session; the redirect then lands on
	// sign-in, which is the truth.
	c.redirect(w, r, "users/"+url.PathEscape(id)+"?done=user-updated")
}

func (c *Console) setUserStatus(active bool) func(http.ResponseWriter, *http.Request, *request) {
	status, done := store.UserDeactivated, "user-deactivated"
	if active {
		status, done = store.UserActive, "user-reactivated"
	}
	return func(w http.ResponseWriter, r *http.Request, q *request) {
		id := r.PathValue("id")
		if _, err := c.eng.UpdateUser(r.Context(), q.admin(), q.tenant(), id, engine.UserPatch{Status: &status}); err != nil {
			c.fail(w, r, q, err)
			return
		}
		c.redirect(w, r, "users/"+url.PathEscape(id)+"?done="+done)
	}
}

func (c *Console) setPassword(w http.ResponseWriter, r *http.Request, q *request) {
	id := r.PathValue("id")
	if id == q.sess.UserID {
		// The engine refuses it too: one's own password changes only with
		// the current one, so a borrowed session cannot take the account.
		c.errorPage(w, r, q, http.StatusForbidden, "Use the account page",
			"Change your own password on the Account page: it asks for the current one.")
		return
	}
	// Whoever sets a password can sign in with it (the user being an
	// admin, or made one later): it takes the confirmation of one's own.
	again := func(msg string) { c.showUser(w, r, q, http.StatusBadRequest, msg, nil) }
	if !c.confirmed(w, r, q, again) {
		return
	}
	err := c.eng.SetPassword(r.Context(), q.admin(), q.tenant(), id, engine.NewSecret(r.PostFormValue("password")))
	switch {
	case errors.Is(err, engine.ErrInvalidInput):
		c.showUser(w, r, q, http.StatusBadRequest, inputMessage(err), nil)
		return
	case err != nil:
		c.fail(w, r, q, err)
		return
	}
	c.redirect(w, r, "users/"+url.PathEscape(id)+"?done=password-set")
}
