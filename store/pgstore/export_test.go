package pgstore

import "time"

// Statement is one statement of the store with sample arguments, for the
// tests that look at query plans.
type Statement struct {
	Name string
	SQL  string
	Args []any
}

// Statements lists every statement a Store on schema sends while
// transactions run, except plain inserts.
func Statements(schema string) []Statement {
	q := newQueries(schema)
	tid, id, data, now := "tenant", "id", []byte(`{}`), time.Now()
	sts := []Statement{
		{"tenantGet", q.tenantGet, []any{id}},
		{"tenantUpdate", q.tenantUpdate, []any{id, data}},
		{"tenantList", q.tenantList, []any{"", 10}},
		{"licenseByDigest", q.licenseByDigest, []any{[]byte{1, 2, 3}}},
		{"tokenByID", q.tokenByID, []any{id}},
		{"familyByID", q.familyByID, []any{id}},
		{"sessionByID", q.sessionByID, []any{id}},
		{"userByEmail", q.userByEmail, []any{tid, "a@example.com"}},
		{"memberAdd", q.memberAdd, []any{tid, "g", "u"}},
		{"memberRemove", q.memberRemove, []any{tid, "g", "u"}},
		{"members", q.members, []any{tid, "g", "", 10}},
		{"groupsOf", q.groupsOf, []any{tid, "u"}},
		{"plansByProduct", q.plansByProduct, []any{tid, "p", "", 10}},
		{"auditList", q.auditList[0], []any{tid, "", 10}},
		{"auditListByToken", q.auditList[filterToken], []any{tid, "", "token", 10}},
		{"auditListByAll", q.auditList[filterFrom|filterTo|filterType|filterToken], []any{tid, "", now, now, "type", "token", 10}},
		{"auditPrune", q.auditPrune, []any{tid, now, 10}},
		{"sessionPrune", q.sessionPrune, []any{tid, now, 10}},
		{"usageGet", q.usageGet, []any{tid, id}},
		{"usageList", q.usageList, []any{tid, "", 10}},
		{"quotaGet", q.quotaGet, []any{tid, id}},
	}
	kinds := []struct {
		name  string
		k     kindQueries
		extra []any
	}{
		{"users", q.users, []any{"a@example.com"}},
		{"groups", q.groups, nil},
		{"products", q.products, nil},
		{"plans", q.plans, []any{"p"}},
		{"customers", q.customers, nil},
		{"licenses", q.licenses, []any{[]byte{1, 2, 3}}},
		{"tokens", q.tokens, nil},
		{"families", q.families, nil},
		{"sessions", q.sessions, nil},
	}
	for _, k := range kinds {
		upd := append(append([]any{tid, id}, k.extra...), data)
		sts = append(sts,
			Statement{k.name + ".get", k.k.get, []any{tid, id}},
			Statement{k.name + ".update", k.k.update, upd},
			Statement{k.name + ".exists", k.k.exists, []any{tid, id}},
			Statement{k.name + ".delete", k.k.del, []any{tid, id}},
			Statement{k.name + ".list", k.k.list, []any{tid, "", 10}},
		)
	}
	return sts
}
