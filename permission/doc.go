// Package permission is the permission catalogue of licensekit: every
// permission a user token can hold, the Set type that holds them, and the
// presets UIs offer for common uses.
//
// # Where to start
//
// A Permission is one entry of the catalogue (ViewUsers, EditLicenses, …).
// The API and storage speak its Code ("users:view"); UIs show its Name
// ("View Users") under its Group. Lookup turns either back into a
// Permission.
//
// A Set is a bitset of permissions: a value type whose Has, Add, Remove,
// Union, Intersect, Difference and SubsetOf are branch-light and never
// allocate, since they run on every authenticated request. Build one with
// NewSet, or parse one with Parse (a list of codes or names), ParseList (an
// OAuth scope string or a comma-separated list) or JSON (an array of codes;
// the empty set is [] and null reads as the empty set). Set.String joins
// codes with commas and is "" for the empty set; Set.Scope joins them with
// spaces for OAuth "scope".
//
// Every parse of an input that names no permission fails with an
// *UnknownError that quotes the input and matches ErrUnknown under
// errors.Is. Nothing unknown is ever dropped silently.
//
// Set.Bits and SetFromBits give a compact encoding for short-lived tokens.
// Bit positions follow catalogue order, which is stable: new permissions are
// only appended. Records in a store still use codes (MarshalJSON).
//
// Presets returns the presets of the design (read-only integration, license
// provisioning, user onboarding, monitoring, client-side validation), each
// with a stable ID. A token holds a copy of a preset's Set, never a
// reference to the preset.
//
// # The catalogue
//
// In catalogue order (All). Extensions, marked *, are permissions this
// library adds where none of the product's thirteen fits.
//
//	name              code             group                          ext
//	View Users        users:view       User Management
//	Create Users      users:create     User Management
//	Edit Users        users:edit       User Management
//	Delete Users      users:delete     User Management
//	Edit User Tokens  tokens:edit      User Management
//	View Products     products:view    Product & License Management
//	Edit Products     products:edit    Product & License Management
//	View Licenses     licenses:view    Product & License Management
//	Edit Licenses     licenses:edit    Product & License Management
//	View Customers    customers:view   Product & License Management
//	Create Groups     groups:create    Group Management
//	Edit Groups       groups:edit      Group Management
//	Delete Groups     groups:delete    Group Management
//	Edit Customers    customers:edit   Product & License Management   *
//	View Audit Log    audit:view       Governance                     *
//
// Edit Customers covers creating or changing customers, which no
// product permission does. View Audit Log covers reading the audit log and
// the token-review data (last use, unused permissions).
//
// # Presets
//
//	id                      permissions
//	read-only-integration   View Users, View Licenses, View Products
//	license-provisioning    View Users, View Licenses, View Customers, Edit Licenses
//	user-onboarding         View Users, Create Users, View Products
//	monitoring              View Users, View Licenses, View Products
//	client-side-validation  View Licenses (no token at all is also fine: validation is public)
//
// The package imports the standard library only.
package permission
