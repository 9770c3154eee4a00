package client

import (
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
)

// Secret holds a credential: a user token, an access or refresh token, a
// license key. Every way of printing it (fmt verbs including %v, %s, %q and
// %#v, slog, JSON, text marshalling) yields "[REDACTED]"; only Reveal
// returns the value, so a secret reaches a log or an error message only on
// purpose. The zero value is the empty secret.
type Secret struct{ value string }

// Every printing path of Secret must redact: these fail to compile if a
// method drifts and would let a secret print.
var (
	_ fmt.Stringer           = Secret{}
	_ fmt.GoStringer         = Secret{}
	_ fmt.Formatter          = Secret{}
	_ slog.LogValuer         = Secret{}
	_ json.Marshaler         = Secret{}
	_ encoding.TextMarshaler = Secret{}
)

const redacted = "[REDACTED]"

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret itself. Call it only to hand the secret to its
// owner or to store it somewhere safe.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// String returns "[REDACTED]".
func (Secret) String() string { return redacted }

// GoString returns "[REDACTED]".
func (Secret) GoString() string { return redacted }

// Format writes "[REDACTED]" whatever the verb.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue makes slog print "[REDACTED]".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON encodes the secret as "[REDACTED]": a secret is never
// serialised by accident.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[REDACTED]".
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
