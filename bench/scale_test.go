package bench

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
)

// TestScale loads $LICENSEKIT_SCALE licenses into badgerstore, warms by
// validating each once, then times 200k validations of random keys and
// prints one line: "SCALE <licenses> <ns per validation> <VmHWM KiB>".
// Peak RSS is the whole process's, so run it alone in a fresh process
// (bench/run does). Skipped when the variable is unset.
// $LICENSEKIT_CACHE, if set, is engine.Config.LicenseCacheSize (for
// diagnosis; bench/run leaves the default).
func TestScale(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("LICENSEKIT_SCALE"))
	if err != nil {
		t.Skip("LICENSEKIT_SCALE not set")
	}
	f := newFixture(t, func(c *engine.Config) {
		if v, err := strconv.Atoi(os.Getenv("LICENSEKIT_CACHE")); err == nil {
			c.LicenseCacheSize = v
		}
	})
	_, keys := f.licenses(n)
	for _, k := range keys {
		_, err := f.eng.ValidateLicense(f.ctx, k, engine.ValidationScope{}, f.addr)
		must(t, err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const ops = 200_000
	start := time.Now()
	for range ops {
		res, err := f.eng.ValidateLicense(f.ctx, keys[rng.IntN(len(keys))], engine.ValidationScope{}, f.addr)
		if err != nil || !res.Valid {
			t.Fatal(err, res.Code)
		}
	}
	ns := time.Since(start).Nanoseconds() / ops
	fmt.Printf("SCALE %d %d %d\n", n, ns, vmHWM(t))
}

// vmHWM is this process's peak resident set in KiB.
func vmHWM(t *testing.T) int {
	fh, err := os.Open("/proc/self/status")
	must(t, err)
	defer fh.Close()
	s := bufio.NewScanner(fh)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			must(t, err)
			return kb
		}
	}
	t.Fatal("no VmHWM")
	return 0
}
