package permission_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/licensekit/licensekit/permission"
)

// designPermissions is the table of DESIGN §3, copied literally.
var designPermissions = []struct {
	name, code string
}{
	{"View Users", "users:view"},
	{"Create Users", "users:create"},
	{"Edit Users", "users:edit"},
	{"Delete Users", "users:delete"},
	{"Edit User Tokens", "tokens:edit"},
	{"Create Groups", "groups:create"},
	{"Delete Groups", "groups:delete"},
	{"View Products", "products:view"},
	{"Edit Products", "products:edit"},
	{"View Licenses", "licenses:view"},
	{"Edit Licenses", "licenses:edit"},
	{"View Customers", "customers:view"},
	{"Edit Groups", "groups:edit"},
}

func TestProductPermissionsMatchDesign(t *testing.T) {
	byCode := map[string]permission.Permission{}
	for _, p := range permission.All() {
		byCode[p.Code()] = p
	}
	for _, want := range designPermissions {
		t.Run(want.code, func(t *testing.T) {
			p, ok := byCode[want.code]
			require.True(t, ok, "code %q missing from the catalogue", want.code)
			require.Equal(t, want.name, p.Name())
			require.False(t, p.Extension(), "a product permission is not an extension")
		})
	}
	var product []permission.Permission
	for _, p := range permission.All() {
		if !p.Extension() {
			product = append(product, p)
		}
	}
	require.Len(t, product, len(designPermissions), "exactly the 13 product permissions are non-extensions")
}

func TestCatalogue(t *testing.T) {
	tests := []struct {
		p         permission.Permission
		code      string
		name      string
		group     string
		extension bool
	}{
		{permission.ViewUsers, "users:view", "View Users", "User Management", false},
		{permission.CreateUsers, "users:create", "Create Users", "User Management", false},
		{permission.EditUsers, "users:edit", "Edit Users", "User Management", false},
		{permission.DeleteUsers, "users:delete", "Delete Users", "User Management", false},
		{permission.EditUserTokens, "tokens:edit", "Edit User Tokens", "User Management", false},
		{permission.ViewProducts, "products:view", "View Products", "Product & License Management", false},
		{permission.EditProducts, "products:edit", "Edit Products", "Product & License Management", false},
		{permission.ViewLicenses, "licenses:view", "View Licenses", "Product & License Management", false},
		{permission.EditLicenses, "licenses:edit", "Edit Licenses", "Product & License Management", false},
		{permission.ViewCustomers, "customers:view", "View Customers", "Product & License Management", false},
		{permission.CreateGroups, "groups:create", "Create Groups", "Group Management", false},
		{permission.EditGroups, "groups:edit", "Edit Groups", "Group Management", false},
		{permission.DeleteGroups, "groups:delete", "Delete Groups", "Group Management", false},
		{permission.EditCustomers, "customers:edit", "Edit Customers", "Product & License Management", true},
		{permission.ViewAudit, "audit:view", "View Audit Log", "Governance", true},
	}
	all := permission.All()
	require.Len(t, all, len(tests), "every permission is in this table")
	for i, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			require.Equal(t, tt.p, all[i], "catalogue order")
			require.True(t, tt.p.Valid())
			require.Equal(t, tt.code, tt.p.Code())
			require.Equal(t, tt.code, tt.p.String())
			require.Equal(t, tt.name, tt.p.Name())
			require.Equal(t, tt.group, tt.p.Group())
			require.Equal(t, tt.extension, tt.p.Extension())
		})
	}
}

func TestCodesAndNamesNonEmptyAndUnique(t *testing.T) {
	codes, names := map[string]bool{}, map[string]bool{}
	codeRE := regexp.MustCompile(`^[a-z]+:[a-z]+$`)
	for _, p := range permission.All() {
		t.Run(p.String(), func(t *testing.T) {
			require.NotEmpty(t, p.Code())
			require.NotEmpty(t, p.Name())
			require.NotEmpty(t, p.Group())
			require.Regexp(t, codeRE, p.Code(), "codes are lower-case resource:action")
			require.NotContains(t, p.Name(), ":", "names never look like codes")
			require.NotContains(t, p.Name(), ",", "names must survive ParseList")
			require.False(t, codes[p.Code()], "duplicate code")
			require.False(t, names[strings.ToLower(p.Name())], "duplicate name (case-insensitively)")
			codes[p.Code()] = true
			names[strings.ToLower(p.Name())] = true
		})
	}
}

func TestInvalidPermission(t *testing.T) {
	p := permission.Permission(200)
	require.False(t, p.Valid())
	require.Empty(t, p.Code())
	require.Empty(t, p.Name())
	require.Empty(t, p.Group())
	require.False(t, p.Extension())
	require.Equal(t, "Permission(200)", p.String())
	_, err := p.MarshalText()
	require.ErrorIs(t, err, permission.ErrUnknown)
	_, err = json.Marshal(p)
	require.ErrorIs(t, err, permission.ErrUnknown)

	s := permission.NewSet(p, permission.Permission(len(permission.All())))
	require.True(t, s.IsEmpty(), "invalid values are never added")
	require.False(t, permission.Full().Has(p))
}

func TestAllReturnsFreshSlice(t *testing.T) {
	a := permission.All()
	a[0] = permission.ViewAudit
	require.Equal(t, permission.ViewUsers, permission.All()[0])
}

func TestLookupRoundTrips(t *testing.T) {
	for _, p := range permission.All() {
		t.Run(p.Code(), func(t *testing.T) {
			for _, in := range []string{p.Code(), p.Name(), strings.ToLower(p.Name()), strings.ToUpper(p.Name())} {
				got, err := permission.Lookup(in)
				require.NoError(t, err, in)
				require.Equal(t, p, got, in)
			}

			text, err := p.MarshalText()
			require.NoError(t, err)
			require.Equal(t, p.Code(), string(text))
			var q permission.Permission
			require.NoError(t, q.UnmarshalText(text))
			require.Equal(t, p, q)

			j, err := json.Marshal(p)
			require.NoError(t, err)
			require.JSONEq(t, fmt.Sprintf("%q", p.Code()), string(j))
			var r permission.Permission
			require.NoError(t, json.Unmarshal(j, &r))
			require.Equal(t, p, r)
		})
	}
}

func TestUnknownErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		parse func(string) error
	}{
		{"Lookup", "users:fly", func(s string) error { _, err := permission.Lookup(s); return err }},
		{"Lookup code is case-sensitive", "Users:View", func(s string) error { _, err := permission.Lookup(s); return err }},
		{"Lookup is not trimmed", " users:view", func(s string) error { _, err := permission.Lookup(s); return err }},
		{"Lookup empty", "", func(s string) error { _, err := permission.Lookup(s); return err }},
		{"Lookup name", "View Userz", func(s string) error { _, err := permission.Lookup(s); return err }},
		{"UnmarshalText", "licenses:burn", func(s string) error { var p permission.Permission; return p.UnmarshalText([]byte(s)) }},
		{"Parse", "groups:own", func(s string) error { _, err := permission.Parse("users:view", s); return err }},
		{"ParseList scope", "tokens:mint", func(s string) error { _, err := permission.ParseList("users:view " + s + " licenses:view"); return err }},
		{"ParseList commas", "tokens:mint", func(s string) error { _, err := permission.ParseList("users:view, " + s); return err }},
		{"ParseList name", "View Everything", func(s string) error { _, err := permission.ParseList("View Users, " + s); return err }},
		{"UnmarshalJSON", "users:fly", func(s string) error {
			var set permission.Set
			return json.Unmarshal([]byte(`["users:view",`+strconvQuote(s)+`]`), &set)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse(tt.input)
			require.Error(t, err)
			require.ErrorIs(t, err, permission.ErrUnknown)
			require.Equal(t, fmt.Sprintf("permission: unknown permission %q", tt.input), err.Error())
			var ue *permission.UnknownError
			require.ErrorAs(t, err, &ue)
			require.Equal(t, tt.input, ue.Input)
		})
	}
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestUnknownErrorTruncatesLongInput(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes, multi-byte runes
	_, err := permission.Lookup(long)
	require.ErrorIs(t, err, permission.ErrUnknown)
	msg := err.Error()
	require.Less(t, len(msg), 150)
	require.Contains(t, msg, "200 bytes, truncated")
	require.NotContains(t, msg, `\x`, "cut on a rune boundary")
	var ue *permission.UnknownError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, long, ue.Input, "the full input stays available")

	_, err = permission.Lookup("users:fly\n\x1b[31m")
	require.NotContains(t, err.Error(), "\n", "control characters are escaped")
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		items []string
		want  permission.Set
	}{
		{"nothing", nil, permission.Set{}},
		{"codes", []string{"users:view", "licenses:edit"}, permission.NewSet(permission.ViewUsers, permission.EditLicenses)},
		{"names", []string{"View Users", "edit licenses"}, permission.NewSet(permission.ViewUsers, permission.EditLicenses)},
		{"duplicates", []string{"users:view", "View Users", "users:view"}, permission.NewSet(permission.ViewUsers)},
		{"extension", []string{"audit:view", "Edit Customers"}, permission.NewSet(permission.ViewAudit, permission.EditCustomers)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := permission.Parse(tt.items...)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseList(t *testing.T) {
	vu, vl, el := permission.ViewUsers, permission.ViewLicenses, permission.EditLicenses
	tests := []struct {
		name string
		list string
		want permission.Set
	}{
		{"empty", "", permission.Set{}},
		{"blank", "  , ,\t", permission.Set{}},
		{"oauth scope", "users:view licenses:view", permission.NewSet(vu, vl)},
		{"String form", "users:view,licenses:view", permission.NewSet(vu, vl)},
		{"commas and spaces", " users:view , licenses:view,licenses:edit ", permission.NewSet(vu, vl, el)},
		{"mixed separators", "users:view licenses:view,licenses:edit", permission.NewSet(vu, vl, el)},
		{"tabs and newlines", "users:view\tlicenses:view\nlicenses:edit", permission.NewSet(vu, vl, el)},
		{"names", "View Users, view licenses,EDIT LICENSES", permission.NewSet(vu, vl, el)},
		{"names and codes", "View Users, licenses:view licenses:edit", permission.NewSet(vu, vl, el)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := permission.ParseList(tt.list)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestSetJSON(t *testing.T) {
	tests := []struct {
		name string
		set  permission.Set
		json string
	}{
		{"empty", permission.Set{}, `[]`},
		{"one", permission.NewSet(permission.ViewUsers), `["users:view"]`},
		{"catalogue order", permission.NewSet(permission.ViewAudit, permission.EditLicenses, permission.ViewUsers),
			`["users:view","licenses:edit","audit:view"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.set)
			require.NoError(t, err)
			require.Equal(t, tt.json, string(b))
			var got permission.Set
			require.NoError(t, json.Unmarshal(b, &got))
			require.Equal(t, tt.set, got)

			// Inside a struct, by value and by pointer.
			type holder struct {
				V permission.Set  `json:"v"`
				P *permission.Set `json:"p"`
			}
			b, err = json.Marshal(holder{V: tt.set, P: &tt.set})
			require.NoError(t, err)
			require.Equal(t, `{"v":`+tt.json+`,"p":`+tt.json+`}`, string(b))
			var h holder
			require.NoError(t, json.Unmarshal(b, &h))
			require.Equal(t, tt.set, h.V)
			require.Equal(t, tt.set, *h.P)
		})
	}

	t.Run("full round trip", func(t *testing.T) {
		b, err := json.Marshal(permission.Full())
		require.NoError(t, err)
		var got permission.Set
		require.NoError(t, json.Unmarshal(b, &got))
		require.Equal(t, permission.Full(), got)
	})

	t.Run("names, any order, duplicates", func(t *testing.T) {
		var got permission.Set
		require.NoError(t, json.Unmarshal([]byte(`["Edit Licenses","users:view","View Users"]`), &got))
		require.Equal(t, permission.NewSet(permission.ViewUsers, permission.EditLicenses), got)
	})

	t.Run("null is empty", func(t *testing.T) {
		got := permission.Full()
		require.NoError(t, got.UnmarshalJSON([]byte(`null`)))
		require.True(t, got.IsEmpty())
	})

	for _, bad := range []string{`"users:view"`, `{}`, `[1]`, `["users:view",null]`, `[`, `true`} {
		t.Run("rejects "+bad, func(t *testing.T) {
			got := permission.NewSet(permission.ViewUsers)
			err := got.UnmarshalJSON([]byte(bad))
			require.Error(t, err)
			require.Equal(t, permission.NewSet(permission.ViewUsers), got, "unchanged on error")
		})
	}

	t.Run("unknown leaves set unchanged", func(t *testing.T) {
		got := permission.NewSet(permission.ViewUsers)
		err := json.Unmarshal([]byte(`["licenses:view","users:fly"]`), &got)
		require.ErrorIs(t, err, permission.ErrUnknown)
		require.ErrorContains(t, err, `"users:fly"`)
		require.Equal(t, permission.NewSet(permission.ViewUsers), got)
	})
}

func TestSetStringAndScope(t *testing.T) {
	require.Equal(t, "", permission.Set{}.String())
	require.Equal(t, "", permission.Set{}.Scope())
	s := permission.NewSet(permission.EditLicenses, permission.ViewUsers)
	require.Equal(t, "users:view,licenses:edit", s.String())
	require.Equal(t, "users:view licenses:edit", s.Scope())
	require.Equal(t, "users:view,licenses:edit", fmt.Sprint(s))
	require.Equal(t, []string{"users:view", "licenses:edit"}, s.Codes())
	require.Equal(t, []permission.Permission{permission.ViewUsers, permission.EditLicenses}, s.Permissions())
	require.NotNil(t, permission.Set{}.Codes())
	require.NotNil(t, permission.Set{}.Permissions())
}

func TestFull(t *testing.T) {
	full := permission.Full()
	require.Equal(t, len(permission.All()), full.Len())
	require.Equal(t, permission.All(), full.Permissions())
	for _, p := range permission.All() {
		require.True(t, full.Has(p), p.Code())
	}
}

func TestSetFromBits(t *testing.T) {
	n := len(permission.All())
	t.Run("round trip", func(t *testing.T) {
		for _, s := range []permission.Set{{}, permission.Full(), permission.NewSet(permission.ViewAudit, permission.ViewUsers)} {
			got, err := permission.SetFromBits(s.Bits())
			require.NoError(t, err)
			require.Equal(t, s, got)
		}
	})
	t.Run("bit i is Permission(i)", func(t *testing.T) {
		for _, p := range permission.All() {
			require.Equal(t, uint64(1)<<p, permission.NewSet(p).Bits())
		}
	})
	for _, b := range []uint64{1 << n, 1<<n | 1, 1 << 63, ^uint64(0)} {
		t.Run(fmt.Sprintf("rejects %#x", b), func(t *testing.T) {
			s, err := permission.SetFromBits(b)
			require.ErrorIs(t, err, permission.ErrUnknown)
			require.True(t, s.IsEmpty())
		})
	}
}

func TestPresets(t *testing.T) {
	type P = permission.Permission
	const (
		vu, cu = permission.ViewUsers, permission.CreateUsers
		vp     = permission.ViewProducts
		vl, el = permission.ViewLicenses, permission.EditLicenses
		vc     = permission.ViewCustomers
	)
	// DESIGN §3, in the design's order.
	want := []struct {
		id    string
		perms []P
	}{
		{"read-only-integration", []P{vu, vl, vp}},
		{"license-provisioning", []P{vu, vl, vc, el}},
		{"user-onboarding", []P{vu, cu, vp}},
		{"monitoring", []P{vu, vl, vp}},
		{"client-side-validation", []P{vl}},
	}
	got := permission.Presets()
	require.Len(t, got, len(want))
	for i, w := range want {
		t.Run(w.id, func(t *testing.T) {
			p := got[i]
			require.Equal(t, w.id, p.ID, "stable order")
			require.Equal(t, permission.NewSet(w.perms...), p.Set)
			require.Equal(t, len(w.perms), p.Set.Len())
			require.NotEmpty(t, p.Name)
			require.NotEmpty(t, p.Description)
			require.Regexp(t, `^[a-z]+(-[a-z]+)*$`, p.ID)

			byID, ok := permission.LookupPreset(w.id)
			require.True(t, ok)
			require.Equal(t, p, byID)
		})
	}
	_, ok := permission.LookupPreset("admin")
	require.False(t, ok)

	got[0].Set = permission.Full()
	require.NotEqual(t, permission.Full(), permission.Presets()[0].Set, "Presets returns a copy")
}

// TestDocTable keeps the catalogue table of doc.go in step with the code.
func TestDocTable(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	for _, p := range permission.All() {
		t.Run(p.Code(), func(t *testing.T) {
			mark := ""
			if p.Extension() {
				mark = `\s+\*`
			}
			re := regexp.MustCompile(`(?m)^//\t` + regexp.QuoteMeta(p.Name()) + `\s+` + regexp.QuoteMeta(p.Code()) +
				`\s+` + regexp.QuoteMeta(p.Group()) + mark + `$`)
			require.Regexp(t, re, string(doc))
		})
	}
}

// genSet draws any valid Set.
func genSet() *rapid.Generator[permission.Set] {
	return rapid.Custom(func(t *rapid.T) permission.Set {
		ps := rapid.SliceOf(rapid.SampledFrom(permission.All())).Draw(t, "perms")
		return permission.NewSet(ps...)
	})
}

func TestSetAlgebraProperties(t *testing.T) {
	full, empty := permission.Full(), permission.Set{}
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := genSet().Draw(t, "a"), genSet().Draw(t, "b"), genSet().Draw(t, "c")

		// Membership definitions.
		for _, p := range permission.All() {
			if a.Union(b).Has(p) != (a.Has(p) || b.Has(p)) {
				t.Fatalf("union membership of %v", p)
			}
			if a.Intersect(b).Has(p) != (a.Has(p) && b.Has(p)) {
				t.Fatalf("intersect membership of %v", p)
			}
			if a.Difference(b).Has(p) != (a.Has(p) && !b.Has(p)) {
				t.Fatalf("difference membership of %v", p)
			}
		}
		// Commutativity, associativity, idempotence, identities.
		eq := func(x, y permission.Set, law string) {
			if !x.Equal(y) || x != y {
				t.Fatalf("%s: %v != %v", law, x, y)
			}
		}
		eq(a.Union(b), b.Union(a), "union commutes")
		eq(a.Intersect(b), b.Intersect(a), "intersect commutes")
		eq(a.Union(b).Union(c), a.Union(b.Union(c)), "union associates")
		eq(a.Intersect(b).Intersect(c), a.Intersect(b.Intersect(c)), "intersect associates")
		eq(a.Union(a), a, "union idempotent")
		eq(a.Intersect(a), a, "intersect idempotent")
		eq(a.Union(empty), a, "empty is union identity")
		eq(a.Intersect(full), a, "full is intersect identity")
		eq(a.Intersect(empty), empty, "empty annihilates intersect")
		eq(a.Union(full), full, "full annihilates union")
		eq(a.Intersect(b.Union(c)), a.Intersect(b).Union(a.Intersect(c)), "distributive")
		eq(a.Difference(b.Union(c)), a.Difference(b).Intersect(a.Difference(c)), "De Morgan")
		eq(a.Difference(a), empty, "a minus a")
		eq(a.Difference(b).Union(a.Intersect(b)), a, "partition")
		eq(a.Difference(b).Intersect(b), empty, "difference disjoint from b")
		eq(a.Remove(b.Permissions()...), a.Difference(b), "Remove is Difference")
		eq(a.Add(b.Permissions()...), a.Union(b), "Add is Union")
		eq(permission.NewSet(a.Permissions()...), a, "rebuild from Permissions")

		// Subset.
		if !a.Intersect(b).SubsetOf(a) || !a.SubsetOf(a.Union(b)) || !empty.SubsetOf(a) || !a.SubsetOf(full) {
			t.Fatalf("subset laws")
		}
		if a.SubsetOf(b) != a.Union(b).Equal(b) {
			t.Fatalf("a ⊆ b iff a ∪ b = b")
		}
		if a.SubsetOf(b) && b.SubsetOf(a) && a != b {
			t.Fatalf("antisymmetry")
		}
		if a.SubsetOf(b) && b.SubsetOf(c) && !a.SubsetOf(c) {
			t.Fatalf("transitivity")
		}

		// Sizes.
		if a.Len()+b.Len() != a.Union(b).Len()+a.Intersect(b).Len() {
			t.Fatalf("inclusion-exclusion")
		}
		if a.IsEmpty() != (a.Len() == 0) {
			t.Fatalf("IsEmpty vs Len")
		}

		// Iteration: catalogue order, every member once, Len matches.
		var seen []permission.Permission
		for p := range a.All() {
			seen = append(seen, p)
		}
		if len(seen) != a.Len() {
			t.Fatalf("iterated %d, Len %d", len(seen), a.Len())
		}
		var want []permission.Permission
		for _, p := range permission.All() {
			if a.Has(p) {
				want = append(want, p)
			}
		}
		if !slices.Equal(seen, want) || !slices.Equal(a.Permissions(), want) {
			t.Fatalf("order: got %v want %v", seen, want)
		}
		if len(a.Codes()) != a.Len() {
			t.Fatalf("Codes length")
		}

		// Early break from the iterator stops it.
		if a.Len() > 1 {
			n := 0
			for range a.All() {
				n++
				break
			}
			if n != 1 {
				t.Fatalf("break")
			}
		}
	})
}

func TestSetEncodingProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := genSet().Draw(t, "a")

		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var j permission.Set
		if err := json.Unmarshal(b, &j); err != nil || j != a {
			t.Fatalf("JSON round trip %s: %v %v", b, j, err)
		}
		if p, err := permission.ParseList(a.String()); err != nil || p != a {
			t.Fatalf("String round trip %q: %v %v", a.String(), p, err)
		}
		if p, err := permission.ParseList(a.Scope()); err != nil || p != a {
			t.Fatalf("Scope round trip %q: %v %v", a.Scope(), p, err)
		}
		if p, err := permission.Parse(a.Codes()...); err != nil || p != a {
			t.Fatalf("Codes round trip: %v %v", p, err)
		}
		if p, err := permission.SetFromBits(a.Bits()); err != nil || p != a {
			t.Fatalf("Bits round trip: %v %v", p, err)
		}
	})
}

func TestSetFromBitsProperty(t *testing.T) {
	full := permission.Full().Bits()
	rapid.Check(t, func(t *rapid.T) {
		b := rapid.Uint64().Draw(t, "bits")
		s, err := permission.SetFromBits(b)
		if b&^full != 0 {
			if !errors.Is(err, permission.ErrUnknown) {
				t.Fatalf("bits %#x accepted", b)
			}
			return
		}
		if err != nil || s.Bits() != b {
			t.Fatalf("bits %#x: %v %v", b, s, err)
		}
	})
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	s := permission.NewSet(permission.ViewUsers, permission.EditLicenses)
	o := permission.Full()
	var sink bool
	allocs := testing.AllocsPerRun(1000, func() {
		x := s.Add(permission.ViewAudit).Remove(permission.ViewUsers)
		x = x.Union(o).Intersect(s).Difference(o)
		sink = sink != (x.Has(permission.EditLicenses) && s.SubsetOf(o) && !x.IsEmpty() && x.Len() > 0 && x.Equal(s))
		for range s.All() {
		}
	})
	_ = sink
	require.Zero(t, allocs)
}

var benchSink bool

func BenchmarkSetHas(b *testing.B) {
	s := permission.NewSet(permission.ViewUsers, permission.ViewLicenses, permission.EditLicenses)
	ps := permission.All()
	b.ReportAllocs()
	b.ResetTimer()
	var ok bool
	for i := 0; b.Loop(); i++ {
		ok = ok != s.Has(ps[i%len(ps)])
	}
	benchSink = ok
}

func BenchmarkSetSubsetOf(b *testing.B) {
	s := permission.NewSet(permission.ViewUsers, permission.ViewLicenses)
	o := permission.Full()
	b.ReportAllocs()
	var ok bool
	for b.Loop() {
		ok = ok != s.SubsetOf(o)
	}
	benchSink = ok
}

func BenchmarkParseList(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := permission.ParseList("users:view licenses:view licenses:edit customers:view"); err != nil {
			b.Fatal(err)
		}
	}
}
