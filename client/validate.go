package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// validateBody is the body of POST /v1/licenses/validate.
type validateBody struct {
	Key       string `json:"key"`
	ProductID string `json:"product_id,omitempty"`
	PlanID    string `json:"plan_id,omitempty"`
}

func validateRequest(key string, opts ValidateOptions) (*apiRequest, error) {
	if key == "" {
		return nil, errors.New("licensekit: empty license key")
	}
	b, err := json.Marshal(validateBody{Key: key, ProductID: opts.ProductID, PlanID: opts.PlanID})
	if err != nil {
		return nil, err
	}
	return &apiRequest{
		method: http.MethodPost, path: "/licenses/validate", auth: authNone,
		body: b, contentType: "application/json",
		secrets: []Secret{NewSecret(key)},
	}, nil
}

// ValidateLicense checks a license key against the API at baseURL (as in
// Config.BaseURL) without any credential: it is what an application
// shipped to a customer calls. It sends no Authorization header. A
// well-formed answer is a Validation, whose Code says why a key is not
// valid (NOT_FOUND, EXPIRED, ...): that is not an error. Errors: an
// *APIError for a refusal (ErrTooManyRequests when this address guessed
// too often, ErrLicenseLimit, ErrInvalidLicense for the key's tenant),
// ErrMalformedResponse, ErrInsecureHTTP for a plain http:// baseURL that is
// not loopback (unless opts.AllowInsecureHTTP), or a transport error. The
// key never appears in an error. A 429 is not retried.
//
// httpClient nil is a client with a 30-second timeout; redirects are
// never followed.
func ValidateLicense(ctx context.Context, httpClient *http.Client, baseURL, key string, opts ValidateOptions) (Validation, error) {
	base, err := parseBaseURL(baseURL, opts.AllowInsecureHTTP)
	if err != nil {
		return Validation{}, err
	}
	r, err := validateRequest(key, opts)
	if err != nil {
		return Validation{}, err
	}
	hc := noRedirects(httpClient)
	resp, err := roundTrip(ctx, hc, base, DefaultUserAgent, r, nil)
	if err != nil {
		return Validation{}, err
	}
	var v Validation
	if err := decode(r, resp, &v, newScrubber(r.secrets...), time.Now()); err != nil {
		return Validation{}, err
	}
	return v, nil
}

// ValidateLicense checks a license key like the package-level
// ValidateLicense, through the client's base URL, HTTP client and 429
// retry bound. It sends no credential either: validation is public.
// opts.AllowInsecureHTTP is ignored.
func (c *Client) ValidateLicense(ctx context.Context, key string, opts ValidateOptions) (Validation, error) {
	r, err := validateRequest(key, opts)
	if err != nil {
		return Validation{}, err
	}
	var v Validation
	if err := c.do(ctx, r, &v); err != nil {
		return Validation{}, err
	}
	return v, nil
}
