package permission_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/licensekit/licensekit/permission"
)

func ExampleParse() {
	// Codes and display names both work.
	s, err := permission.Parse("licenses:view", "View Users")
	if err != nil {
		panic(err)
	}
	fmt.Println(s)
	fmt.Println(s.Has(permission.ViewUsers), s.Has(permission.EditLicenses))

	_, err = permission.Parse("users:fly")
	fmt.Println(err)
	fmt.Println(errors.Is(err, permission.ErrUnknown))
	// Output:
	// users:view,licenses:view
	// true false
	// permission: unknown permission "users:fly"
	// true
}

func ExampleParseList() {
	// An OAuth 2.0 scope string is space-separated.
	s, err := permission.ParseList("licenses:edit users:view")
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Scope())
	fmt.Println(s.Len())
	// Output:
	// users:view licenses:edit
	// 2
}

func ExampleSet_MarshalJSON() {
	s := permission.NewSet(permission.EditLicenses, permission.ViewUsers)
	b, _ := json.Marshal(s)
	fmt.Println(string(b))

	empty, _ := json.Marshal(permission.Set{})
	fmt.Println(string(empty))

	var back permission.Set
	if err := json.Unmarshal([]byte(`["View Licenses","users:view"]`), &back); err != nil {
		panic(err)
	}
	fmt.Println(back.Codes())
	// Output:
	// ["users:view","licenses:edit"]
	// []
	// [users:view licenses:view]
}

func ExampleSet_SubsetOf() {
	// A token may be given only permissions its grantor holds.
	grantor := permission.NewSet(permission.ViewUsers, permission.ViewLicenses, permission.EditLicenses)
	requested := permission.NewSet(permission.ViewLicenses, permission.DeleteUsers)
	fmt.Println(requested.SubsetOf(grantor))
	fmt.Println(requested.Difference(grantor))
	// Output:
	// false
	// users:delete
}

func ExampleSet_All() {
	s := permission.NewSet(permission.ViewAudit, permission.ViewUsers)
	for p := range s.All() {
		fmt.Printf("%s (%s)\n", p.Name(), p.Code())
	}
	// Output:
	// View Users (users:view)
	// View Audit Log (audit:view)
}

func ExamplePresets() {
	for _, p := range permission.Presets() {
		fmt.Printf("%s: %s\n", p.ID, p.Set)
	}
	// Output:
	// read-only-integration: users:view,products:view,licenses:view
	// license-provisioning: users:view,licenses:view,licenses:edit,customers:view
	// user-onboarding: users:view,users:create,products:view
	// monitoring: users:view,products:view,licenses:view
	// client-side-validation: licenses:view
}

func ExampleAll() {
	for _, p := range permission.All() {
		if p.Extension() {
			fmt.Printf("%-15s %-15s %s\n", p.Code(), p.Name(), p.Group())
		}
	}
	// Output:
	// customers:edit  Edit Customers  Product & License Management
	// audit:view      View Audit Log  Governance
}
