package permission

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Permission is one entry of the permission catalogue. Its numeric value is
// its position in catalogue order and its bit in a Set. Values are stable
// across releases: new permissions are only ever appended, so short-lived
// encodings such as access tokens may carry bits. Stored records use codes.
type Permission uint8

// The catalogue, in catalogue order. The first thirteen are the product's
// permissions of DESIGN §3; the rest are extensions.
const (
	ViewUsers      Permission = iota // users:view
	CreateUsers                      // users:create
	EditUsers                        // users:edit
	DeleteUsers                      // users:delete
	EditUserTokens                   // tokens:edit
	ViewProducts                     // products:view
	EditProducts                     // products:edit
	ViewLicenses                     // licenses:view
	EditLicenses                     // licenses:edit
	ViewCustomers                    // customers:view
	CreateGroups                     // groups:create
	EditGroups                       // groups:edit
	DeleteGroups                     // groups:delete
	// EditCustomers is an extension: no product permission covers creating
	// or changing customers.
	EditCustomers // customers:edit
	// ViewAudit is an extension: reading the audit log and the token review.
	ViewAudit // audit:view

	count // number of permissions; keep last
)

// A Set is a uint64 bitset: the catalogue must fit in it. This line stops
// compiling if it ever does not.
var _ [64 - int(count)]struct{}

// The groups a permission belongs to, as shown by UIs (Permission.Group).
const (
	GroupUserManagement   = "User Management"
	GroupProductsLicenses = "Product & License Management"
	GroupGroupManagement  = "Group Management"
	GroupGovernance       = "Governance"
)

type info struct {
	code, name, group string
	extension         bool
}

// catalogue is indexed by Permission. TestCatalogueComplete checks that every
// entry is filled in.
var catalogue = [count]info{
	ViewUsers:      {"users:view", "View Users", GroupUserManagement, false},
	CreateUsers:    {"users:create", "Create Users", GroupUserManagement, false},
	EditUsers:      {"users:edit", "Edit Users", GroupUserManagement, false},
	DeleteUsers:    {"users:delete", "Delete Users", GroupUserManagement, false},
	EditUserTokens: {"tokens:edit", "Edit User Tokens", GroupUserManagement, false},
	ViewProducts:   {"products:view", "View Products", GroupProductsLicenses, false},
	EditProducts:   {"products:edit", "Edit Products", GroupProductsLicenses, false},
	ViewLicenses:   {"licenses:view", "View Licenses", GroupProductsLicenses, false},
	EditLicenses:   {"licenses:edit", "Edit Licenses", GroupProductsLicenses, false},
	ViewCustomers:  {"customers:view", "View Customers", GroupProductsLicenses, false},
	CreateGroups:   {"groups:create", "Create Groups", GroupGroupManagement, false},
	EditGroups:     {"groups:edit", "Edit Groups", GroupGroupManagement, false},
	DeleteGroups:   {"groups:delete", "Delete Groups", GroupGroupManagement, false},
	EditCustomers:  {"customers:edit", "Edit Customers", GroupProductsLicenses, true},
	ViewAudit:      {"audit:view", "View Audit Log", GroupGovernance, true},
}

// Valid reports whether p is a permission of the catalogue.
func (p Permission) Valid() bool { return p < count }

// Code is the permission's stable code, e.g. "users:view": what the API,
// tokens and stores speak. It is "" for an invalid Permission.
func (p Permission) Code() string {
	if p >= count {
		return ""
	}
	return catalogue[p].code
}

// Name is the permission's display name, e.g. "View Users": what UIs show.
// It is "" for an invalid Permission.
func (p Permission) Name() string {
	if p >= count {
		return ""
	}
	return catalogue[p].name
}

// Group is the heading a UI lists the permission under, one of the Group*
// constants. It is "" for an invalid Permission.
func (p Permission) Group() string {
	if p >= count {
		return ""
	}
	return catalogue[p].group
}

// Extension reports whether p is an extension of this library rather than
// one of the thirteen permissions of the product.
func (p Permission) Extension() bool {
	return p < count && catalogue[p].extension
}

// String returns the code, or "Permission(N)" for an invalid Permission.
func (p Permission) String() string {
	if p >= count {
		return fmt.Sprintf("Permission(%d)", uint8(p))
	}
	return catalogue[p].code
}

// MarshalText encodes p as its code. An invalid Permission is an error
// wrapping ErrUnknown.
func (p Permission) MarshalText() ([]byte, error) {
	if p >= count {
		return nil, fmt.Errorf("%w value %d", ErrUnknown, uint8(p))
	}
	return []byte(catalogue[p].code), nil
}

// UnmarshalText decodes a code or a display name, as Lookup does. On error
// p is left unchanged.
func (p *Permission) UnmarshalText(text []byte) error {
	q, err := Lookup(string(text))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// All returns every permission, extensions included, in catalogue order.
// The slice is the caller's to keep or change.
func All() []Permission {
	all := make([]Permission, count)
	for i := range all {
		all[i] = Permission(i)
	}
	return all
}

// ErrUnknown is the error (checked with errors.Is) of every parse of an
// input that names no permission: Lookup, Parse, ParseList,
// Permission.UnmarshalText, Set.UnmarshalJSON, and SetFromBits for bits
// outside the catalogue.
var ErrUnknown = errors.New("permission: unknown permission")

// UnknownError is the error returned for an input that names no permission.
// It matches ErrUnknown under errors.Is, and its message quotes the input
// (escaped, and cut short past maxQuoted bytes), e.g.
//
//	permission: unknown permission "users:fly"
type UnknownError struct {
	// Input is the text that was not recognised, in full.
	Input string
}

// maxQuoted caps how much of an unknown input an error message repeats: the
// input may be an attacker's and the message may reach a log or a response.
const maxQuoted = 64

func (e *UnknownError) Error() string {
	in := e.Input
	if len(in) > maxQuoted {
		cut := maxQuoted
		for cut > 0 && !utf8.RuneStart(in[cut]) {
			cut--
		}
		return fmt.Sprintf("%s %q (%d bytes, truncated)", ErrUnknown.Error(), in[:cut], len(in))
	}
	return fmt.Sprintf("%s %q", ErrUnknown.Error(), in)
}

// Unwrap returns ErrUnknown.
func (e *UnknownError) Unwrap() error { return ErrUnknown }

// Lookup returns the permission whose code is s (exactly, case-sensitive) or
// whose display name is s (case-insensitive, e.g. "view users"). Nothing is
// trimmed. An unknown s is an *UnknownError (errors.Is(err, ErrUnknown)).
func Lookup(s string) (Permission, error) {
	if p, ok := lookup(s); ok {
		return p, nil
	}
	return 0, &UnknownError{Input: s}
}

func lookup(s string) (Permission, bool) {
	if strings.IndexByte(s, ':') >= 0 {
		for i := range catalogue {
			if catalogue[i].code == s {
				return Permission(i), true
			}
		}
		return 0, false
	}
	for i := range catalogue {
		if strings.EqualFold(catalogue[i].name, s) {
			return Permission(i), true
		}
	}
	return 0, false
}
