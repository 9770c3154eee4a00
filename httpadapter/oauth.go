package httpadapter

import (
	"errors"
	"net/url"
	"time"

	"github.com/licensekit/licensekit/engine"
)

// tokenRequest is the token endpoint's request (RFC 6749 §4.4, §6), as a
// form or as JSON.
type tokenRequest struct {
	GrantType    string `json:"grant_type" oa:"required"`
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	// Scope is accepted and ignored: the token's scope is the user token's
	// permissions, as the response's scope says.
	Scope string `json:"scope,omitempty"`
}

// tokenResponse is RFC 6749 §5.1's.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// handleToken is the OAuth 2.0 token endpoint.
//
//   - grant_type=client_credentials: the client authenticates with the user
//     token, as HTTP Basic (client_secret_basic: the user token's UUID and
//     the user token, each form-encoded, RFC 6749 §2.3.1) or in the body
//     (client_secret_post: client_id, optional, and client_secret). Using
//     both is invalid_request.
//   - grant_type=refresh_token: refresh_token is the proof; client
//     credentials, if sent, are ignored (a refresh token is bound to its
//     user token already).
//
// Every refused credential is the contract's 401, byte-identical to the
// Bearer 401 of the API (RFC 6749 would answer 400 invalid_grant to a bad
// refresh token; the contract allows no difference). A request with no
// client credentials at all gets the 401 without error code.
func handleToken(c *call) error {
	var in tokenRequest
	if err := c.a.decodeParams(c.w, c.r, &in); err != nil {
		var ie *inputError
		if errors.As(err, &ie) && ie.status == 400 {
			c.a.oauthError(c.w, c.r, "invalid_request", ie.msg)
			return nil
		}
		return err
	}
	var (
		resp *engine.TokenResponse
		err  error
	)
	switch in.GrantType {
	case "client_credentials":
		id, secret, basic := c.r.BasicAuth()
		if basic && (id != "" || secret != "") {
			if in.ClientID != "" || in.ClientSecret != "" {
				c.a.oauthError(c.w, c.r, "invalid_request", "use one client authentication method: HTTP Basic or client_secret in the body")
				return nil
			}
			// RFC 6749 §2.3.1: both are form-encoded inside Basic. A value
			// that does not decode is passed on as is, for the engine to
			// refuse (and count).
			if u, err := url.QueryUnescape(id); err == nil {
				id = u
			}
			if u, err := url.QueryUnescape(secret); err == nil {
				secret = u
			}
		} else {
			id, secret = in.ClientID, in.ClientSecret
		}
		if id == "" && secret == "" {
			c.a.unauthorized(c.w, c.r, false)
			return nil
		}
		resp, err = c.a.eng.Exchange(c.r.Context(), id, secret, c.addr)
	case "refresh_token":
		if in.RefreshToken == "" {
			c.a.oauthError(c.w, c.r, "invalid_request", "refresh_token is required")
			return nil
		}
		resp, err = c.a.eng.Refresh(c.r.Context(), in.RefreshToken, c.addr)
	case "":
		c.a.oauthError(c.w, c.r, "invalid_request", "grant_type is required")
		return nil
	default:
		c.a.oauthError(c.w, c.r, "unsupported_grant_type", "grant_type must be client_credentials or refresh_token")
		return nil
	}
	if err != nil {
		return err
	}
	return c.reply(tokenResponse{
		AccessToken:  resp.AccessToken.Reveal(),
		TokenType:    resp.TokenType,
		ExpiresIn:    int64(resp.ExpiresIn / time.Second),
		RefreshToken: resp.RefreshToken.Reveal(),
		Scope:        resp.Scope.Scope(),
	})
}

// revokeRequest is RFC 7009's (and RFC 7662's) request.
type revokeRequest struct {
	Token         string `json:"token" oa:"required"`
	TokenTypeHint string `json:"token_type_hint,omitempty"`
}

// handleRevoke revokes a token (RFC 7009): 200 {} for every well-formed
// request, whether or not the token was known.
func handleRevoke(c *call) error {
	var in revokeRequest
	if err := c.a.decodeParams(c.w, c.r, &in); err != nil {
		var ie *inputError
		if errors.As(err, &ie) && ie.status == 400 {
			c.a.oauthError(c.w, c.r, "invalid_request", ie.msg)
			return nil
		}
		return err
	}
	if in.Token == "" {
		c.a.oauthError(c.w, c.r, "invalid_request", "token is required")
		return nil
	}
	if err := c.a.eng.Revoke(c.r.Context(), in.Token, c.addr); err != nil {
		return err
	}
	return c.reply(struct{}{})
}

// introspectionResponse is RFC 7662 §2.2's; an inactive token is only
// {"active": false}.
type introspectionResponse struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Subject   string `json:"sub,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	TenantID  string `json:"tenant_id,omitempty"`
}

func handleIntrospect(c *call) error {
	var in revokeRequest
	if err := c.a.decodeParams(c.w, c.r, &in); err != nil {
		return err
	}
	if in.Token == "" {
		return badRequest("token is required")
	}
	res, err := c.a.eng.Introspect(c.r.Context(), c.p, c.tenant(), in.Token)
	if err != nil {
		return err
	}
	if !res.Active {
		return c.reply(introspectionResponse{})
	}
	return c.reply(introspectionResponse{
		Active: true, Scope: res.Scope.Scope(), ClientID: res.ClientID, Subject: res.Subject,
		TokenType: res.TokenType, Exp: res.ExpiresAt.Unix(), TenantID: res.TenantID,
	})
}
