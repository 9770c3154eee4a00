package pgstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/store"
)

// encode normalizes the times of the record v points to (UTC, whole
// microseconds, as the store contract keeps them) and encodes it as the
// JSON document of the data column, as text (which every query execution
// mode of pgx sends as it is; the statements cast it to jsonb). It is the encoding internal/kv uses
// for the embedded backends, so records round-trip alike.
//
// PostgreSQL's text and jsonb cannot hold a NUL character; a record with
// one in any string is refused with store.ErrInvalid before anything is
// sent, which leaves the transaction usable.
func encode(v any) (string, error) {
	store.NormalizeTimes(v)
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("pgstore: encode: %w", err)
	}
	if hasEscapedNUL(b) {
		return "", fmt.Errorf("%w: a text field holds a NUL character, which PostgreSQL cannot store", store.ErrInvalid)
	}
	return string(b), nil
}

func decode(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("pgstore: decode: %w", err)
	}
	return nil
}

// hasEscapedNUL reports whether the JSON text b has a \u0000 escape (the
// only way encoding/json writes a NUL). Escapes are skipped as wholes, so
// an escaped backslash followed by "u0000" is not one.
func hasEscapedNUL(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) && string(b[i+2:i+6]) == "0000" {
			return true
		}
		i++ // skip the escaped character
	}
	return false
}

// toMicroCeil returns the smallest whole microsecond not before t. The
// stored times are whole microseconds, so for a stored s, s >= t exactly
// when s >= toMicroCeil(t), and s < t exactly when s < toMicroCeil(t):
// filters with sub-microsecond bounds behave as store.AuditQuery.Match.
func toMicroCeil(t time.Time) time.Time {
	t = t.UTC()
	if tr := t.Truncate(time.Microsecond); !tr.Equal(t) {
		return tr.Add(time.Microsecond)
	}
	return t
}
