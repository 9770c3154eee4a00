package engine

import (
	"testing"

	"github.com/licensekit/licensekit/permission"
	"github.com/stretchr/testify/require"
)

// Usage keeps one slot per permission of the catalogue: a permission
// added beyond permSlots needs permSlots raised (until then it is never
// reported unused).
func TestUsageSlotsCoverCatalogue(t *testing.T) {
	require.LessOrEqual(t, len(permission.All()), permSlots)
	require.True(t, untracked.IsEmpty())
}
