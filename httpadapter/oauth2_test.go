package httpadapter_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/permission"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestOAuth2ClientCredentials: golang.org/x/oauth2/clientcredentials,
// unchanged, obtains a token and its transport makes API calls; the
// refresh-token grant works through golang.org/x/oauth2 too.
func TestOAuth2ClientCredentials(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.api)
	defer srv.Close()
	ct := f.userToken(f.admin, permission.NewSet(permission.ViewUsers, permission.ViewLicenses))
	ctx := context.Background()

	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cfg := clientcredentials.Config{
			ClientID: ct.Token.ID, ClientSecret: ct.Credential.Reveal(),
			TokenURL: srv.URL + "/v1/auth/token", AuthStyle: style,
		}
		tok, err := cfg.Token(ctx)
		require.NoError(t, err, "style %v", style)
		require.Equal(t, "Bearer", tok.TokenType)
		require.NotEmpty(t, tok.RefreshToken)
		require.Equal(t, "users:view licenses:view", tok.Extra("scope"))
		require.True(t, tok.Valid())

		res, err := cfg.Client(ctx).Get(srv.URL + "/v1/users")
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, 200, res.StatusCode, string(body))
		var page struct {
			Items []map[string]any `json:"items"`
		}
		require.NoError(t, json.Unmarshal(body, &page))
		require.Len(t, page.Items, 1)
	}

	// A wrong secret is refused with the contract's 401.
	bad := clientcredentials.Config{ClientID: ct.Token.ID, ClientSecret: "lkut_wrong", TokenURL: srv.URL + "/v1/auth/token"}
	_, err := bad.Token(ctx)
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	require.Equal(t, 401, re.Response.StatusCode)
	require.Equal(t, "Invalid token", re.ErrorCode)

	// Refresh through golang.org/x/oauth2.
	first, err := (&clientcredentials.Config{ClientID: ct.Token.ID, ClientSecret: ct.Credential.Reveal(),
		TokenURL: srv.URL + "/v1/auth/token"}).Token(ctx)
	require.NoError(t, err)
	f.clock.Advance(time.Minute) // the engine's clock does not move by itself
	rcfg := oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/v1/auth/token"}}
	refreshed, err := rcfg.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
	require.NoError(t, err)
	require.NotEqual(t, first.AccessToken, refreshed.AccessToken)
	require.NotEqual(t, first.RefreshToken, refreshed.RefreshToken)
	res, err := rcfg.Client(ctx, refreshed).Get(srv.URL + "/v1/users")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)

	// The used refresh token again: reuse, the family dies.
	_, err = rcfg.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
	require.ErrorAs(t, err, &re)
	require.Equal(t, 401, re.Response.StatusCode)
	res, err = rcfg.Client(ctx, &oauth2.Token{AccessToken: refreshed.AccessToken}).Get(srv.URL + "/v1/users")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 401, res.StatusCode, "reuse revoked the family")
}

// TestTokenEndpointProtocol covers the token endpoint's request forms.
func TestTokenEndpointProtocol(t *testing.T) {
	f := newFixture(t)
	ct := f.userToken(f.admin, permission.NewSet(permission.ViewUsers))
	form := "application/x-www-form-urlencoded"
	tokenReq := func(ctype, body, basic string) *httptest.ResponseRecorder {
		r := req{method: "POST", path: "/v1/auth/token", ctype: ctype, body: body}
		if basic != "" {
			r.auth = basic
		}
		return f.do(r)
	}
	basic := func(id, secret string) string {
		h := http.Request{Header: http.Header{}}
		h.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		return h.Header.Get("Authorization")
	}
	check := func(rec *httptest.ResponseRecorder) map[string]any {
		t.Helper()
		require.Equal(t, 200, rec.Code, rec.Body.String())
		require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		require.Equal(t, "no-cache", rec.Header().Get("Pragma"))
		var m map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
		require.Equal(t, "Bearer", m["token_type"])
		require.EqualValues(t, 86400, m["expires_in"])
		require.Equal(t, "users:view", m["scope"])
		require.True(t, strings.HasPrefix(m["access_token"].(string), "lkat_"))
		require.True(t, strings.HasPrefix(m["refresh_token"].(string), "lkrt_"))
		return m
	}
	// client_secret_post, form; with and without client_id.
	check(tokenReq(form, "grant_type=client_credentials&client_id="+ct.Token.ID+"&client_secret="+url.QueryEscape(ct.Credential.Reveal()), ""))
	check(tokenReq(form, "grant_type=client_credentials&client_secret="+url.QueryEscape(ct.Credential.Reveal())+"&scope=anything", ""))
	// client_secret_basic.
	check(tokenReq(form, "grant_type=client_credentials", basic(ct.Token.ID, ct.Credential.Reveal())))
	// JSON.
	m := check(tokenReq("application/json", `{"grant_type":"client_credentials","client_id":"`+ct.Token.ID+`","client_secret":"`+ct.Credential.Reveal()+`"}`, ""))
	check(tokenReq("application/json; charset=utf-8", `{"grant_type":"refresh_token","refresh_token":"`+m["refresh_token"].(string)+`"}`, ""))

	for name, tc := range map[string]struct {
		ctype, body, basic string
		status             int
		want               string
	}{
		"no grant type":       {form, "client_secret=x", "", 400, `{"error":"invalid_request","error_description":"grant_type is required"}`},
		"unsupported grant":   {form, "grant_type=password&username=a&password=b", "", 400, `{"error":"unsupported_grant_type","error_description":"grant_type must be client_credentials or refresh_token"}`},
		"duplicate parameter": {form, "grant_type=client_credentials&grant_type=client_credentials", "", 400, `{"error":"invalid_request","error_description":"parameter \"grant_type\" is given more than once"}`},
		"two auth methods":    {form, "grant_type=client_credentials&client_secret=x", basic(ct.Token.ID, "y"), 400, `{"error":"invalid_request","error_description":"use one client authentication method: HTTP Basic or client_secret in the body"}`},
		"no refresh token":    {form, "grant_type=refresh_token", "", 400, `{"error":"invalid_request","error_description":"refresh_token is required"}`},
		"unknown JSON field":  {"application/json", `{"grant_type":"client_credentials","password":"x"}`, "", 400, `{"error":"invalid_request","error_description":"unknown field \"password\""}`},
		"no credentials":      {form, "grant_type=client_credentials", "", 401, `{"error":"Invalid token"}`},
		"wrong media type":    {"text/plain", "grant_type=client_credentials", "", 415, `{"error":"Unsupported media type"}`},
	} {
		rec := tokenReq(tc.ctype, tc.body, tc.basic)
		require.Equal(t, tc.status, rec.Code, name)
		require.JSONEq(t, tc.want, rec.Body.String(), name)
		require.Equal(t, "no-store", rec.Header().Get("Cache-Control"), name)
	}
	// No credentials at all: the challenge has no error code.
	rec := tokenReq(form, "grant_type=client_credentials", "")
	require.Equal(t, `Bearer realm="licensekit"`, rec.Header().Get("WWW-Authenticate"))
	// Credentials in the URL are never read.
	rec = f.do(req{method: "POST", path: "/v1/auth/token?client_secret=" + url.QueryEscape(ct.Credential.Reveal()),
		ctype: form, body: "grant_type=client_credentials"})
	require.Equal(t, 401, rec.Code)
}

// TestGuessingLimit: one address failing exchanges gets the contract's
// 429 "Too Many Requests" with Retry-After, and not the tenant.
func TestGuessingLimit(t *testing.T) {
	f := newFixture(t)
	ct := f.userToken(f.admin, permission.NewSet(permission.ViewUsers))
	var rec *httptest.ResponseRecorder
	for range 100 {
		rec = f.do(req{method: "POST", path: "/v1/auth/token", ctype: "application/x-www-form-urlencoded",
			body: "grant_type=client_credentials&client_secret=lkut_guess", remote: "198.51.100.7:1"})
		if rec.Code == 429 {
			break
		}
		require.Equal(t, 401, rec.Code)
	}
	require.Equal(t, 429, rec.Code)
	require.Equal(t, hdr("Retry-After", rec.Header().Get("Retry-After")), rec.Header())
	require.NotEqual(t, "", rec.Header().Get("Retry-After"))
	require.Equal(t, `{"error":"Too Many Requests"}`+"\n", rec.Body.String())
	// Another address is not affected.
	rec = f.do(req{method: "POST", path: "/v1/auth/token", ctype: "application/x-www-form-urlencoded",
		body: "grant_type=client_credentials&client_secret=" + url.QueryEscape(ct.Credential.Reveal()), remote: "198.51.100.8:1"})
	require.Equal(t, 200, rec.Code)
}
