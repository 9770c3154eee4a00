package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/licensekit/licensekit/engine"
)

// secretEnv names the environment variable holding the master secret.
const secretEnv = "LICENSEKIT_SECRET"

// masterKey returns the engine's master key: LICENSEKIT_SECRET when set,
// otherwise a development secret kept in dataDir (created on first use).
// Neither the secret nor its file's content is ever logged.
func masterKey(getenv func(string) string, dataDir string, log *slog.Logger) (engine.MasterKey, error) {
	if v := getenv(secretEnv); v != "" {
		b, err := decodeSecret(v)
		if err != nil {
			return engine.MasterKey{}, fmt.Errorf("%s: %w", secretEnv, err)
		}
		return engine.MasterKey{ID: "main", Secret: b}, nil
	}
	path := filepath.Join(dataDir, "dev-master-secret")
	b, err := devSecret(path)
	if err != nil {
		return engine.MasterKey{}, fmt.Errorf("development master secret %s: %w", path, err)
	}
	log.Warn(secretEnv+" is not set: using a development master secret stored beside the data; "+
		"set "+secretEnv+" (e.g. openssl rand -hex 32) for anything but development", "file", path)
	return engine.MasterKey{ID: "dev", Secret: b}, nil
}

// decodeSecret reads a master secret written in hex or base64. A string of
// hex digits is read as hex only, so it never counts for more bytes than
// it holds.
func decodeSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	b, err := hex.DecodeString(s)
	if err != nil && isHexDigits(s) {
		return nil, errors.New("odd number of hex digits")
	}
	if err != nil {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err = enc.DecodeString(s); err == nil {
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("not hex or base64; generate one with: openssl rand -hex %d", engine.MinMasterSecret)
	}
	if len(b) < engine.MinMasterSecret {
		return nil, fmt.Errorf("decodes to %d bytes; at least %d random bytes are required (openssl rand -hex %d)",
			len(b), engine.MinMasterSecret, engine.MinMasterSecret)
	}
	return b, nil
}

func isHexDigits(s string) bool {
	return strings.Trim(s, "0123456789abcdefABCDEF") == ""
}

// devSecret reads the development secret at path, creating it (32 random
// bytes, hex, mode 0600) when it does not exist.
func devSecret(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createDevSecret(path)
	}
	if err != nil {
		return nil, err
	}
	return decodeSecret(string(data))
}

func createDevSecret(path string) ([]byte, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return devSecret(path) // another process created it first
	}
	if err != nil {
		return nil, err
	}
	_, err = f.WriteString(hex.EncodeToString(b) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, err
	}
	return b, nil
}
