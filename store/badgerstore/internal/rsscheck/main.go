package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/badgerstore"
	"github.com/licensekit/licensekit/store/badgerstore/internal/loadgen"
)

func main() {
	var (
		dir     = flag.String("dir", "", "store directory (default: a temporary directory, removed at exit)")
		n       = flag.Int("n", 1_000_000, "licenses to create")
		batch   = flag.Int("batch", 1000, "licenses per Update")
		lookups = flag.Int("lookups", 100_000, "random LicenseByKeyDigest lookups")
		seed    = flag.Uint64("seed", 1, "seed of the lookup order")
		reuse   = flag.Bool("reuse", false, "do not insert: look up the -n licenses an earlier run left in -dir")
		memprof = flag.String("memprofile", "", "write a heap profile after the lookups to this file")
	)
	flag.Parse()
	log.SetFlags(0)

	if *dir == "" {
		tmp, err := os.MkdirTemp("", "rsscheck-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	if err := run(*dir, *n, *batch, *lookups, *seed, *reuse, *memprof); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func run(dir string, n, batch, lookups int, seed uint64, reuse bool, memprof string) error {
	stopSampler := sampleRSS()
	defer stopSampler()

	ctx := context.Background()
	s, err := badgerstore.Open(dir, badgerstore.Options{})
	if err != nil {
		return err
	}
	defer s.Close()

	start := time.Now()
	if !reuse {
		if err := loadgen.Load(ctx, s, 0, n, batch); err != nil {
			return err
		}
	}
	loadTime := time.Since(start)

	rng := rand.New(rand.NewPCG(seed, seed))
	found := 0
	start = time.Now()
	for range lookups {
		if n == 0 {
			break
		}
		i := rng.IntN(n)
		err := s.View(ctx, func(tx store.Tx) error {
			l, err := tx.LicenseByKeyDigest(ctx, loadgen.Digest(i))
			if err != nil {
				return err
			}
			if l.ID != loadgen.LicenseID(i) {
				return fmt.Errorf("digest %d resolved to %s", i, l.ID)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("lookup %d: %w", i, err)
		}
		found++
	}
	lookupTime := time.Since(start)

	if memprof != "" {
		if err := writeHeapProfile(memprof); err != nil {
			return err
		}
	}

	if err := s.Close(); err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if reuse {
		fmt.Printf("licenses reused: %d\n", n)
	} else {
		fmt.Printf("licenses inserted: %d (batches of %d) in %s\n", n, batch, loadTime.Round(time.Millisecond))
	}
	fmt.Printf("lookups: %d, found: %d in %s\n", lookups, found, lookupTime.Round(time.Millisecond))
	fmt.Printf("go heap: sys %d MiB, total alloc %d MiB\n", ms.HeapSys>>20, ms.TotalAlloc>>20)
	if hwm := vmHWM(); hwm != "" {
		fmt.Printf("VmHWM (peak RSS): %s\n", hwm)
	}
	stopSampler()
	fmt.Printf("sampled peaks: RssAnon %d MiB, RssFile %d MiB\n", peakAnon.Load()>>10, peakFile.Load()>>10)
	return nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var peakAnon, peakFile atomic.Int64

// sampleRSS records the peaks of RssAnon and RssFile (Linux) every 20ms
// until the returned function is called.
func sampleRSS() (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			readStatus()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-finished }) }
}

func readStatus() {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var kb int64
		fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
		switch name {
		case "RssAnon":
			if kb > peakAnon.Load() {
				peakAnon.Store(kb)
			}
		case "RssFile":
			if kb > peakFile.Load() {
				peakFile.Store(kb)
			}
		}
	}
}

// vmHWM returns the peak resident set size from /proc (Linux), or "".
func vmHWM() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
