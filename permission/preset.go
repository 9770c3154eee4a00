package permission

// Preset is a named set of permissions for a common use of a user token
// (DESIGN §3), offered by UIs as a starting point. A preset is a suggestion:
// a token holds the Set it was given, never a reference to a preset.
type Preset struct {
	// ID is stable and URL-safe, e.g. "read-only-integration".
	ID string
	// Name is the display name, e.g. "Read-only integration".
	Name string
	// Description says what the preset is for.
	Description string
	// Set is the preset's permissions.
	Set Set
}

// The preset IDs, in the order Presets returns them.
const (
	PresetReadOnlyIntegration  = "read-only-integration"
	PresetLicenseProvisioning  = "license-provisioning"
	PresetUserOnboarding       = "user-onboarding"
	PresetMonitoring           = "monitoring"
	PresetClientSideValidation = "client-side-validation"
)

var presets = [...]Preset{
	{
		ID:          PresetReadOnlyIntegration,
		Name:        "Read-only integration",
		Description: "Reads users, licenses and products, e.g. to sync them into another system; changes nothing.",
		Set:         NewSet(ViewUsers, ViewLicenses, ViewProducts),
	},
	{
		ID:          PresetLicenseProvisioning,
		Name:        "License provisioning",
		Description: "Issues and manages licenses for existing customers, e.g. from a billing or shop system.",
		Set:         NewSet(ViewUsers, ViewLicenses, ViewCustomers, EditLicenses),
	},
	{
		ID:          PresetUserOnboarding,
		Name:        "User onboarding",
		Description: "Creates users, e.g. from a sign-up flow or a directory sync.",
		Set:         NewSet(ViewUsers, CreateUsers, ViewProducts),
	},
	{
		ID:          PresetMonitoring,
		Name:        "Monitoring",
		Description: "Watches users, licenses and products, e.g. for dashboards and alerts; changes nothing.",
		Set:         NewSet(ViewUsers, ViewLicenses, ViewProducts),
	},
	{
		ID:   PresetClientSideValidation,
		Name: "Client-side validation",
		Description: "Reads licenses from software shipped to end users. The validate endpoint needs no token, " +
			"so a client that only validates keys should carry no token at all (an empty set is also " +
			"acceptable); this preset is for a client that must also read its license.",
		Set: NewSet(ViewLicenses),
	},
}

// Presets returns every preset in a stable order (that of the Preset*
// constants), in a new slice.
func Presets() []Preset {
	out := make([]Preset, len(presets))
	copy(out, presets[:])
	return out
}

// LookupPreset returns the preset with the given ID.
func LookupPreset(id string) (Preset, bool) {
	for _, p := range presets {
		if p.ID == id {
			return p, true
		}
	}
	return Preset{}, false
}
