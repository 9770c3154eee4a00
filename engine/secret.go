package engine

import (
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
)

// Secret holds a credential that is shown to its owner once: a user token,
// an access or refresh token, a license key. Every way of printing it
// (fmt verbs, %#v, slog, JSON) yields "[REDACTED]"; only Reveal returns the
// value, so a secret reaches a log or a response body only on purpose.
type Secret struct{ value string }

const redacted = "[REDACTED]"

// Every printing path of Secret must redact: these fail to compile if a
// method drifts (a pointer receiver, a typo) and would let a secret print.
var (
	_ fmt.Stringer           = Secret{}
	_ fmt.GoStringer         = Secret{}
	_ fmt.Formatter          = Secret{}
	_ slog.LogValuer         = Secret{}
	_ json.Marshaler         = Secret{}
	_ encoding.TextMarshaler = Secret{}
)

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret itself. Call it only to hand the secret to its
// owner.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

func (Secret) String() string                { return redacted }
func (Secret) GoString() string              { return redacted }
func (Secret) LogValue() slog.Value          { return slog.StringValue(redacted) }
func (Secret) MarshalJSON() ([]byte, error)  { return []byte(`"` + redacted + `"`), nil }
func (Secret) MarshalText() ([]byte, error)  { return []byte(redacted), nil }
func (Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }
