package pgstore

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// kindQueries are the statements of one tenant collection whose table is
// (tenant_id, id, extra columns..., data). Parameters: $1 tenant ID, $2 ID,
// $3.. the extra columns, then data.
type kindQueries struct {
	insert string // ON CONFLICT DO NOTHING: 0 rows means a key is taken
	get    string
	update string // 0 rows: missing, or (guarded kinds) a unique attribute taken
	exists string
	del    string // returns the number of records deleted
	list   string // $1 tenant, $2 after, $3 limit
}

// queries holds every statement of a Store, with table names qualified by
// its schema so that the pool's search_path does not matter.
type queries struct {
	tenantInsert, tenantGet, tenantUpdate, tenantList string

	licenseByDigest, tokenByID, familyByID, sessionByID string

	users, groups, products, plans, customers, licenses, tokens, families, sessions kindQueries

	userByEmail, userEmailOwner string

	memberAdd, memberRemove, members, groupsOf string

	plansByProduct string

	auditAppend, auditPrune string

	sessionPrune string
	// auditList has a statement per combination of filters, so that each
	// gets a plan of its own.
	auditList [16]string

	usageGet, usagePut, usageList string

	quotaGet, quotaPut string
}

func newQueries(schema string) *queries {
	tbl := func(name string) string { return pgx.Identifier{schema, name}.Sanitize() }
	q := &queries{}

	q.tenantInsert = "INSERT INTO " + tbl("tenants") + " (id, data) VALUES ($1, $2::jsonb) ON CONFLICT DO NOTHING"
	q.tenantGet = "SELECT data FROM " + tbl("tenants") + " WHERE id = $1"
	q.tenantUpdate = "UPDATE " + tbl("tenants") + " SET data = $2::jsonb WHERE id = $1"
	q.tenantList = "SELECT data FROM " + tbl("tenants") + " WHERE id > $1 ORDER BY id LIMIT $2"

	q.licenseByDigest = "SELECT data FROM " + tbl("licenses") + " WHERE key_digest = $1"
	q.tokenByID = "SELECT data FROM " + tbl("user_tokens") + " WHERE id = $1"
	q.familyByID = "SELECT data FROM " + tbl("refresh_families") + " WHERE id = $1"
	q.sessionByID = "SELECT data FROM " + tbl("console_sessions") + " WHERE id = $1"

	users := tbl("users")
	members := tbl("group_members")
	q.users = kind(users, []string{"email"},
		// The email is free unless another user of the tenant has it.
		"($3::text IS NULL OR NOT EXISTS (SELECT 1 FROM "+users+" o WHERE o.tenant_id = $1 AND o.email = $3 AND o.id <> $2))",
		// A deleted user leaves no memberships behind.
		"WITH d AS (DELETE FROM "+users+" WHERE tenant_id = $1 AND id = $2 RETURNING id),"+
			" m AS (DELETE FROM "+members+" WHERE tenant_id = $1 AND user_id IN (SELECT id FROM d))"+
			" SELECT count(*) FROM d")
	q.userByEmail = "SELECT data FROM " + users + " WHERE tenant_id = $1 AND email = $2"

	groups := tbl("groups")
	q.groups = kind(groups, nil, "",
		// A deleted group takes its memberships along.
		"WITH d AS (DELETE FROM "+groups+" WHERE tenant_id = $1 AND id = $2 RETURNING id),"+
			" m AS (DELETE FROM "+members+" WHERE tenant_id = $1 AND group_id IN (SELECT id FROM d))"+
			" SELECT count(*) FROM d")
	// Returns whether the group exists; adds the membership if it does.
	q.memberAdd = "WITH g AS (SELECT id FROM " + groups + " WHERE tenant_id = $1 AND id = $2)," +
		" i AS (INSERT INTO " + members + " (tenant_id, group_id, user_id) SELECT $1, g.id, $3::text FROM g ON CONFLICT DO NOTHING)" +
		" SELECT count(*) FROM g"
	q.memberRemove = "DELETE FROM " + members + " WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3"
	q.members = "SELECT user_id FROM " + members + " WHERE tenant_id = $1 AND group_id = $2 AND user_id > $3 ORDER BY user_id LIMIT $4"
	q.groupsOf = "SELECT group_id FROM " + members + " WHERE tenant_id = $1 AND user_id = $2 ORDER BY group_id"

	q.products = kind(tbl("products"), nil, "", "")
	plans := tbl("plans")
	q.plans = kind(plans, []string{"product_id"}, "", "")
	q.plansByProduct = "SELECT data FROM " + plans + " WHERE tenant_id = $1 AND product_id = $2 AND id > $3 ORDER BY id LIMIT $4"
	q.customers = kind(tbl("customers"), nil, "", "")

	licenses := tbl("licenses")
	q.licenses = kind(licenses, []string{"key_digest"},
		// The digest is free unless another license, of any tenant, has it.
		"NOT EXISTS (SELECT 1 FROM "+licenses+" o WHERE o.key_digest = $3 AND (o.tenant_id <> $1 OR o.id <> $2))", "")
	q.tokens = kind(tbl("user_tokens"), nil, "", "")
	q.families = kind(tbl("refresh_families"), nil, "", "")
	sessions := tbl("console_sessions")
	q.sessions = kind(sessions, nil, "", "")
	// Sessions past their absolute expiry, found through the primary key's
	// tenant prefix (a tenant holds few sessions: one per sign-in until
	// the engine's sweep prunes it). Which ones a small limit takes is not
	// specified.
	q.sessionPrune = "DELETE FROM " + sessions + " WHERE tenant_id = $1 AND id = ANY (ARRAY (SELECT id FROM " + sessions +
		" WHERE tenant_id = $1 AND (data->>'expires_at')::timestamptz < $2 LIMIT $3))"

	audit := tbl("audit_events")
	q.auditAppend = "INSERT INTO " + audit + " (tenant_id, id, time, type, token_id, data) VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT DO NOTHING"
	for f := range q.auditList {
		q.auditList[f] = auditListSQL(audit, auditFilter(f))
	}
	// The oldest events before $2, read in the order of the time index.
	// (Which events a Prune with a small limit takes is not specified; the
	// embedded backends take the first in ID order, which for UUIDv7 IDs
	// is time order too.)
	q.auditPrune = "DELETE FROM " + audit + " WHERE tenant_id = $1 AND id = ANY (ARRAY (SELECT id FROM " + audit +
		" WHERE tenant_id = $1 AND time < $2 ORDER BY time, id LIMIT $3))"

	usage := tbl("usage_records")
	q.usageGet = "SELECT data FROM " + usage + " WHERE tenant_id = $1 AND token_id = $2"
	q.usagePut = "INSERT INTO " + usage + " (tenant_id, token_id, data) VALUES ($1, $2, $3::jsonb)" +
		" ON CONFLICT (tenant_id, token_id) DO UPDATE SET data = excluded.data"
	q.usageList = "SELECT data FROM " + usage + " WHERE tenant_id = $1 AND token_id > $2 ORDER BY token_id LIMIT $3"

	quotas := tbl("quotas")
	q.quotaGet = "SELECT data FROM " + quotas + " WHERE tenant_id = $1 AND name = $2"
	q.quotaPut = "INSERT INTO " + quotas + " (tenant_id, name, data) VALUES ($1, $2, $3::jsonb)" +
		" ON CONFLICT (tenant_id, name) DO UPDATE SET data = excluded.data"
	return q
}

// kind builds the statements of a collection table. guard, if not empty,
// is a condition the update needs besides the key (a unique attribute
// being free); del, if not empty, replaces the plain delete.
func kind(table string, extra []string, guard, del string) kindQueries {
	cols := []string{"tenant_id", "id"}
	cols = append(cols, extra...)
	cols = append(cols, "data")
	// The data document is sent as text and cast, which every query
	// execution mode of pgx encodes alike.
	param := func(i int) string {
		if i == len(cols)-1 {
			return fmt.Sprintf("$%d::jsonb", i+1)
		}
		return fmt.Sprintf("$%d", i+1)
	}
	params := make([]string, len(cols))
	for i := range cols {
		params[i] = param(i)
	}
	sets := make([]string, 0, len(cols)-2)
	for i, c := range cols[2:] {
		sets = append(sets, c+" = "+param(i+2))
	}
	k := kindQueries{
		insert: "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(params, ", ") + ") ON CONFLICT DO NOTHING",
		get:    "SELECT data FROM " + table + " WHERE tenant_id = $1 AND id = $2",
		update: "UPDATE " + table + " SET " + strings.Join(sets, ", ") + " WHERE tenant_id = $1 AND id = $2",
		exists: "SELECT EXISTS (SELECT 1 FROM " + table + " WHERE tenant_id = $1 AND id = $2)",
		del:    "WITH d AS (DELETE FROM " + table + " WHERE tenant_id = $1 AND id = $2 RETURNING 1) SELECT count(*) FROM d",
		list:   "SELECT data FROM " + table + " WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
	}
	if guard != "" {
		k.update += " AND " + guard
	}
	if del != "" {
		k.del = del
	}
	return k
}

// auditFilter says which filters of a store.AuditQuery are set.
type auditFilter int

const (
	filterFrom auditFilter = 1 << iota
	filterTo
	filterType
	filterToken
)

// auditListSQL returns the audit listing with the filters f: $1 tenant,
// $2 cursor, then the set filters in the order From, To, Type, TokenID,
// then the limit.
func auditListSQL(table string, f auditFilter) string {
	var b strings.Builder
	b.WriteString("SELECT data FROM " + table + " WHERE tenant_id = $1 AND id > $2")
	n := 3
	for _, c := range []struct {
		bit  auditFilter
		cond string
	}{{filterFrom, "time >= "}, {filterTo, "time < "}, {filterType, "type = "}, {filterToken, "token_id = "}} {
		if f&c.bit != 0 {
			fmt.Fprintf(&b, " AND %s$%d", c.cond, n)
			n++
		}
	}
	fmt.Fprintf(&b, " ORDER BY id LIMIT $%d", n)
	return b.String()
}
