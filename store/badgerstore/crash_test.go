package badgerstore_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/badgerstore"
)

// The crash helper is this test binary run again as a child process, gated
// by environment variables so that it does nothing in a normal test run.
const (
	envCrashDir   = "BADGERSTORE_CRASH_DIR"   // store directory
	envCrashStart = "BADGERSTORE_CRASH_START" // first transaction number
	envCrashMode  = "BADGERSTORE_CRASH_MODE"  // "write" (default) or "hold"

	crashTenant = "crash"
	crashRounds = 12
)

func crashCustomerID(i int) string { return fmt.Sprintf("c%08d", i) }
func crashEventID(i int) string    { return fmt.Sprintf("e%08d", i) }

// TestCrashHelper is not a test: run as a child by TestCrashDurability and
// TestLockedByOtherProcess, it opens the store and, in "write" mode, commits
// transaction after transaction, each writing a customer and an audit event
// with the same number, and prints "ack i" only after Update returned. In
// "hold" mode it prints "ready" and waits to be killed.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("helper process for TestCrashDurability")
	}
	out := bufio.NewWriter(os.Stdout)
	fail := func(format string, args ...any) {
		fmt.Fprintf(out, "error "+format+"\n", args...)
		out.Flush()
		os.Exit(3)
	}
	s, err := badgerstore.Open(dir, badgerstore.Options{})
	if err != nil {
		fail("open: %v", err)
	}
	if os.Getenv(envCrashMode) == "hold" {
		fmt.Fprintln(out, "ready")
		out.Flush()
		select {} // until SIGKILL
	}
	start, err := strconv.Atoi(os.Getenv(envCrashStart))
	if err != nil {
		fail("start: %v", err)
	}
	ctx := context.Background()
	for i := start; ; i++ {
		err := s.Update(ctx, func(tx store.Tx) error {
			tt := tx.Tenant(crashTenant)
			now := time.Now().UTC().Truncate(time.Microsecond)
			err := tt.Customers().Create(ctx, store.Customer{
				ID: crashCustomerID(i), Name: "crash customer", CreatedAt: now, UpdatedAt: now,
			})
			if err != nil {
				return err
			}
			return tt.Audit().Append(ctx, store.AuditEvent{
				ID: crashEventID(i), Time: now, Type: "crash.test", Severity: store.SeverityInfo,
				Details: map[string]string{"i": strconv.Itoa(i)},
			})
		})
		if err != nil {
			fail("update %d: %v", i, err)
		}
		fmt.Fprintf(out, "ack %d\n", i)
		out.Flush()
	}
}

// child is a running crash helper.
type child struct {
	cmd    *exec.Cmd
	lines  chan string // stdout lines; closed at EOF
	stderr *bytes.Buffer
}

func startChild(t *testing.T, dir, mode string, start int) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		envCrashDir+"="+dir,
		envCrashMode+"="+mode,
		envCrashStart+"="+strconv.Itoa(start),
	)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	c := &child{cmd: cmd, lines: make(chan string, 1024), stderr: &bytes.Buffer{}}
	cmd.Stderr = c.stderr
	require.NoError(t, cmd.Start())
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	return c
}

// kill sends SIGKILL and reaps the child; the kernel has then released
// its file lock.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}

// TestCrashDurability kills a writing child process with SIGKILL at a
// random moment, reopens the store and checks that every acknowledged
// transaction survived (lost = 0) and that no transaction survived in part
// (torn = 0); then continues in the same directory, crashRounds times.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))

	var (
		next       int
		allAcked   []int
		totalAcked int
		lost       = map[int]bool{} // acknowledged, then missing a record
		torn       = map[int]bool{} // present with one record of two
	)
	for round := 1; round <= crashRounds; round++ {
		c := startChild(t, dir, "write", next)
		var acked []int
		readAck := func(line string) {
			if n, ok := strings.CutPrefix(line, "ack "); ok {
				i, err := strconv.Atoi(n)
				require.NoError(t, err)
				acked = append(acked, i)
				return
			}
			if strings.HasPrefix(line, "error ") {
				c.kill()
				t.Fatalf("round %d: child: %s\nstderr:\n%s", round, line, c.stderr)
			}
		}
		// Wait for the first acknowledged write, so that the kill lands
		// while the child is committing rather than while it opens.
		line, ok := <-c.lines
		if !ok {
			c.kill()
			t.Fatalf("round %d: child exited before its first write\nstderr:\n%s", round, c.stderr)
		}
		readAck(line)
		delay := time.Duration(20+rng.IntN(281)) * time.Millisecond
		timer := time.NewTimer(delay)
	collect:
		for {
			select {
			case line, ok := <-c.lines:
				if !ok {
					t.Fatalf("round %d: child exited on its own\nstderr:\n%s", round, c.stderr)
				}
				readAck(line)
			case <-timer.C:
				break collect
			}
		}
		c.kill()
		for line := range c.lines { // acks printed before the kill
			readAck(line)
		}
		allAcked = append(allAcked, acked...)

		customers, events := readCrashStore(t, dir)
		// Every transaction acknowledged so far, in any round, must be
		// complete; every transaction present must be complete.
		roundLost, roundTorn := 0, 0
		for _, i := range allAcked {
			if (!customers[i] || !events[i]) && !lost[i] {
				lost[i] = true
				roundLost++
			}
		}
		maxPresent := -1
		for _, set := range []struct{ have, other map[int]bool }{{customers, events}, {events, customers}} {
			for i := range set.have {
				maxPresent = max(maxPresent, i)
				if !set.other[i] && !torn[i] {
					torn[i] = true
					roundTorn++
				}
			}
		}
		t.Logf("round %2d: killed %3dms after the first ack: acknowledged %4d (from #%d), present %6d, lost %d, torn %d",
			round, delay.Milliseconds(), len(acked), next, len(customers), roundLost, roundTorn)
		totalAcked += len(acked)
		next = maxPresent + 1
	}
	t.Logf("total: rounds %d, acknowledged transactions %d, lost %d, torn %d", crashRounds, totalAcked, len(lost), len(torn))
	require.Positive(t, totalAcked)
	require.Empty(t, lost, "acknowledged transactions lost")
	require.Empty(t, torn, "transactions present in part")
}

// readCrashStore reopens the store and returns the numbers of the
// transactions whose customer, and whose audit event, are present.
func readCrashStore(t *testing.T, dir string) (customers, events map[int]bool) {
	t.Helper()
	ctx := context.Background()
	s, err := badgerstore.Open(dir, badgerstore.Options{})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()

	customers = map[int]bool{}
	events = map[int]bool{}
	require.NoError(t, s.View(ctx, func(tx store.Tx) error {
		tt := tx.Tenant(crashTenant)
		for page := (store.Page{Limit: store.MaxPageLimit}); ; {
			cs, next, err := tt.Customers().List(ctx, page)
			if err != nil {
				return err
			}
			for _, c := range cs {
				i, err := strconv.Atoi(strings.TrimPrefix(c.ID, "c"))
				require.NoError(t, err)
				customers[i] = true
			}
			if next == "" || len(cs) == 0 {
				break
			}
			page.After = next
		}
		for page := (store.Page{Limit: store.MaxPageLimit}); ; {
			evs, next, err := tt.Audit().List(ctx, store.AuditQuery{}, page)
			if err != nil {
				return err
			}
			for _, ev := range evs {
				i, err := strconv.Atoi(strings.TrimPrefix(ev.ID, "e"))
				require.NoError(t, err)
				events[i] = true
			}
			if next == "" || len(evs) == 0 {
				break
			}
			page.After = next
		}
		return nil
	}))

	return customers, events
}

// TestLockedByOtherProcess opens a store in a child process and checks
// that this process cannot open it until the child is killed; kill -9
// leaves no stale lock behind.
func TestLockedByOtherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	c := startChild(t, dir, "hold", 0)
	line, ok := <-c.lines
	if !ok || line != "ready" {
		c.kill()
		t.Fatalf("child did not open the store: %q\nstderr:\n%s", line, c.stderr)
	}
	_, err := badgerstore.Open(dir, badgerstore.Options{})
	require.ErrorIs(t, err, store.ErrLocked)
	require.Contains(t, err.Error(), dir)

	c.kill()
	s, err := badgerstore.Open(dir, badgerstore.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
}
