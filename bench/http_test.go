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
	httpDuration = 5 * time.Second // per server and comparison
	httpSlice    = time.Second     // the servers take turns this long
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

// compare drives two servers in turn with the same load (httpConns
// goroutines, each with its own keep-alive connection per server), in
// alternating slices of httpSlice for httpDuration each, so that a change
// in what else runs on the machine falls on both alike. reqA and reqB
// build request i of goroutine g for each. It reports each server's
// requests per second as the metrics "<nameA>-req/s" and "<nameB>-req/s"
// (and hides ns/op, which means nothing here: run with -benchtime=1x).
func compare(b *testing.B, nameA string, reqA func(g, i int) *http.Request, nameB string, reqB func(g, i int) *http.Request) {
	clients := make([]*http.Client, 2*httpConns)
	for i := range clients {
		clients[i] = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
		defer clients[i].CloseIdleConnections()
	}
	var total [2]int64
	var elapsed [2]time.Duration
	b.ResetTimer()
	for slice := range 2 * int(httpDuration/httpSlice) {
		side, req := slice%2, reqA
		if side == 1 {
			req = reqB
		}
		n, d := drive(b, clients[side*httpConns:(side+1)*httpConns], req, slice*1_000_000)
		total[side] += n
		elapsed[side] += d
	}
	b.StopTimer()
	b.ReportMetric(float64(total[0])/elapsed[0].Seconds(), nameA+"-req/s")
	b.ReportMetric(float64(total[1])/elapsed[1].Seconds(), nameB+"-req/s")
	b.ReportMetric(0, "ns/op")
}

// drive sends requests from one goroutine per client for httpSlice and
// returns how many succeeded and how long it took. Request numbers start
// at first, so that every slice asks for other records.
func drive(b *testing.B, clients []*http.Client, req func(g, i int) *http.Request, first int) (int64, time.Duration) {
	var done atomic.Bool
	var total, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := first; !done.Load(); i++ {
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
	time.Sleep(httpSlice)
	done.Store(true)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d failed requests", n)
	}
	return total.Load(), time.Since(start)
}

// BenchmarkHTTPValidate: POST /v1/licenses/validate through httpadapter
// (10k licenses, badgerstore, warm) vs a bare net/http handler that
// decodes the same body, looks the key up in a map and encodes a result,
// taking turns (see compare).
func BenchmarkHTTPValidate(b *testing.B) {
	f := newFixture(b)
	_, keys := f.licenses(httpLicenses)
	lkURL := serve(b, httpadapter.New(f.eng, httpadapter.Options{})) + "/v1/licenses/validate"

	bareKeys := make([]string, httpLicenses)
	m := make(map[string]bareLicense, httpLicenses)
	for i := range bareKeys {
		bareKeys[i] = fmt.Sprintf("KEY-%08d-ABCDEFGHIJKLMNOPQRSTUVWXYZ", i)
		m[bareKeys[i]] = newBareLicense(i)
	}
	bareURL := serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	compare(b, "licensekit", validateRequests(lkURL, keys), "bare", validateRequests(bareURL, bareKeys))
}

func validateRequests(url string, keys []string) func(g, i int) *http.Request {
	bodies := make([][]byte, len(keys))
	for i, k := range keys {
		bodies[i] = []byte(`{"key":"` + k + `"}`)
	}
	return func(g, i int) *http.Request {
		r, _ := http.NewRequest("POST", url, bytes.NewReader(bodies[(g*7919+i)%len(bodies)]))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
}

// BenchmarkHTTPGetLicense: an authenticated GET /v1/licenses/{id} through
// httpadapter (bearer access token, authorization, quota, a license read,
// JSON) vs a bare handler that checks the bearer token in a map, looks
// the license up in a map and encodes it, taking turns (see compare).
func BenchmarkHTTPGetLicense(b *testing.B) {
	f := newFixture(b)
	ids, _ := f.licenses(httpLicenses)
	toks := f.accessTokens(httpConns, permission.ViewLicenses)
	lkURL := serve(b, httpadapter.New(f.eng, httpadapter.Options{})) + "/v1/licenses/"

	bareIDs := make([]string, httpLicenses)
	m := make(map[string]bareLicense, httpLicenses)
	for i := range bareIDs {
		bareIDs[i] = fmt.Sprintf("lic_%08d", i)
		m[bareIDs[i]] = newBareLicense(i)
	}
	bareToks := make([]string, httpConns)
	valid := make(map[string]bool, httpConns)
	for i := range bareToks {
		bareToks[i] = fmt.Sprintf("lkat_%040d", i)
		valid[bareToks[i]] = true
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
	bareURL := serve(b, mux) + "/v1/licenses/"
	compare(b, "licensekit", getRequests(lkURL, ids, toks), "bare", getRequests(bareURL, bareIDs, bareToks))
}

func getRequests(url string, ids, toks []string) func(g, i int) *http.Request {
	auth := make([]string, len(toks))
	for i, t := range toks {
		auth[i] = "Bearer " + t
	}
	return func(g, i int) *http.Request {
		r, _ := http.NewRequest("GET", url+ids[(g*7919+i)%len(ids)], nil)
		r.Header.Set("Authorization", auth[g%len(auth)])
		return r
	}
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
