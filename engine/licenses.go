package engine

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"time"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// License is a customer's license as the API shows it: everything but the
// key, which is shown once at creation and at each reissue.
type License struct {
	ID         string              `json:"id"`
	TenantID   string              `json:"tenant_id"`
	CustomerID string              `json:"customer_id"`
	ProductID  string              `json:"product_id"`
	PlanID     string              `json:"plan_id,omitempty"`
	Status     store.LicenseStatus `json:"status"`
	KeyHint    string              `json:"key_hint,omitempty"`
	ExpiresAt  time.Time           `json:"expires_at,omitzero"`
	Attributes map[string]string   `json:"attributes,omitempty"`
	CreatedAt  time.Time           `json:"created_at"`
	UpdatedAt  time.Time           `json:"updated_at"`
}

func licenseView(r store.License) License {
	return License{
		ID: r.ID, TenantID: r.TenantID, CustomerID: r.CustomerID, ProductID: r.ProductID, PlanID: r.PlanID,
		Status: r.Status, KeyHint: r.KeyHint, ExpiresAt: r.ExpiresAt, Attributes: r.Attributes,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// NewLicense describes a license to create.
type NewLicense struct {
	CustomerID string
	ProductID  string
	PlanID     string // optional; must be a plan of ProductID
	ExpiresAt  time.Time
	Attributes map[string]string
}

// LicensePatch changes a license; nil fields stay as they are.
type LicensePatch struct {
	PlanID *string
	// ExpiresAt: a pointer to the zero time removes the expiry.
	ExpiresAt  *time.Time
	Attributes *map[string]string
}

// CreatedLicense is a new (or reissued) license and its key, which is
// shown this once and never again.
type CreatedLicense struct {
	License License
	Key     Secret
}

const (
	maxAttributes     = 64
	maxAttributeBytes = 1024
)

func checkAttributes(a map[string]string) error {
	if len(a) > maxAttributes {
		return invalidInput("at most %d attributes", maxAttributes)
	}
	for k, v := range a {
		if err := checkName("attribute name", k, 128); err != nil {
			return err
		}
		if len(v) > maxAttributeBytes {
			return invalidInput("attribute %q is longer than %d bytes", k, maxAttributeBytes)
		}
	}
	return nil
}

// CreateLicense issues a license with a new key (licenses:edit). The key
// is returned once; the store keeps only its digest.
func (e *Engine) CreateLicense(ctx context.Context, actor Actor, tenantID string, in NewLicense) (CreatedLicense, error) {
	out, err := e.CreateLicenses(ctx, actor, tenantID, []NewLicense{in})
	if err != nil {
		return CreatedLicense{}, err
	}
	return out[0], nil
}

// MaxLicenseBatch is the most licenses one CreateLicenses call creates.
const MaxLicenseBatch = 256

// CreateLicenses issues up to MaxLicenseBatch licenses in one transaction
// (licenses:edit), for bulk provisioning: all of them or, on any error,
// none. Each is audited as CreateLicense audits one; the keys are
// returned once, in the order of in.
func (e *Engine) CreateLicenses(ctx context.Context, actor Actor, tenantID string, in []NewLicense) ([]CreatedLicense, error) {
	if err := e.authorize(ctx, actor, tenantID, OpCreateLicense); err != nil {
		return nil, err
	}
	if len(in) == 0 || len(in) > MaxLicenseBatch {
		return nil, invalidInput("between 1 and %d licenses at a time", MaxLicenseBatch)
	}
	now := e.clock()
	recs := make([]store.License, len(in))
	evs := make([]Event, len(in))
	out := make([]CreatedLicense, len(in))
	for i, l := range in {
		if err := checkAttributes(l.Attributes); err != nil {
			return nil, err
		}
		if err := checkExpiry("license expiry", l.ExpiresAt); err != nil {
			return nil, err
		}
		rec := store.License{
			TenantID: tenantID, ID: newID(), CustomerID: l.CustomerID, ProductID: l.ProductID, PlanID: l.PlanID,
			Status: store.LicenseActive, Attributes: maps.Clone(l.Attributes), CreatedAt: now, UpdatedAt: now,
		}
		if !l.ExpiresAt.IsZero() {
			rec.ExpiresAt = clockFrom(l.ExpiresAt)
		}
		out[i].Key = NewSecret(e.setLicenseKey(&rec))
		recs[i] = rec
		evs[i] = Event{TenantID: tenantID, Type: EventLicenseCreated, Actor: actorName(actor), Details: map[string]string{"license": rec.ID}}
	}
	err := e.update(ctx, func(tx store.Tx) error {
		scope := tx.Tenant(tenantID)
		t, err := tx.Tenants().Get(ctx, tenantID)
		if err != nil {
			return err
		}
		type refs struct{ customer, product, plan string }
		checked := map[refs]bool{}
		for _, rec := range recs {
			r := refs{rec.CustomerID, rec.ProductID, rec.PlanID}
			if checked[r] {
				continue
			}
			if err := e.checkLicenseRefs(ctx, scope, rec); err != nil {
				return err
			}
			checked[r] = true
		}
		if err := enforceCapN(ctx, tx, t, t.License.Limits.MaxLicenses, "licenses", scope.Licenses().List, int64(len(recs))); err != nil {
			return err
		}
		for i, rec := range recs {
			if err := scope.Licenses().Create(ctx, rec); err != nil {
				return err
			}
			if err := e.audit.record(ctx, tx, &evs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.audit.published(evs...)
	for i, rec := range recs {
		out[i].License = licenseView(rec)
	}
	return out, nil
}

// setLicenseKey gives rec a new key and returns it.
func (e *Engine) setLicenseKey(rec *store.License) string {
	key := e.licenseKeys.Generate()
	canonical, ok := e.licenseKeys.Normalize(key)
	if !ok {
		// A format whose keys do not read back is a programming error in
		// the host's LicenseKeyFormat.
		panic("licensekit: LicenseKeyFormat.Generate made a key its Normalize rejects")
	}
	ks := e.keys.current
	rec.KeyDigest, rec.KeyID = licenseDigest(ks, canonical), ks.id
	if len(canonical) >= 4 {
		rec.KeyHint = canonical[len(canonical)-4:]
	}
	return key
}

// checkLicenseRefs checks that a license's customer, product and plan
// exist in its tenant.
func (e *Engine) checkLicenseRefs(ctx context.Context, scope store.TenantTx, rec store.License) error {
	if _, err := scope.Customers().Get(ctx, rec.CustomerID); err != nil {
		return refError("customer", rec.CustomerID, err)
	}
	if _, err := scope.Products().Get(ctx, rec.ProductID); err != nil {
		return refError("product", rec.ProductID, err)
	}
	if rec.PlanID != "" {
		plan, err := scope.Plans().Get(ctx, rec.PlanID)
		if err != nil {
			return refError("plan", rec.PlanID, err)
		}
		if plan.ProductID != rec.ProductID {
			return invalidInput("plan %q is not a plan of product %q", rec.PlanID, rec.ProductID)
		}
	}
	return nil
}

func refError(what, id string, err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return invalidInput("%s %q does not exist", what, id)
	}
	return err
}

// GetLicense returns a license (licenses:view).
func (e *Engine) GetLicense(ctx context.Context, actor Actor, tenantID, id string) (License, error) {
	if err := e.authorize(ctx, actor, tenantID, OpGetLicense); err != nil {
		return License{}, err
	}
	var rec store.License
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.Tenant(tenantID).Licenses().Get(ctx, id)
		return err
	})
	if err != nil {
		return License{}, notFound(err)
	}
	return licenseView(rec), nil
}

// ListLicenses pages through the tenant's licenses (licenses:view).
func (e *Engine) ListLicenses(ctx context.Context, actor Actor, tenantID string, page store.Page) ([]License, string, error) {
	if err := e.authorize(ctx, actor, tenantID, OpListLicenses); err != nil {
		return nil, "", err
	}
	var (
		recs []store.License
		next string
	)
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		recs, next, err = tx.Tenant(tenantID).Licenses().List(ctx, page)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out := make([]License, len(recs))
	for i, r := range recs {
		out[i] = licenseView(r)
	}
	return out, next, nil
}

// UpdateLicense changes a license's plan, expiry or attributes
// (licenses:edit).
func (e *Engine) UpdateLicense(ctx context.Context, actor Actor, tenantID, id string, p LicensePatch) (License, error) {
	if err := e.authorize(ctx, actor, tenantID, OpUpdateLicense); err != nil {
		return License{}, err
	}
	if p.Attributes != nil {
		if err := checkAttributes(*p.Attributes); err != nil {
			return License{}, err
		}
	}
	if p.ExpiresAt != nil {
		if err := checkExpiry("license expiry", *p.ExpiresAt); err != nil {
			return License{}, err
		}
	}
	rec, err := e.changeLicense(ctx, actor, tenantID, id, EventLicenseUpdated, func(scope store.TenantTx, r *store.License) error {
		if p.PlanID != nil {
			r.PlanID = *p.PlanID
			if err := e.checkLicenseRefs(ctx, scope, *r); err != nil {
				return err
			}
		}
		if p.ExpiresAt != nil {
			r.ExpiresAt = time.Time{}
			if !p.ExpiresAt.IsZero() {
				r.ExpiresAt = clockFrom(*p.ExpiresAt)
			}
		}
		if p.Attributes != nil {
			r.Attributes = maps.Clone(*p.Attributes)
		}
		return nil
	})
	return licenseView(rec), err
}

// SetLicenseStatus suspends, reinstates or revokes a license
// (licenses:edit). Revocation is final: a revoked license cannot be
// reinstated.
func (e *Engine) SetLicenseStatus(ctx context.Context, actor Actor, tenantID, id string, status store.LicenseStatus) (License, error) {
	if err := e.authorize(ctx, actor, tenantID, OpSetLicenseStatus); err != nil {
		return License{}, err
	}
	switch status {
	case store.LicenseActive, store.LicenseSuspended, store.LicenseRevoked:
	default:
		return License{}, invalidInput("license status %q: want active, suspended or revoked", status)
	}
	rec, err := e.changeLicense(ctx, actor, tenantID, id, EventLicenseStatus, func(_ store.TenantTx, r *store.License) error {
		if r.Status == store.LicenseRevoked && status != store.LicenseRevoked {
			return invalidInput("license %q is revoked; revocation is final", id)
		}
		r.Status = status
		return nil
	})
	return licenseView(rec), err
}

// ReissueLicense gives a license a new key (licenses:edit); the old key
// stops validating at once. The new key is returned once.
func (e *Engine) ReissueLicense(ctx context.Context, actor Actor, tenantID, id string) (CreatedLicense, error) {
	if err := e.authorize(ctx, actor, tenantID, OpReissueLicense); err != nil {
		return CreatedLicense{}, err
	}
	var key string
	rec, err := e.changeLicense(ctx, actor, tenantID, id, EventLicenseReissued, func(_ store.TenantTx, r *store.License) error {
		key = e.setLicenseKey(r)
		return nil
	})
	if err != nil {
		return CreatedLicense{}, err
	}
	return CreatedLicense{License: licenseView(rec), Key: NewSecret(key)}, nil
}

// DeleteLicense removes a license (licenses:edit); its key stops
// validating at once.
func (e *Engine) DeleteLicense(ctx context.Context, actor Actor, tenantID, id string) error {
	if err := e.authorize(ctx, actor, tenantID, OpDeleteLicense); err != nil {
		return err
	}
	ev := Event{TenantID: tenantID, Type: EventLicenseDeleted, Actor: actorName(actor), Details: map[string]string{"license": id}}
	err := e.update(ctx, func(tx store.Tx) error {
		if err := tx.Tenant(tenantID).Licenses().Delete(ctx, id); err != nil {
			return notFound(err)
		}
		return e.audit.record(ctx, tx, &ev)
	})
	e.cache.licenseChanged(tenantID, id)
	if err != nil {
		return err
	}
	e.audit.published(ev)
	return nil
}

func (e *Engine) changeLicense(ctx context.Context, actor Actor, tenantID, id, evType string, change func(store.TenantTx, *store.License) error) (store.License, error) {
	var rec store.License
	ev := Event{TenantID: tenantID, Type: evType, Actor: actorName(actor), Details: map[string]string{"license": id}}
	err := e.update(ctx, func(tx store.Tx) error {
		scope := tx.Tenant(tenantID)
		var err error
		if rec, err = scope.Licenses().Get(ctx, id); err != nil {
			return notFound(err)
		}
		if err := change(scope, &rec); err != nil {
			return err
		}
		ev.Details["status"] = string(rec.Status)
		rec.UpdatedAt = e.clock()
		if err := scope.Licenses().Update(ctx, rec); err != nil {
			return err
		}
		return e.audit.record(ctx, tx, &ev)
	})
	e.cache.licenseChanged(tenantID, id)
	if err != nil {
		return store.License{}, err
	}
	e.audit.published(ev)
	return rec, nil
}

// ValidationCode is the outcome of a license validation.
type ValidationCode string

const (
	CodeValid           ValidationCode = "VALID"
	CodeNotFound        ValidationCode = "NOT_FOUND"
	CodeExpired         ValidationCode = "EXPIRED"
	CodeSuspended       ValidationCode = "SUSPENDED"
	CodeRevoked         ValidationCode = "REVOKED"
	CodeProductMismatch ValidationCode = "PRODUCT_MISMATCH"
	CodePlanMismatch    ValidationCode = "PLAN_MISMATCH"
)

// ValidationScope narrows what a key must be valid for. Zero fields
// accept anything.
type ValidationScope struct {
	ProductID string
	PlanID    string
}

// ValidationResult answers a validation. License is set whenever the key
// was found (in the tenant whose license it is), whatever the code.
type ValidationResult struct {
	Valid   bool
	Code    ValidationCode
	License *PublicLicense
	// Quota is the tenant's validation quota after this validation, for
	// rate-limit response headers; zero when the key was not found.
	Quota tenant.Decision
}

// PublicLicense is what a client application may learn about its own
// license from its key.
type PublicLicense struct {
	ID         string              `json:"id"`
	ProductID  string              `json:"product_id"`
	PlanID     string              `json:"plan_id,omitempty"`
	CustomerID string              `json:"customer_id"`
	Status     store.LicenseStatus `json:"status"`
	ExpiresAt  time.Time           `json:"expires_at,omitzero"`
	Attributes map[string]string   `json:"attributes,omitempty"`
}

// ValidateLicense checks a license key for a client application; no token
// is needed. A found key is charged to its tenant's validation limit; a key
// that is not found (or malformed) is charged to the client address's
// guessing limit instead, so a stranger cannot exhaust a tenant's quota,
// and the answer for an unknown key is the same whatever exists in any
// tenant.
//
// Errors: ErrTooManyAttempts (the address guessed too often),
// ErrInvalidLicense (the key's tenant's platform license is expired or
// suspended), ErrLicenseLimit (the tenant is over its validation limit).
func (e *Engine) ValidateLicense(ctx context.Context, key string, scope ValidationScope, clientAddr netip.Addr) (ValidationResult, error) {
	if e.closed.Load() {
		return ValidationResult{}, ErrClosed
	}
	now := e.now()
	if err := e.guesses.check(clientAddr, now); err != nil {
		return ValidationResult{}, err
	}
	notFoundResult := func() (ValidationResult, error) {
		e.guesses.fail(clientAddr, now)
		return ValidationResult{Code: CodeNotFound}, nil
	}
	canonical, ok := e.licenseKeys.Normalize(key)
	if !ok {
		return notFoundResult()
	}
	lic, err := e.findLicense(ctx, canonical, now)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundResult()
	}
	if err != nil {
		return ValidationResult{}, err
	}
	ts, err := e.tenantState(ctx, lic.tenantID)
	if err != nil {
		return ValidationResult{}, err
	}
	if err := ts.license.Load().Check(now); err != nil {
		return ValidationResult{}, err
	}
	quota, err := e.takeValidation(ctx, ts, now)
	if err != nil {
		return ValidationResult{}, err
	}
	if !quota.Allowed {
		e.audit.enqueue(Event{TenantID: ts.id, Type: EventLimitReached, Severity: store.SeverityWarning,
			Reason: quotaValidate, ClientAddr: addrString(clientAddr)})
		return ValidationResult{}, &LimitError{Kind: ErrLicenseLimit, Decision: quota}
	}
	pub := lic.public
	pub.Attributes = maps.Clone(pub.Attributes) // the cached map stays private
	res := ValidationResult{Code: CodeValid, License: &pub, Quota: quota}
	rec := &pub
	switch {
	case rec.Status == store.LicenseRevoked:
		res.Code = CodeRevoked
	case rec.Status == store.LicenseSuspended:
		res.Code = CodeSuspended
	case rec.Status != store.LicenseActive:
		res.Code = CodeSuspended
	case !rec.ExpiresAt.IsZero() && !now.Before(rec.ExpiresAt):
		res.Code = CodeExpired
	case scope.ProductID != "" && scope.ProductID != rec.ProductID:
		res.Code = CodeProductMismatch
	case scope.PlanID != "" && scope.PlanID != rec.PlanID:
		res.Code = CodePlanMismatch
	}
	res.Valid = res.Code == CodeValid
	return res, nil
}

// findLicense looks a canonical key up in the cache, then in the store
// under the current digest key, then under each key still accepted during
// a rotation.
func (e *Engine) findLicense(ctx context.Context, canonical string, now time.Time) (licenseSnap, error) {
	var digest [32]byte
	e.keys.current.license.sum(digest[:0], []byte("license-key"), unsafeBytes(canonical))
	if l, ok := e.cache.license(&digest); ok && e.freshAt(l.loaded, now) {
		return l, nil
	}
	epoch := e.cache.licenseEpoch.Load()
	var rec store.License
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.LicenseByKeyDigest(ctx, digest[:])
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		for id, ks := range e.keys.byID {
			if id == e.keys.current.id {
				continue
			}
			if rec, err = tx.LicenseByKeyDigest(ctx, licenseDigest(ks, canonical)); !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return err
	})
	if err != nil {
		return licenseSnap{}, err
	}
	e.cache.putLicense(epoch, digest, rec, now.UnixNano())
	return licenseSnap{tenantID: rec.TenantID, public: PublicLicense{
		ID: rec.ID, ProductID: rec.ProductID, PlanID: rec.PlanID, CustomerID: rec.CustomerID,
		Status: rec.Status, ExpiresAt: rec.ExpiresAt, Attributes: rec.Attributes,
	}}, nil
}
