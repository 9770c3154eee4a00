package permission

import (
	"encoding/json"
	"fmt"
	"iter"
	"math/bits"
	"strings"
)

// Set is a set of permissions stored as a bitset. The zero value is the
// empty set. Sets are values: every method returns a new Set.
type Set struct{ bits uint64 }

// mask has one bit per permission of the catalogue.
const mask uint64 = 1<<count - 1

// NewSet returns the set of ps. Values that are not Valid are ignored, so a
// Set never holds a bit outside the catalogue.
func NewSet(ps ...Permission) Set { return Set{}.Add(ps...) }

// Full returns the set of every permission, extensions included.
func Full() Set { return Set{bits: mask} }

// Has reports whether s holds p. It does not allocate.
func (s Set) Has(p Permission) bool { return p < count && s.bits&(1<<p) != 0 }

// Add returns s with ps added. Values that are not Valid are ignored.
func (s Set) Add(ps ...Permission) Set {
	for _, p := range ps {
		if p < count {
			s.bits |= 1 << p
		}
	}
	return s
}

// Remove returns s without ps.
func (s Set) Remove(ps ...Permission) Set {
	for _, p := range ps {
		if p < count {
			s.bits &^= 1 << p
		}
	}
	return s
}

// Union returns the permissions in s or in o.
func (s Set) Union(o Set) Set { return Set{bits: s.bits | o.bits} }

// Intersect returns the permissions in both s and o.
func (s Set) Intersect(o Set) Set { return Set{bits: s.bits & o.bits} }

// Difference returns the permissions in s and not in o.
func (s Set) Difference(o Set) Set { return Set{bits: s.bits &^ o.bits} }

// SubsetOf reports whether every permission of s is in o: the check that a
// token is never given more than its grantor holds.
func (s Set) SubsetOf(o Set) bool { return s.bits&^o.bits == 0 }

// IsEmpty reports whether s holds no permission.
func (s Set) IsEmpty() bool { return s.bits == 0 }

// Len returns the number of permissions in s.
func (s Set) Len() int { return bits.OnesCount64(s.bits) }

// Equal reports whether s and o hold the same permissions (same as s == o).
func (s Set) Equal(o Set) bool { return s.bits == o.bits }

// All iterates over the permissions of s in catalogue order:
//
//	for p := range s.All() { ... }
func (s Set) All() iter.Seq[Permission] {
	return func(yield func(Permission) bool) {
		for b := s.bits; b != 0; b &= b - 1 {
			if !yield(Permission(bits.TrailingZeros64(b))) {
				return
			}
		}
	}
}

// Permissions returns the permissions of s in catalogue order, in a new slice
// (non-nil, empty for the empty set).
func (s Set) Permissions() []Permission {
	ps := make([]Permission, 0, s.Len())
	for p := range s.All() {
		ps = append(ps, p)
	}
	return ps
}

// Codes returns the codes of s in catalogue order, in a new slice (non-nil,
// empty for the empty set).
func (s Set) Codes() []string {
	cs := make([]string, 0, s.Len())
	for p := range s.All() {
		cs = append(cs, catalogue[p].code)
	}
	return cs
}

// String returns the codes of s in catalogue order separated by commas, e.g.
// "users:view,licenses:view". The empty set is "" (not "none"), so that
// ParseList(s.String()) always returns s.
func (s Set) String() string { return s.join(",") }

// Scope returns the codes of s in catalogue order separated by single spaces:
// the OAuth 2.0 "scope" form (RFC 6749 §3.3). The empty set is "".
// ParseList reads it back.
func (s Set) Scope() string { return s.join(" ") }

func (s Set) join(sep string) string {
	var b strings.Builder
	for p := range s.All() {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(catalogue[p].code)
	}
	return b.String()
}

// Bits returns the bitset of s: bit i is Permission(i). Bit positions follow
// catalogue order, which is stable across releases (new permissions are only
// appended), so compact short-lived encodings such as access tokens may use
// it; stored records use codes (MarshalJSON). SetFromBits reads it back.
func (s Set) Bits() uint64 { return s.bits }

// SetFromBits returns the Set whose Bits are b. A bit outside the catalogue
// is an error wrapping ErrUnknown: it can only come from corruption, a
// forgery or another version of the catalogue, and is never dropped silently.
func SetFromBits(b uint64) (Set, error) {
	if extra := b &^ mask; extra != 0 {
		return Set{}, fmt.Errorf("%w bits %#x", ErrUnknown, extra)
	}
	return Set{bits: b}, nil
}

// MarshalJSON encodes s as a JSON array of codes in catalogue order; the
// empty set is [] (never null).
func (s Set) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+s.Len()*18)
	b = append(b, '[')
	for p := range s.All() {
		if len(b) > 1 {
			b = append(b, ',')
		}
		// Codes are plain ASCII with no character JSON must escape.
		b = append(b, '"')
		b = append(b, catalogue[p].code...)
		b = append(b, '"')
	}
	return append(b, ']'), nil
}

// UnmarshalJSON decodes a JSON array of codes or display names (in any order,
// duplicates allowed). JSON null decodes as the empty set. An unknown entry
// is an *UnknownError (errors.Is(err, ErrUnknown)); anything but an array of
// strings or null is an error too. On error s is left unchanged.
func (s *Set) UnmarshalJSON(data []byte) error {
	var items []string
	if err := json.Unmarshal(data, &items); err != nil {
		return fmt.Errorf("permission: a permission set must be a JSON array of permission codes: %w", err)
	}
	set, err := Parse(items...)
	if err != nil {
		return err
	}
	*s = set
	return nil
}

// Parse returns the set of items, each a code or a display name as Lookup
// accepts it (nothing is trimmed). The first unknown item is an
// *UnknownError (errors.Is(err, ErrUnknown)) naming it.
func Parse(items ...string) (Set, error) {
	var s Set
	for _, it := range items {
		p, err := Lookup(it)
		if err != nil {
			return Set{}, err
		}
		s.bits |= 1 << p
	}
	return s, nil
}

// ParseList parses a list of permissions separated by commas and/or
// whitespace: an OAuth scope string ("users:view licenses:view"), the output
// of Set.String ("users:view,licenses:view"), or a mix. Display names
// contain spaces, so they must be separated by commas ("View Users, Edit
// Licenses"). Blanks around items and empty items are ignored; "" is the
// empty set. An unknown item is an *UnknownError (errors.Is(err, ErrUnknown))
// naming it.
func ParseList(list string) (Set, error) {
	var s Set
	for piece := range strings.SplitSeq(list, ",") {
		piece = strings.TrimSpace(piece)
		if piece == "" {
			continue
		}
		if p, ok := lookup(piece); ok {
			s.bits |= 1 << p
			continue
		}
		for field := range strings.FieldsSeq(piece) {
			p, ok := lookup(field)
			if !ok {
				// A stray code in a scope string is named alone; a word of a
				// misspelt display name is shown in its context.
				bad := field
				if strings.IndexByte(field, ':') < 0 {
					bad = piece
				}
				return Set{}, &UnknownError{Input: bad}
			}
			s.bits |= 1 << p
		}
	}
	return s, nil
}
