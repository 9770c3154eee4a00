package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// tx implements store.Tx over one PostgreSQL transaction on a pooled
// connection.
//
// Every method checks its arguments, and View's read-only flag, before it
// sends anything, so that a method failing with ErrInvalid, ErrReadOnly or
// a done ctx leaves the transaction usable. Uniqueness is checked by the
// statement itself (INSERT ... ON CONFLICT DO NOTHING, UPDATE ... WHERE NOT
// EXISTS), so ErrAlreadyExists and ErrNotFound leave it usable too. Any
// error the server reports aborts the PostgreSQL transaction: tx keeps the
// first one, fails every later method with it, and Update returns it
// instead of committing.
type tx struct {
	ctx      context.Context
	conn     *pgxpool.Conn
	q        *queries
	readOnly bool
	// begin opens the transaction; it is sent with the first statement,
	// in one round trip (a transaction that sends nothing costs nothing).
	begin string
	begun bool
	err   error
}

func (t *tx) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := t.ctx.Err(); err != nil {
		return err
	}
	if t.err != nil {
		return fmt.Errorf("pgstore: the transaction failed earlier: %w", t.err)
	}
	return nil
}

func (t *tx) writable() error {
	if t.readOnly {
		return store.ErrReadOnly
	}
	return nil
}

// fail records the error of a statement, which aborted the server's
// transaction, and returns it mapped to the store's errors.
func (t *tx) fail(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		ctx = t.ctx
	}
	err = mapErr(ctx, err)
	t.err = err
	return err
}

// first sends BEGIN and the transaction's first statement as one batch.
// The caller reads the statement's result from the returned results, after
// BEGIN's, and closes them.
func (t *tx) first(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	b.Queue(t.begin)
	b.Queue(sql, args...)
	br := t.conn.SendBatch(ctx, b)
	t.begun = true
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, err
	}
	return br, nil
}

func (t *tx) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	var tag pgconn.CommandTag
	var err error
	if t.begun {
		tag, err = t.conn.Exec(ctx, sql, args...)
	} else {
		var br pgx.BatchResults
		if br, err = t.first(ctx, sql, args); err == nil {
			tag, err = br.Exec()
			if cerr := br.Close(); err == nil {
				err = cerr
			}
		}
	}
	if err != nil {
		return 0, t.fail(ctx, err)
	}
	return tag.RowsAffected(), nil
}

// row scans the one row of a query into dst; found is false when there is
// none.
func (t *tx) row(ctx context.Context, sql string, args []any, dst ...any) (found bool, err error) {
	if t.begun {
		err = t.conn.QueryRow(ctx, sql, args...).Scan(dst...)
	} else {
		var br pgx.BatchResults
		if br, err = t.first(ctx, sql, args); err == nil {
			err = br.QueryRow().Scan(dst...)
			if cerr := br.Close(); err == nil || errors.Is(err, pgx.ErrNoRows) && cerr != nil {
				err = cerr
			}
		}
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	}
	return false, t.fail(ctx, err)
}

// query runs a query; done closes what it opened and returns the first
// error of reading the rows.
func (t *tx) query(ctx context.Context, sql string, args []any) (rows pgx.Rows, done func() error, err error) {
	if t.begun {
		rows, err = t.conn.Query(ctx, sql, args...)
		if err != nil {
			return nil, nil, err
		}
		return rows, func() error { rows.Close(); return rows.Err() }, nil
	}
	br, err := t.first(ctx, sql, args)
	if err != nil {
		return nil, nil, err
	}
	rows, err = br.Query()
	if err != nil {
		_ = br.Close()
		return nil, nil, err
	}
	return rows, func() error {
		rows.Close()
		err := rows.Err()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	}, nil
}

func (t *tx) count(ctx context.Context, sql string, args ...any) (int64, error) {
	var n int64
	_, err := t.row(ctx, sql, args, &n)
	return n, err
}

// getRecord reads the data column of one row into *rec.
func getRecord[T any](t *tx, ctx context.Context, rec *T, sql string, args ...any) (found bool, err error) {
	var data []byte
	if found, err = t.row(ctx, sql, args, &data); !found || err != nil {
		return found, err
	}
	return true, decode(data, rec)
}

// listRecords reads one page: sql must take the page limit as its last
// parameter and return the data column of the records in ID order.
func listRecords[T any](t *tx, ctx context.Context, page store.Page, idOf func(*T) string, sql string, args ...any) ([]T, string, error) {
	size := page.Size()
	rows, done, err := t.query(ctx, sql, append(args, size+1))
	if err != nil {
		return nil, "", t.fail(ctx, err)
	}
	out := make([]T, 0, min(size+1, 64))
	var data []byte
	var derr error
	for rows.Next() {
		if err := rows.Scan(&data); err != nil {
			derr = err
			break
		}
		var rec T
		if derr = decode(data, &rec); derr != nil {
			break
		}
		out = append(out, rec)
	}
	if err := done(); err != nil {
		return nil, "", t.fail(ctx, err)
	}
	if derr != nil {
		return nil, "", derr
	}
	if len(out) > size {
		out = out[:size]
		return out, idOf(&out[size-1]), nil
	}
	return out, "", nil
}

// listIDs reads a column of strings; with a page, sql takes the limit as
// its last parameter.
func (t *tx) listIDs(ctx context.Context, page *store.Page, sql string, args ...any) ([]string, string, error) {
	size := 0
	if page != nil {
		size = page.Size()
		args = append(args, size+1)
	}
	rows, done, err := t.query(ctx, sql, args)
	if err != nil {
		return nil, "", t.fail(ctx, err)
	}
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			break // done reports it
		}
		out = append(out, id)
	}
	if err := done(); err != nil {
		return nil, "", t.fail(ctx, err)
	}
	if page != nil && len(out) > size {
		out = out[:size]
		return out, out[size-1], nil
	}
	return out, "", nil
}

func checkIDs(ids ...string) error {
	for _, id := range ids {
		if err := store.CheckID(id); err != nil {
			return err
		}
	}
	return nil
}

// checkCursor refuses a cursor that cannot be a position among IDs
// stored as PostgreSQL text. Cursors the store returns are IDs, which
// always pass.
func checkCursor(after string) error {
	if !utf8.ValidString(after) || containsNUL(after) {
		return fmt.Errorf("%w: malformed cursor %q", store.ErrInvalid, after)
	}
	return nil
}

func (t *tx) Tenants() store.Tenants { return tenants{t} }

func (t *tx) Tenant(tenantID string) store.TenantTx { return &scope{tx: t, tenantID: tenantID} }

func (t *tx) LicenseByKeyDigest(ctx context.Context, digest []byte) (store.License, error) {
	var l store.License
	if err := t.check(ctx); err != nil {
		return l, err
	}
	if len(digest) == 0 {
		return l, fmt.Errorf("%w: empty key digest", store.ErrInvalid)
	}
	found, err := getRecord(t, ctx, &l, t.q.licenseByDigest, digest)
	if err == nil && !found {
		err = fmt.Errorf("%w: license with that key digest", store.ErrNotFound)
	}
	return l, err
}

func (t *tx) UserTokenByID(ctx context.Context, id string) (store.UserToken, error) {
	return byGlobalID[store.UserToken](t, ctx, t.q.tokenByID, "user token", id)
}

func (t *tx) RefreshFamilyByID(ctx context.Context, id string) (store.RefreshFamily, error) {
	return byGlobalID[store.RefreshFamily](t, ctx, t.q.familyByID, "refresh family", id)
}

func (t *tx) ConsoleSessionByID(ctx context.Context, id string) (store.ConsoleSession, error) {
	return byGlobalID[store.ConsoleSession](t, ctx, t.q.sessionByID, "console session", id)
}

func byGlobalID[T any](t *tx, ctx context.Context, sql, what, id string) (T, error) {
	var rec T
	if err := t.check(ctx); err != nil {
		return rec, err
	}
	if err := checkIDs(id); err != nil {
		return rec, err
	}
	found, err := getRecord(t, ctx, &rec, sql, id)
	if err == nil && !found {
		err = fmt.Errorf("%w: %s %q", store.ErrNotFound, what, id)
	}
	return rec, err
}

// --- tenants -------------------------------------------------------------

type tenants struct{ t *tx }

func (ts tenants) Create(ctx context.Context, rec tenant.Tenant) error {
	t := ts.t
	if err := t.check(ctx); err != nil {
		return err
	}
	if err := checkIDs(rec.ID); err != nil {
		return err
	}
	if err := t.writable(); err != nil {
		return err
	}
	data, err := encode(&rec)
	if err != nil {
		return err
	}
	n, err := t.exec(ctx, t.q.tenantInsert, rec.ID, data)
	if err == nil && n == 0 {
		err = fmt.Errorf("%w: tenant %q", store.ErrAlreadyExists, rec.ID)
	}
	return err
}

func (ts tenants) Get(ctx context.Context, id string) (tenant.Tenant, error) {
	t := ts.t
	var rec tenant.Tenant
	if err := t.check(ctx); err != nil {
		return rec, err
	}
	if err := checkIDs(id); err != nil {
		return rec, err
	}
	found, err := getRecord(t, ctx, &rec, t.q.tenantGet, id)
	if err == nil && !found {
		err = fmt.Errorf("%w: tenant %q", store.ErrNotFound, id)
	}
	return rec, err
}

func (ts tenants) Update(ctx context.Context, rec tenant.Tenant) error {
	t := ts.t
	if err := t.check(ctx); err != nil {
		return err
	}
	if err := checkIDs(rec.ID); err != nil {
		return err
	}
	if err := t.writable(); err != nil {
		return err
	}
	data, err := encode(&rec)
	if err != nil {
		return err
	}
	n, err := t.exec(ctx, t.q.tenantUpdate, rec.ID, data)
	if err == nil && n == 0 {
		err = fmt.Errorf("%w: tenant %q", store.ErrNotFound, rec.ID)
	}
	return err
}

func (ts tenants) List(ctx context.Context, page store.Page) ([]tenant.Tenant, string, error) {
	t := ts.t
	if err := t.check(ctx); err != nil {
		return nil, "", err
	}
	if err := checkCursor(page.After); err != nil {
		return nil, "", err
	}
	return listRecords(t, ctx, page, func(r *tenant.Tenant) string { return r.ID }, t.q.tenantList, page.After)
}

// --- tenant scope --------------------------------------------------------------

// scope is a transaction scoped to one tenant.
type scope struct {
	*tx
	tenantID string
}

func (s *scope) TenantID() string { return s.tenantID }

// claim fills in an empty TenantID and refuses another tenant's.
func (s *scope) claim(tenantID *string) error {
	switch *tenantID {
	case "":
		*tenantID = s.tenantID
	case s.tenantID:
	default:
		return fmt.Errorf("%w: record of tenant %q written in tenant %q", store.ErrInvalid, *tenantID, s.tenantID)
	}
	return nil
}

// spec describes one collection of tenant records.
type spec[T any] struct {
	what   string
	q      *kindQueries
	idOf   func(*T) string
	tenant func(*T) *string
	// extra returns the values of the table's extra columns, after
	// checking them; nil for kinds without any.
	extra func(*T) ([]any, error)
	// guarded kinds have a unique attribute besides the ID: an update
	// that changes nothing was refused for it, or found no record.
	guarded bool
}

// coll implements store.Collection (and store.Deleter) for a spec.
type coll[T any] struct {
	s  *scope
	sp spec[T]
}

// prepare checks a record to write and returns the statement's arguments:
// tenant ID, ID, extra columns, data.
func (c coll[T]) prepare(ctx context.Context, rec *T) ([]any, error) {
	s := c.s
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if err := checkIDs(s.tenantID, c.sp.idOf(rec)); err != nil {
		return nil, err
	}
	if err := s.claim(c.sp.tenant(rec)); err != nil {
		return nil, err
	}
	if err := s.writable(); err != nil {
		return nil, err
	}
	args := []any{s.tenantID, c.sp.idOf(rec)}
	if c.sp.extra != nil {
		vals, err := c.sp.extra(rec)
		if err != nil {
			return nil, err
		}
		args = append(args, vals...)
	}
	data, err := encode(rec)
	if err != nil {
		return nil, err
	}
	return append(args, data), nil
}

func (c coll[T]) Create(ctx context.Context, rec T) error {
	args, err := c.prepare(ctx, &rec)
	if err != nil {
		return err
	}
	n, err := c.s.exec(ctx, c.sp.q.insert, args...)
	if err != nil || n > 0 {
		return err
	}
	// ON CONFLICT DO NOTHING skipped the row: say which key was taken.
	// (Reading it also lets a serializable transaction see the
	// dependency on the record that made the Create fail.)
	id := c.sp.idOf(&rec)
	exists, err := c.exists(ctx, id)
	if err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("%w: %s %q", store.ErrAlreadyExists, c.sp.what, id)
	}
	return fmt.Errorf("%w: a unique attribute of %s %q is taken", store.ErrAlreadyExists, c.sp.what, id)
}

func (c coll[T]) exists(ctx context.Context, id string) (bool, error) {
	var ok bool
	_, err := c.s.row(ctx, c.sp.q.exists, []any{c.s.tenantID, id}, &ok)
	return ok, err
}

func (c coll[T]) Get(ctx context.Context, id string) (T, error) {
	var rec T
	s := c.s
	if err := s.check(ctx); err != nil {
		return rec, err
	}
	if err := checkIDs(s.tenantID, id); err != nil {
		return rec, err
	}
	found, err := getRecord(s.tx, ctx, &rec, c.sp.q.get, s.tenantID, id)
	if err == nil && !found {
		err = fmt.Errorf("%w: %s %q", store.ErrNotFound, c.sp.what, id)
	}
	return rec, err
}

func (c coll[T]) Update(ctx context.Context, rec T) error {
	args, err := c.prepare(ctx, &rec)
	if err != nil {
		return err
	}
	n, err := c.s.exec(ctx, c.sp.q.update, args...)
	if err != nil || n > 0 {
		return err
	}
	id := c.sp.idOf(&rec)
	if c.sp.guarded {
		exists, err := c.exists(ctx, id)
		if err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("%w: a unique attribute of %s %q belongs to another record", store.ErrAlreadyExists, c.sp.what, id)
		}
	}
	return fmt.Errorf("%w: %s %q", store.ErrNotFound, c.sp.what, id)
}

func (c coll[T]) Delete(ctx context.Context, id string) error {
	s := c.s
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := checkIDs(s.tenantID, id); err != nil {
		return err
	}
	if err := s.writable(); err != nil {
		return err
	}
	n, err := s.count(ctx, c.sp.q.del, s.tenantID, id)
	if err == nil && n == 0 {
		err = fmt.Errorf("%w: %s %q", store.ErrNotFound, c.sp.what, id)
	}
	return err
}

func (c coll[T]) List(ctx context.Context, page store.Page) ([]T, string, error) {
	s := c.s
	if err := s.check(ctx); err != nil {
		return nil, "", err
	}
	if err := checkIDs(s.tenantID); err != nil {
		return nil, "", err
	}
	if err := checkCursor(page.After); err != nil {
		return nil, "", err
	}
	return listRecords(s.tx, ctx, page, c.sp.idOf, c.sp.q.list, s.tenantID, page.After)
}

// --- users -----------------------------------------------------------------

type users struct{ coll[store.User] }

func (s *scope) Users() store.Users {
	return users{coll[store.User]{s, spec[store.User]{
		what: "user", q: &s.q.users, guarded: true,
		idOf:   func(r *store.User) string { return r.ID },
		tenant: func(r *store.User) *string { return &r.TenantID },
		extra: func(r *store.User) ([]any, error) {
			if r.Email == "" {
				return []any{nil}, nil // not indexed
			}
			if err := checkIDs(r.Email); err != nil {
				return nil, err
			}
			return []any{r.Email}, nil
		},
	}}}
}

func (u users) GetByEmail(ctx context.Context, email string) (store.User, error) {
	var rec store.User
	s := u.s
	if err := s.check(ctx); err != nil {
		return rec, err
	}
	if err := checkIDs(s.tenantID, email); err != nil {
		return rec, err
	}
	found, err := getRecord(s.tx, ctx, &rec, s.q.userByEmail, s.tenantID, email)
	if err == nil && !found {
		err = fmt.Errorf("%w: user with that email", store.ErrNotFound)
	}
	return rec, err
}

// --- groups ----------------------------------------------------------------

type groups struct{ coll[store.Group] }

func (s *scope) Groups() store.Groups {
	return groups{coll[store.Group]{s, spec[store.Group]{
		what: "group", q: &s.q.groups,
		idOf:   func(r *store.Group) string { return r.ID },
		tenant: func(r *store.Group) *string { return &r.TenantID },
	}}}
}

func (g groups) AddMember(ctx context.Context, groupID, userID string) error {
	s := g.s
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := checkIDs(s.tenantID, groupID, userID); err != nil {
		return err
	}
	if err := s.writable(); err != nil {
		return err
	}
	n, err := s.count(ctx, s.q.memberAdd, s.tenantID, groupID, userID)
	if err == nil && n == 0 {
		err = fmt.Errorf("%w: group %q", store.ErrNotFound, groupID)
	}
	return err
}

func (g groups) RemoveMember(ctx context.Context, groupID, userID string) error {
	s := g.s
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := checkIDs(s.tenantID, groupID, userID); err != nil {
		return err
	}
	if err := s.writable(); err != nil {
		return err
	}
	n, err := s.exec(ctx, s.q.memberRemove, s.tenantID, groupID, userID)
	if err == nil && n == 0 {
		err = fmt.Errorf("%w: user %q in group %q", store.ErrNotFound, userID, groupID)
	}
	return err
}

func (g groups) Members(ctx context.Context, groupID string, page store.Page) ([]string, string, error) {
	s := g.s
	if err := s.check(ctx); err != nil {
		return nil, "", err
	}
	if err := checkIDs(s.tenantID, groupID); err != nil {
		return nil, "", err
	}
	if err := checkCursor(page.After); err != nil {
		return nil, "", err
	}
	return s.listIDs(ctx, &page, s.q.members, s.tenantID, groupID, page.After)
}

func (g groups) GroupsOf(ctx context.Context, userID string) ([]string, error) {
	s := g.s
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if err := checkIDs(s.tenantID, userID); err != nil {
		return nil, err
	}
	ids, _, err := s.listIDs(ctx, nil, s.q.groupsOf, s.tenantID, userID)
	return ids, err
}

// --- products, plans, customers -----------------------------------------------

func (s *scope) Products() store.Products {
	return coll[store.Product]{s, spec[store.Product]{
		what: "product", q: &s.q.products,
		idOf:   func(r *store.Product) string { return r.ID },
		tenant: func(r *store.Product) *string { return &r.TenantID },
	}}
}

type plans struct{ coll[store.Plan] }

func (s *scope) Plans() store.Plans {
	return plans{coll[store.Plan]{s, spec[store.Plan]{
		what: "plan", q: &s.q.plans,
		idOf:   func(r *store.Plan) string { return r.ID },
		tenant: func(r *store.Plan) *string { return &r.TenantID },
		extra: func(r *store.Plan) ([]any, error) {
			if err := checkIDs(r.ProductID); err != nil {
				return nil, err
			}
			return []any{r.ProductID}, nil
		},
	}}}
}

func (p plans) ListByProduct(ctx context.Context, productID string, page store.Page) ([]store.Plan, string, error) {
	s := p.s
	if err := s.check(ctx); err != nil {
		return nil, "", err
	}
	if err := checkIDs(s.tenantID, productID); err != nil {
		return nil, "", err
	}
	if err := checkCursor(page.After); err != nil {
		return nil, "", err
	}
	return listRecords(s.tx, ctx, page, p.sp.idOf, s.q.plansByProduct, s.tenantID, productID, page.After)
}

func (s *scope) Customers() store.Customers {
	return coll[store.Customer]{s, spec[store.Customer]{
		what: "customer", q: &s.q.customers,
		idOf:   func(r *store.Customer) string { return r.ID },
		tenant: func(r *store.Customer) *string { return &r.TenantID },
	}}
}

// --- licenses and credentials ---------------------------------------------------

func (s *scope) Licenses() store.Licenses {
	return coll[store.License]{s, spec[store.License]{
		what: "license", q: &s.q.licenses, guarded: true,
		idOf:   func(r *store.License) string { return r.ID },
		tenant: func(r *store.License) *string { return &r.TenantID },
		extra: func(r *store.License) ([]any, error) {
			if len(r.KeyDigest) == 0 {
				return nil, fmt.Errorf("%w: license %q without key digest", store.ErrInvalid, r.ID)
			}
			return []any{r.KeyDigest}, nil
		},
	}}
}

// credentials exposes a collection without Delete: credentials end by a
// status change, and the store does not offer another way.
type credentials[T any] struct{ c coll[T] }

func (k credentials[T]) Create(ctx context.Context, rec T) error       { return k.c.Create(ctx, rec) }
func (k credentials[T]) Get(ctx context.Context, id string) (T, error) { return k.c.Get(ctx, id) }
func (k credentials[T]) Update(ctx context.Context, rec T) error       { return k.c.Update(ctx, rec) }
func (k credentials[T]) List(ctx context.Context, page store.Page) ([]T, string, error) {
	return k.c.List(ctx, page)
}

func (s *scope) UserTokens() store.UserTokens {
	return credentials[store.UserToken]{coll[store.UserToken]{s, spec[store.UserToken]{
		what: "user token", q: &s.q.tokens,
		idOf:   func(r *store.UserToken) string { return r.ID },
		tenant: func(r *store.UserToken) *string { return &r.TenantID },
	}}}
}

func (s *scope) RefreshFamilies() store.RefreshFamilies {
	return credentials[store.RefreshFamily]{coll[store.RefreshFamily]{s, spec[store.RefreshFamily]{
		what: "refresh family", q: &s.q.families,
		idOf:   func(r *store.RefreshFamily) string { return r.ID },
		tenant: func(r *store.RefreshFamily) *string { return &r.TenantID },
	}}}
}

type sessions struct {
	credentials[store.ConsoleSession]
}

func (s *scope) ConsoleSessions() store.ConsoleSessions {
	return sessions{credentials[store.ConsoleSession]{coll[store.ConsoleSession]{s, spec[store.ConsoleSession]{
		what: "console session", q: &s.q.sessions,
		idOf:   func(r *store.ConsoleSession) string { return r.ID },
		tenant: func(r *store.ConsoleSession) *string { return &r.TenantID },
	}}}}
}

func (k sessions) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	return k.c.s.prune(ctx, k.c.s.q.sessionPrune, before, limit)
}

// prune runs a statement deleting at most limit of the tenant's records
// older than before (tenant $1, time $2, limit $3).
func (s *scope) prune(ctx context.Context, sql string, before time.Time, limit int) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	if err := checkIDs(s.tenantID); err != nil {
		return 0, err
	}
	if limit <= 0 {
		return 0, nil
	}
	if err := s.writable(); err != nil {
		return 0, err
	}
	n, err := s.exec(ctx, sql, s.tenantID, toMicroCeil(before), limit)
	return int(n), err
}

// --- audit -----------------------------------------------------------------

type audit struct{ s *scope }

func (s *scope) Audit() store.Audit { return audit{s} }

func (a audit) Append(ctx context.Context, ev store.AuditEvent) error {
	s := a.s
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := checkIDs(s.tenantID, ev.ID); err != nil {
		return err
	}
	if err := s.claim(&ev.TenantID); err != nil {
		return err
	}
	if err := s.writable(); err != nil {
		return err
	}
	data, err := encode(&ev) // normalizes ev.Time too
	if err != nil {
		return err
	}
	n, err := s.exec(ctx, s.q.auditAppend, s.tenantID, ev.ID, ev.Time, asJSONString(ev.Type), asJSONString(ev.TokenID), data)
	if err == nil && n == 0 {
		err = fmt.Errorf("%w: audit event %q", store.ErrAlreadyExists, ev.ID)
	}
	return err
}

func (a audit) List(ctx context.Context, q store.AuditQuery, page store.Page) ([]store.AuditEvent, string, error) {
	s := a.s
	if err := s.check(ctx); err != nil {
		return nil, "", err
	}
	if err := checkIDs(s.tenantID); err != nil {
		return nil, "", err
	}
	if err := checkCursor(page.After); err != nil {
		return nil, "", err
	}
	// Stored types and token IDs are valid UTF-8 without NUL (see
	// asJSONString), so a filter that is not matches nothing.
	if !storableText(q.Type) || !storableText(q.TokenID) {
		return nil, "", nil
	}
	var f auditFilter
	args := []any{s.tenantID, page.After}
	if !q.From.IsZero() {
		f |= filterFrom
		args = append(args, toMicroCeil(q.From))
	}
	if !q.To.IsZero() {
		f |= filterTo
		args = append(args, toMicroCeil(q.To))
	}
	if q.Type != "" {
		f |= filterType
		args = append(args, q.Type)
	}
	if q.TokenID != "" {
		f |= filterToken
		args = append(args, q.TokenID)
	}
	return listRecords(s.tx, ctx, page, func(ev *store.AuditEvent) string { return ev.ID }, s.q.auditList[f], args...)
}

func (a audit) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	return a.s.prune(ctx, a.s.q.auditPrune, before, limit)
}

// asJSONString is s as it reads back from the record's JSON document:
// encoding/json replaces every byte that is not valid UTF-8 with U+FFFD.
// The indexed columns hold that, so that filters agree with the records.
func asJSONString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// storableText reports whether s can be sent as PostgreSQL text.
func storableText(s string) bool { return utf8.ValidString(s) && !containsNUL(s) }

// --- usage and quotas ----------------------------------------------------------

type usage struct{ s *scope }

func (s *scope) Usage() store.Usage { return usage{s} }

func (u usage) Get(ctx context.Context, tokenID string) (store.UsageRecord, error) {
	var rec store.UsageRecord
	s := u.s
	if err := s.check(ctx); err != nil {
		return rec, err
	}
	if err := checkIDs(s.tenantID, tokenID); err != nil {
		return rec, err
	}
	found, err := getRecord(s.tx, ctx, &rec, s.q.usageGet, s.tenantID, tokenID)
	if err == nil && !found {
		err = fmt.Errorf("%w: usage of token %q", store.ErrNotFound, tokenID)
	}
	return rec, err
}

func (u usage) Put(ctx context.Context, rec store.UsageRecord) error {
	s := u.s
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := checkIDs(s.tenantID, rec.TokenID); err != nil {
		return err
	}
	if err := s.claim(&rec.TenantID); err != nil {
		return err
	}
	if err := s.writable(); err != nil {
		return err
	}
	data, err := encode(&rec)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, s.q.usagePut, s.tenantID, rec.TokenID, data)
	return err
}

func (u usage) List(ctx context.Context, page store.Page) ([]store.UsageRecord, string, error) {
	s := u.s
	if err := s.check(ctx); err != nil {
		return nil, "", err
	}
	if err := checkIDs(s.tenantID); err != nil {
		return nil, "", err
	}
	if err := checkCursor(page.After); err != nil {
		return nil, "", err
	}
	return listRecords(s.tx, ctx, page, func(r *store.UsageRecord) string { return r.TokenID }, s.q.usageList, s.tenantID, page.After)
}

type quotas struct{ s *scope }

func (s *scope) Quotas() store.Quotas { return quotas{s} }

func (q quotas) Get(ctx context.Context, name string) (tenant.LimiterState, error) {
	var st tenant.LimiterState
	s := q.s
	if err := s.check(ctx); err != nil {
		return st, err
	}
	if err := checkIDs(s.tenantID, name); err != nil {
		return st, err
	}
	found, err := getRecord(s.tx, ctx, &st, s.q.quotaGet, s.tenantID, name)
	if err == nil && !found {
		err = fmt.Errorf("%w: quota %q", store.ErrNotFound, name)
	}
	return st, err
}

func (q quotas) Put(ctx context.Context, name string, st tenant.LimiterState) error {
	s := q.s
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := checkIDs(s.tenantID, name); err != nil {
		return err
	}
	if err := s.writable(); err != nil {
		return err
	}
	data, err := encode(&st)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, s.q.quotaPut, s.tenantID, name, data)
	return err
}

// Compile-time guards: each type implements its store interface.
var (
	_ store.Tx              = (*tx)(nil)
	_ store.Tenants         = tenants{}
	_ store.TenantTx        = (*scope)(nil)
	_ store.Users           = users{}
	_ store.Groups          = groups{}
	_ store.Products        = coll[store.Product]{}
	_ store.Plans           = plans{}
	_ store.Customers       = coll[store.Customer]{}
	_ store.Licenses        = coll[store.License]{}
	_ store.UserTokens      = credentials[store.UserToken]{}
	_ store.RefreshFamilies = credentials[store.RefreshFamily]{}
	_ store.ConsoleSessions = sessions{}
	_ store.Audit           = audit{}
	_ store.Usage           = usage{}
	_ store.Quotas          = quotas{}
)
