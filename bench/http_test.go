package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensekit/licensekit/httpadapter"
	"github.com/licensekit/licensekit/permission"
)

const (
	httpConns    = 32              // concurrent keep-alive connections
	httpDuration = 5 * time.Second // per measurement
	httpLicenses = 10_000
)

// serve starts h on a real TCP listener on 127.0.0.1 and returns its URL.
func serve(b *testing.B, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(b, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// load drives httpConns goroutines, each with its own keep-alive
// connection, for httpDuration; req builds request i of goroutine g. It
// reports requests per second (and hides ns/op, which means nothing here:
// run with -benchtime=1x).
func load(b *testing.B, req func(g, i int) *http.Request) {
	var done atomic.Bool
	var total, failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range httpConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
			defer c.CloseIdleConnections()
			for i := 0; !done.Load(); i++ {
				resp, err := c.Do(req(g, i))
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
					continue
				}
				total.Add(1)
			}
		}()
	}
	time.Sleep(httpDuration)
	done.Store(true)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d failed requests", n)
	}
	b.ReportMetric(float64(total.Load())/elapsed.Seconds(), "req/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkHTTPValidate: POST /v1/licenses/validate through httpadapter
// (10k licenses, badgerstore, warm) vs a bare net/http handler that
// decodes the same body, looks the key up in a map and encodes a result.
func BenchmarkHTTPValidate(b *testing.B) {
	b.Run("licensekit", func(b *testing.B) {
		f := newFixture(b)
		_, keys := f.licenses(httpLicenses)
		url := serve(b, httpadapter.New(f.eng, httpadapter.Options{})) + "/v1/licenses/validate"
		loadValidate(b, url, keys)
	})
	b.Run("bare", func(b *testing.B) {
		keys := make([]string, httpLicenses)
		m := make(map[string]bareLicense, httpLicenses)
		for i := range keys {
			keys[i] = fmt.Sprintf("KEY-%08d-ABCDEFGHIJKLMNOPQRSTUVWXYZ", i)
			m[keys[i]] = newBareLicense(i)
		}
		url := serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in struct {
				Key string `json:"key"`
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			lic, ok := m[in.Key]
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(struct {
				Valid   bool         `json:"valid"`
				Code    string       `json:"code"`
				License *bareLicense `json:"license,omitempty"`
			}{ok, "VALID", &lic})
		}))
		loadValidate(b, url, keys)
	})
}

func loadValidate(b *testing.B, url string, keys []string) {
	bodies := make([][]byte, len(keys))
	for i, k := range keys {
		bodies[i] = []byte(`{"key":"` + k + `"}`)
	}
	load(b, func(g, i int) *http.Request {
		r, _ := http.NewRequest("POST", url, bytes.NewReader(bodies[(g*7919+i)%len(bodies)]))
		r.Header.Set("Content-Type", "application/json")
		return r
	})
}

// BenchmarkHTTPGetLicense: an authenticated GET /v1/licenses/{id} through
// httpadapter (bearer access token, authorization, quota, a license read,
// JSON) vs a bare handler that checks the bearer token in a map, looks
// the license up in a map and encodes it.
func BenchmarkHTTPGetLicense(b *testing.B) {
	b.Run("licensekit", func(b *testing.B) {
		f := newFixture(b)
		ids, _ := f.licenses(httpLicenses)
		toks := f.accessTokens(httpConns, permission.ViewLicenses)
		url := serve(b, httpadapter.New(f.eng, httpadapter.Options{})) + "/v1/licenses/"
		loadGet(b, url, ids, toks)
	})
	b.Run("bare", func(b *testing.B) {
		ids := make([]string, httpLicenses)
		m := make(map[string]bareLicense, httpLicenses)
		for i := range ids {
			ids[i] = fmt.Sprintf("lic_%08d", i)
			m[ids[i]] = newBareLicense(i)
		}
		toks := make([]string, httpConns)
		valid := make(map[string]bool, httpConns)
		for i := range toks {
			toks[i] = fmt.Sprintf("lkat_%040d", i)
			valid[toks[i]] = true
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /v1/licenses/{id}", func(w http.ResponseWriter, r *http.Request) {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || !valid[tok] {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			lic, ok := m[r.PathValue("id")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(lic)
		})
		loadGet(b, serve(b, mux)+"/v1/licenses/", ids, toks)
	})
}

func loadGet(b *testing.B, url string, ids, toks []string) {
	auth := make([]string, len(toks))
	for i, t := range toks {
		auth[i] = "Bearer " + t
	}
	load(b, func(g, i int) *http.Request {
		r, _ := http.NewRequest("GET", url+ids[(g*7919+i)%len(ids)], nil)
		r.Header.Set("Authorization", auth[g%len(auth)])
		return r
	})
}

// bareLicense is about the shape of licensekit's license JSON.
type bareLicense struct {
	ID         string            `json:"id"`
	ProductID  string            `json:"product_id"`
	CustomerID string            `json:"customer_id"`
	Status     string            `json:"status"`
	CreatedAt  time.Time         `json:"created_at"`
	ExpiresAt  *time.Time        `json:"expires_at,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

func newBareLicense(i int) bareLicense {
	return bareLicense{
		ID: fmt.Sprintf("lic_%08d", i), ProductID: "prod_widget", CustomerID: "cust_initech",
		Status: "active", CreatedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
	}
}
