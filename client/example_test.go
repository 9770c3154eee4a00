package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/licensekit/licensekit/client"
)

// fakeServer stands in for a licensekit host in the examples: it answers
// the token endpoint, one list and the validation route.
func fakeServer() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/auth/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, `{"access_token":"lkat_example","token_type":"Bearer","expires_in":3600,"refresh_token":"lkrt_example","scope":"users:view"}`)
	})
	mux.HandleFunc("GET /v1/users", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"items":[{"tenant_id":"acme","id":"u1","email":"ada@acme.test","name":"Ada","role":"admin","status":"active"}]}`)
	})
	mux.HandleFunc("GET /v1/licenses", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("WWW-Authenticate", `Bearer realm="licensekit", error="insufficient_scope", scope="licenses:view"`)
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"error":"Access denied"}`)
	})
	mux.HandleFunc("POST /v1/licenses/validate", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"valid":true,"code":"VALID","license":{"id":"lic1","product_id":"p1","customer_id":"c1","status":"active"}}`)
	})
	mux.HandleFunc("POST /v1/auth/revoke", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{}`)
	})
	return httptest.NewServer(mux) // http://127.0.0.1:port: loopback, so plain HTTP is allowed
}

func ExampleNew() {
	srv := fakeServer()
	defer srv.Close()
	ctx := context.Background()

	c, err := client.New(client.Config{
		BaseURL:      srv.URL, // e.g. "https://licensing.example.com"
		UserTokenID:  "3b1f7f3e-8a2c-4b8e-9d55-2f8e1c7a9b01",
		UserToken:    client.NewSecret("lkut_..."), // from a secret store, never from source code
		MaxRetryWait: 5 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close() // revokes the refresh token

	users, next, err := c.ListUsers(ctx, client.ListOptions{Limit: 50})
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range users {
		fmt.Println(u.Email, u.Role)
	}
	fmt.Printf("next page: %q\n", next)

	_, _, err = c.ListLicenses(ctx, client.ListOptions{})
	switch {
	case errors.Is(err, client.ErrAccessDenied):
		fmt.Println("this token may not view licenses")
	case errors.Is(err, client.ErrLicenseLimit):
		var ae *client.APIError
		errors.As(err, &ae)
		fmt.Println("over quota; retry in", ae.RetryAfter)
	case err != nil:
		log.Fatal(err)
	}
	// Output:
	// ada@acme.test admin
	// next page: ""
	// this token may not view licenses
}

func ExampleValidateLicense() {
	srv := fakeServer()
	defer srv.Close()

	// No credential: this is what an application shipped to a customer runs.
	v, err := client.ValidateLicense(context.Background(), nil, srv.URL, "ABCDE-FGHIJ-KLMNO", client.ValidateOptions{ProductID: "p1"})
	if err != nil {
		log.Fatal(err) // the server refused or answered nonsense; v says nothing
	}
	fmt.Println(v.Valid, v.Code, v.License.ID)
	// Output: true VALID lic1
}

func ExampleSecret() {
	s := client.NewSecret("lkut_abc")
	fmt.Println(s)
	fmt.Printf("%#v\n", client.Config{UserToken: s}.UserToken)
	// Output:
	// [REDACTED]
	// [REDACTED]
}
