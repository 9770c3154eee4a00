package httpadapter_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/permission"
)

// BenchmarkGetLicense is an authenticated GET through the adapter
// (authentication, authorization, quota, a store read, JSON).
func BenchmarkGetLicense(b *testing.B) {
	f := newFixture(b)
	id, _ := seedLicense(f, f.admin)
	tok := "Bearer " + f.bearer(permission.ViewLicenses)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/v1/licenses/"+id, nil)
		r.Header.Set("Authorization", tok)
		w := httptest.NewRecorder()
		f.api.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// BenchmarkValidate is a public license validation through the adapter.
func BenchmarkValidate(b *testing.B) {
	f := newFixture(b)
	_, key := seedLicense(f, f.admin)
	body := `{"key":"` + key + `"}`
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/v1/licenses/validate", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		f.api.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}
