package bench

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/badgerstore"
	"github.com/licensekit/licensekit/store/pgstore"
	"github.com/licensekit/licensekit/tenant"
)

// TestScale measures validation at scale. Skipped unless LICENSEKIT_SCALE
// is set. Peak RSS is the whole process's (not PostgreSQL's), so run it
// alone in a fresh process (bench/run does).
//
//	LICENSEKIT_SCALE         licenses to create
//	LICENSEKIT_SCALE_TOKENS  user tokens to create and exchange (100000)
//	LICENSEKIT_SCALE_STORE   badger (default, default Options but for
//	                         fsync) or postgres (LICENSEKIT_POSTGRES_DSN)
//	LICENSEKIT_SCALE_DIR     keep the store (Badger; PostgreSQL: the schema
//	                         is named after the directory) and the keys here
//	LICENSEKIT_SCALE_REOPEN  1: create nothing; reopen what an earlier run
//	                         left in LICENSEKIT_SCALE_DIR and only validate
//	LICENSEKIT_SCALE_EXTEND  1: reopen what an earlier run left there and
//	                         add licenses (no tokens) up to LICENSEKIT_SCALE
//	LICENSEKIT_CACHE         engine.Config.LicenseCacheSize (diagnosis)
//	LICENSEKIT_SCALE_CPUPROFILE, LICENSEKIT_SCALE_MEMPROFILE: profiles of
//	                         the timed validations, and of the heap after
//	                         each phase (diagnosis)
//
// It creates the tokens and the licenses (in batches of
// engine.MaxLicenseBatch) from 8 goroutines, validates every key
// once (warm), then times 21 rounds of 25k validations of random keys
// (picked beforehand), and prints
//
//	SCALE <store> <load|reopen|extend> <licenses> <ns/validation, median round>
//	      <VmHWM KiB> <peak RssAnon KiB> <peak RssFile KiB> <seconds>
//	      <ns/validation, fastest round> <slowest round>
func TestScale(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("LICENSEKIT_SCALE"))
	if err != nil {
		t.Skip("LICENSEKIT_SCALE not set")
	}
	nTokens := 100_000
	if v := os.Getenv("LICENSEKIT_SCALE_TOKENS"); v != "" {
		nTokens, err = strconv.Atoi(v)
		must(t, err)
	}
	backend := os.Getenv("LICENSEKIT_SCALE_STORE")
	if backend == "" {
		backend = "badger"
	}
	dir := os.Getenv("LICENSEKIT_SCALE_DIR")
	reopen := os.Getenv("LICENSEKIT_SCALE_REOPEN") == "1"
	extend := os.Getenv("LICENSEKIT_SCALE_EXTEND") == "1"
	if dir == "" {
		if reopen || extend {
			t.Fatal("LICENSEKIT_SCALE_REOPEN and LICENSEKIT_SCALE_EXTEND need LICENSEKIT_SCALE_DIR")
		}
		dir = t.TempDir()
	}
	peaks := sampleRSS()
	defer peaks.stop()
	start := time.Now()

	ctx := context.Background()
	var st store.Store
	switch backend {
	case "badger":
		st, err = badgerstore.Open(filepath.Join(dir, "badger"), badgerstore.Options{DisableSyncWrites: true})
	case "postgres":
		dsn := os.Getenv("LICENSEKIT_POSTGRES_DSN")
		if dsn == "" {
			t.Fatal("LICENSEKIT_SCALE_STORE=postgres needs LICENSEKIT_POSTGRES_DSN")
		}
		st, err = pgstore.Open(ctx, dsn, pgstore.Options{Schema: "bench_" + filepath.Base(dir)})
	default:
		t.Fatalf("LICENSEKIT_SCALE_STORE %q: badger or postgres", backend)
	}
	must(t, err)
	cfg := engine.Config{Store: st, MasterKey: masterKey}
	if v, err := strconv.Atoi(os.Getenv("LICENSEKIT_CACHE")); err == nil {
		cfg.LicenseCacheSize = v
	}
	eng, err := engine.New(cfg)
	must(t, err)
	defer func() {
		must(t, eng.Close())
		must(t, st.Close())
	}()
	f := &fixture{tb: t, ctx: ctx, eng: eng, addr: scaleAddr}

	keysFile := filepath.Join(dir, "keys")
	var keys *keySlab
	switch {
	case reopen:
		keys = readKeys(t, keysFile, n)
	case extend:
		keys = extendScale(t, f, readKeys(t, keysFile, -1), n)
		writeKeys(t, keysFile, keys)
		phase("loaded", start, peaks)
	default:
		keys = loadScale(t, f, n, nTokens)
		writeKeys(t, keysFile, keys)
		phase("loaded", start, peaks)
	}

	parallel(keys.n, 8, func(i int) {
		_, err := eng.ValidateLicense(ctx, keys.key(i), engine.ValidationScope{}, scaleAddr)
		must(t, err)
	})
	phase("warm", start, peaks)
	// The keys to validate, picked at random beforehand: a server finds a
	// key in the request it just read, not in a table of a million. Timed
	// in rounds; the median round is the figure (the machine is shared).
	rng := rand.New(rand.NewPCG(1, 2))
	const rounds, perRound = 21, 25_000
	picked := make([]string, perRound)
	for i := range picked {
		picked[i] = keys.key(rng.IntN(keys.n))
	}
	if path := os.Getenv("LICENSEKIT_SCALE_CPUPROFILE"); path != "" {
		fh, err := os.Create(path)
		must(t, err)
		must(t, pprof.StartCPUProfile(fh))
		defer fh.Close()
	}
	perOp := make([]int64, rounds)
	for r := range perOp {
		timed := time.Now()
		for _, key := range picked {
			res, err := eng.ValidateLicense(ctx, key, engine.ValidationScope{}, scaleAddr)
			if err != nil || !res.Valid {
				t.Fatal(err, res.Code)
			}
		}
		perOp[r] = time.Since(timed).Nanoseconds() / perRound
		rng.Shuffle(len(picked), func(i, j int) { picked[i], picked[j] = picked[j], picked[i] })
	}
	pprof.StopCPUProfile()
	slices.Sort(perOp)
	phase("timed", start, peaks)
	mode := "load"
	switch {
	case reopen:
		mode = "reopen"
	case extend:
		mode = "extend"
	}
	peaks.stop()
	fmt.Printf("SCALE %s %s %d %d %d %d %d %.0f %d %d\n", backend, mode, n, perOp[rounds/2], vmHWM(t),
		peaks.anon.Load(), peaks.file.Load(), time.Since(start).Seconds(), perOp[0], perOp[rounds-1])
}

// scaleAddr is every validation's client address. The engine's guessing
// limiter charges only failures, and every key here is valid.
var scaleAddr = fixtureAddr

// loadScale creates one tenant with an admin, nTokens user tokens
// (each exchanged once) and n licenses.
func loadScale(t *testing.T, f *fixture, n, nTokens int) *keySlab {
	_, err := f.eng.CreateTenant(f.ctx, engine.System(), engine.NewTenant{
		ID: "acme", Name: "acme", License: tenant.License{Plan: "pro", Status: tenant.StatusActive},
	})
	must(t, err)
	u, err := f.eng.CreateUser(f.ctx, engine.System(), "acme", engine.NewUser{Email: "admin@acme.test", Name: "Admin", Role: store.RoleAdmin})
	must(t, err)
	f.admin = engine.Admin{TenantID: "acme", UserID: u.ID}
	parallel(nTokens, 8, func(int) {
		ct, err := f.eng.CreateUserToken(f.ctx, f.admin, "acme", engine.NewUserToken{
			UserID: f.admin.UserID, Name: "bench", Permissions: permission.NewSet(permission.ViewLicenses),
		})
		must(t, err)
		_, err = f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
		must(t, err)
	})
	cust, err := f.eng.CreateCustomer(f.ctx, f.admin, "acme", engine.NewCustomer{Name: "Initech"})
	must(t, err)
	prod, err := f.eng.CreateProduct(f.ctx, f.admin, "acme", engine.NewProduct{Name: "Widget"})
	must(t, err)
	keys := newKeySlab(n)
	addLicenses(t, f, keys, 0, cust.ID, prod.ID)
	return keys
}

// extendScale adds licenses to what loadScale left, up to n in all.
func extendScale(t *testing.T, f *fixture, old *keySlab, n int) *keySlab {
	custs, _, err := f.eng.ListCustomers(f.ctx, engine.System(), "acme", store.Page{})
	must(t, err)
	prods, _, err := f.eng.ListProducts(f.ctx, engine.System(), "acme", store.Page{})
	must(t, err)
	if len(custs) != 1 || len(prods) != 1 || old.n > n {
		t.Fatalf("not a store loadScale left with at most %d licenses", n)
	}
	keys := newKeySlab(n)
	copy(keys.buf, old.buf)
	addLicenses(t, f, keys, old.n, custs[0].ID, prods[0].ID)
	return keys
}

// addLicenses creates licenses from keys[from] on and records their keys.
func addLicenses(t *testing.T, f *fixture, keys *keySlab, from int, customerID, productID string) {
	const batch = engine.MaxLicenseBatch
	in := make([]engine.NewLicense, batch)
	for i := range in {
		in[i] = engine.NewLicense{CustomerID: customerID, ProductID: productID}
	}
	n := keys.n - from
	parallel((n+batch-1)/batch, licenseWorkers, func(b int) {
		first := from + b*batch
		out, err := f.eng.CreateLicenses(f.ctx, engine.System(), "acme", in[:min(batch, keys.n-first)])
		must(t, err)
		for j, cl := range out {
			keys.set(first+j, cl.Key.Reveal())
		}
	})
}

// licenseWorkers is how many batches of licenses are written at once
// (LICENSEKIT_SCALE_WRITERS, default 2).
var licenseWorkers = func() int {
	if n, err := strconv.Atoi(os.Getenv("LICENSEKIT_SCALE_WRITERS")); err == nil && n > 0 {
		return n
	}
	return 2
}()

// parallel calls fn(i) for every i in [0, n) from workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// keySlab holds license keys in one allocation (a million keys as
// strings would cost the measured process some 80 MB of its own).
type keySlab struct {
	n   int
	buf []byte
}

const keyWidth = 36 // a key's length byte, then the key (the default format: 35 bytes)

func newKeySlab(n int) *keySlab { return &keySlab{n: n, buf: make([]byte, n*keyWidth)} }

func (k *keySlab) set(i int, key string) {
	if len(key) >= keyWidth {
		panic("license key longer than the slab's slots")
	}
	b := k.buf[i*keyWidth : (i+1)*keyWidth]
	b[0] = byte(len(key))
	copy(b[1:], key)
}

func (k *keySlab) key(i int) string {
	b := k.buf[i*keyWidth : (i+1)*keyWidth]
	return string(b[1 : 1+int(b[0])])
}

func writeKeys(t *testing.T, path string, k *keySlab) {
	must(t, os.WriteFile(path, k.buf, 0o600))
}

// readKeys reads n keys (n < 0: as many as there are).
func readKeys(t *testing.T, path string, n int) *keySlab {
	buf, err := os.ReadFile(path)
	must(t, err)
	if n < 0 {
		n = len(buf) / keyWidth
	}
	if len(buf) != n*keyWidth {
		t.Fatalf("%s holds %d keys, not %d", path, len(buf)/keyWidth, n)
	}
	return &keySlab{n: n, buf: buf}
}

// rssPeaks samples this process's RssAnon and RssFile (KiB) every 20 ms.
type rssPeaks struct {
	anon, file atomic.Int64
	done       chan struct{}
	once       sync.Once
	wg         sync.WaitGroup
}

func sampleRSS() *rssPeaks {
	p := &rssPeaks{done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			p.sample()
			select {
			case <-p.done:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p *rssPeaks) stop() { p.once.Do(func() { close(p.done); p.wg.Wait(); p.sample() }) }

func (p *rssPeaks) sample() {
	for name, kb := range procStatus() {
		switch name {
		case "RssAnon":
			if kb > p.anon.Load() {
				p.anon.Store(kb)
			}
		case "RssFile":
			if kb > p.file.Load() {
				p.file.Store(kb)
			}
		}
	}
}

// procStatus is the KiB figures of /proc/self/status.
func procStatus() map[string]int64 {
	out := map[string]int64{}
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		return out
	}
	defer fh.Close()
	s := bufio.NewScanner(fh)
	for s.Scan() {
		name, v, ok := strings.Cut(s.Text(), ":")
		if v, found := strings.CutSuffix(strings.TrimSpace(v), " kB"); ok && found {
			if kb, err := strconv.ParseInt(v, 10, 64); err == nil {
				out[name] = kb
			}
		}
	}
	return out
}

// phase reports progress and memory on stderr; with
// LICENSEKIT_SCALE_MEMPROFILE set, it also writes a heap profile to that
// path plus "." and the phase's name.
func phase(name string, start time.Time, p *rssPeaks) {
	if path := os.Getenv("LICENSEKIT_SCALE_MEMPROFILE"); path != "" {
		if fh, err := os.Create(path + "." + name); err == nil {
			runtime.GC()
			_ = pprof.WriteHeapProfile(fh)
			_ = fh.Close()
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := procStatus()
	m := mappedRSS()
	fmt.Fprintf(os.Stderr, "scale: %-6s at %5.0fs: heap in use %d MiB, RSS %d MiB (anon %d, file %d: Badger tables %d, memtables %d), peaks: RSS %d MiB (anon %d, file %d)\n",
		name, time.Since(start).Seconds(), ms.HeapInuse>>20, st["VmRSS"]>>10, st["RssAnon"]>>10, st["RssFile"]>>10,
		m[".sst"]>>10, m[".mem"]>>10, st["VmHWM"]>>10, p.anon.Load()>>10, p.file.Load()>>10)
}

// mappedRSS is the resident KiB of this process's file mappings, by the
// files' extension (.sst: Badger's tables, .mem: its memtables).
func mappedRSS() map[string]int64 {
	out := map[string]int64{}
	fh, err := os.Open("/proc/self/smaps")
	if err != nil {
		return out
	}
	defer fh.Close()
	s := bufio.NewScanner(fh)
	ext := ""
	for s.Scan() {
		f := strings.Fields(s.Text())
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-"): // a mapping's first line
			ext = ""
			if len(f) >= 6 {
				ext = filepath.Ext(f[5])
			}
		case len(f) >= 2 && f[0] == "Rss:":
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			out[ext] += kb
		}
	}
	return out
}

// vmHWM is this process's peak resident set in KiB.
func vmHWM(t *testing.T) int64 {
	kb, ok := procStatus()["VmHWM"]
	if !ok {
		t.Fatal("no VmHWM")
	}
	return kb
}
