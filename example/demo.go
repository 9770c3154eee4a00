package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

const (
	demoTenant     = "demo"
	demoAdminEmail = "admin@demo.example"
)

// demoPermissions are the demo token's permissions: the 13 permissions of
// the product, plus the customers:edit extension so that the tour can
// create a customer (and then a license for it). audit:view is left out.
var demoPermissions = permission.NewSet(
	permission.ViewUsers, permission.CreateUsers, permission.EditUsers, permission.DeleteUsers,
	permission.EditUserTokens,
	permission.ViewProducts, permission.EditProducts,
	permission.ViewLicenses, permission.EditLicenses,
	permission.ViewCustomers,
	permission.CreateGroups, permission.EditGroups, permission.DeleteGroups,
	permission.EditCustomers,
)

// demoCredentials are the demo tenant's secrets. They exist only right
// after seeding: the store keeps digests.
type demoCredentials struct {
	TenantID    string `json:"tenant_id"`
	UserTokenID string `json:"user_token_id"`
	UserToken   string `json:"user_token"`
	LicenseKey  string `json:"license_key"`
	AdminEmail  string `json:"admin_email"`
	// AdminPassword signs the demo admin in to the admin console.
	AdminPassword string `json:"admin_password"`
}

// seedDemo creates the demo tenant when it does not exist yet and returns
// its secrets; it returns nil when the tenant was seeded before. When
// limitSet, an existing tenant gets limit as its new limits.
func seedDemo(ctx context.Context, eng *engine.Engine, limit int64, limitSet bool, log *slog.Logger) (*demoCredentials, error) {
	// System is the host itself: it creates tenants and their first admin.
	sys := engine.System()
	// Per minute: the default window.
	limits := tenant.Limits{APIRequests: limit, Validations: limit}

	t, err := eng.GetTenant(ctx, sys, demoTenant)
	if err == nil {
		if limitSet && t.License.Limits != limits {
			t.License.Limits = limits
			if _, err := eng.SetTenantLicense(ctx, sys, demoTenant, t.License); err != nil {
				return nil, err
			}
			log.Info("demo tenant's limits changed", "per_minute", limit)
		}
		return nil, nil
	}
	if !errors.Is(err, engine.ErrNotFound) {
		return nil, err
	}
	creds, err := createDemo(ctx, eng, limits)
	if err != nil {
		return nil, fmt.Errorf("seeding the demo tenant (delete the data directory to start over): %w", err)
	}
	log.Info("demo tenant seeded", "tenant", demoTenant, "user_token_id", creds.UserTokenID)
	return creds, nil
}

func createDemo(ctx context.Context, eng *engine.Engine, limits tenant.Limits) (*demoCredentials, error) {
	sys := engine.System()
	if _, err := eng.CreateTenant(ctx, sys, engine.NewTenant{
		ID:   demoTenant,
		Name: "Demo Inc.",
		// The platform license: what this tenant may do on the host's platform.
		License: tenant.License{Plan: "demo", Status: tenant.StatusActive, Limits: limits},
	}); err != nil {
		return nil, err
	}
	user, err := eng.CreateUser(ctx, sys, demoTenant, engine.NewUser{
		Email: demoAdminEmail, Name: "Demo Admin", Role: store.RoleAdmin,
	})
	if err != nil {
		return nil, err
	}

	// The admin's console password: random, shown once. The store keeps
	// only its argon2id hash.
	password := newDemoPassword()
	if err := eng.SetPassword(ctx, sys, demoTenant, user.ID, engine.NewSecret(password)); err != nil {
		return nil, err
	}

	// From here on, act as the tenant's administrator, as the host's admin
	// console would.
	admin := engine.Admin{TenantID: demoTenant, UserID: user.ID}
	product, err := eng.CreateProduct(ctx, admin, demoTenant, engine.NewProduct{
		Name: "Widget Studio", Description: "The demo product",
	})
	if err != nil {
		return nil, err
	}
	plan, err := eng.CreatePlan(ctx, admin, demoTenant, engine.NewPlan{
		ProductID: product.ID, Name: "Pro", Entitlements: map[string]string{"seats": "10"},
	})
	if err != nil {
		return nil, err
	}
	customer, err := eng.CreateCustomer(ctx, admin, demoTenant, engine.NewCustomer{
		Name: "Initech", Email: "it@initech.example",
	})
	if err != nil {
		return nil, err
	}
	license, err := eng.CreateLicense(ctx, admin, demoTenant, engine.NewLicense{
		CustomerID: customer.ID, ProductID: product.ID, PlanID: plan.ID,
		ExpiresAt: time.Now().AddDate(1, 0, 0),
	})
	if err != nil {
		return nil, err
	}
	// Only an administrator (never a token) creates user tokens.
	token, err := eng.CreateUserToken(ctx, admin, demoTenant, engine.NewUserToken{
		UserID: user.ID, Name: "demo: every product permission", Permissions: demoPermissions,
	})
	if err != nil {
		return nil, err
	}
	// Reveal: the one place the secrets leave their [REDACTED] wrappers.
	return &demoCredentials{
		TenantID:      demoTenant,
		UserTokenID:   token.Token.ID,
		UserToken:     token.Credential.Reveal(),
		LicenseKey:    license.Key.Reveal(),
		AdminEmail:    demoAdminEmail,
		AdminPassword: password,
	}, nil
}

// newDemoPassword returns 26 random base32 characters (128 bits) from
// crypto/rand.
func newDemoPassword() string { return rand.Text() }

// printDemo prints the "try it" banner after seeding and writes the
// credentials file, or says where the secrets went on later starts.
func printDemo(w io.Writer, log *slog.Logger, base string, creds *demoCredentials, credsFile, dataDir string) {
	if creds == nil {
		fmt.Fprintf(w, "The demo tenant %q was seeded earlier in %s; its secrets were shown only once, then.\n", demoTenant, dataDir)
		if _, err := os.Stat(credsFile); credsFile != "" && err == nil {
			fmt.Fprintf(w, "Demo credentials: %s (written when the tenant was seeded).\n", credsFile)
		}
		fmt.Fprintf(w, "To seed again, stop the server and delete %s.\n\n", dataDir)
		return
	}
	fmt.Fprintf(w, "Seeded the demo tenant %q. Its secrets are shown only this once:\n", demoTenant)
	fmt.Fprintf(w, "  admin user     %s\n", creds.AdminEmail)
	fmt.Fprintf(w, "  admin password %s (sign in at %s/console/ with tenant %q)\n", creds.AdminPassword, base, demoTenant)
	fmt.Fprintf(w, "  user token id  %s\n", creds.UserTokenID)
	fmt.Fprintf(w, "  user token     %s (the 13 product permissions + customers:edit)\n", creds.UserToken)
	fmt.Fprintf(w, "  license key    %s\n", creds.LicenseKey)
	if credsFile != "" {
		if err := writeCredentials(credsFile, creds); err != nil {
			log.Error("writing the demo credentials file", "file", credsFile, "error", err)
		} else {
			fmt.Fprintf(w, "  written to     %s\n", credsFile)
		}
	}
	fmt.Fprintf(w, `
Try it:
  LK=%s
  ID=%s
  TOKEN=%s
  # exchange the user token for a 24-hour access token (OAuth 2.0 client credentials)
  ACCESS=$(curl -s -u "$ID:$TOKEN" -d grant_type=client_credentials $LK/v1/auth/token | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  # call the API, and the host's own route (it requires licenses:view)
  curl -s -H "Authorization: Bearer $ACCESS" $LK/v1/users
  curl -s -H "Authorization: Bearer $ACCESS" $LK/hello
  # validate the license key: public, no token
  curl -s -H 'Content-Type: application/json' -d '{"key":"%s"}' $LK/v1/licenses/validate

`, base, creds.UserTokenID, creds.UserToken, creds.LicenseKey)
}

// writeCredentials writes creds to path as JSON, mode 0600, atomically.
func writeCredentials(path string, creds *demoCredentials) error {
	data, err := json.MarshalIndent(creds, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".demo-credentials-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename, a no-op
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
