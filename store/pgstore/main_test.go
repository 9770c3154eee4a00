package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The tests run against a real PostgreSQL server:
//
//   - LICENSEKIT_POSTGRES_DSN, when set, names it (the tests create and,
//     at the end, drop schemas named pgstore_test_*);
//   - otherwise TestMain starts a throwaway server from the initdb and
//     postgres binaries (on PATH, or under /usr/lib/postgresql/*/bin) in a
//     temporary directory, listening only on a unix socket there, and
//     stops it at the end. As root (CI), where initdb refuses to run, the
//     server runs as the system user "postgres".
//
// Where there is neither, every test skips with a loud message, or fails
// when LICENSEKIT_REQUIRE_POSTGRES=1 (set by .ci/run, so that CI cannot
// pass without having run them).
const (
	envDSN     = "LICENSEKIT_POSTGRES_DSN"
	envRequire = "LICENSEKIT_REQUIRE_POSTGRES"
)

var (
	// testDSN is the server the tests use; empty when there is none.
	testDSN string
	// external is true when testDSN came from the environment.
	external bool
	// noServer says why there is no server (the tests skip).
	noServer string
	// setupErr is a failure to start a server that should have started
	// (the tests fail).
	setupErr error
	// sharedPool serves the conformance cases, one schema each.
	sharedPool *pgxpool.Pool
	// schemas created on an external server, dropped at the end.
	schemasMu sync.Mutex
	schemas   []string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if dsn := os.Getenv(envDSN); dsn != "" {
		testDSN, external = dsn, true
	} else if bin, reason := findPostgres(); bin == "" {
		noServer = reason
	} else {
		srv, err := startServer(bin)
		if err != nil {
			setupErr = err
		} else {
			defer srv.stop()
			testDSN = srv.dsn
		}
	}
	if testDSN != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cfg, err := pgxpool.ParseConfig(testDSN)
		if err == nil {
			cfg.MaxConns = 24
			sharedPool, err = pgxpool.NewWithConfig(ctx, cfg)
		}
		if err == nil {
			err = sharedPool.Ping(ctx)
		}
		if err != nil {
			setupErr = fmt.Errorf("connect to %s: %w", redact(testDSN), err)
			testDSN = ""
		} else {
			defer sharedPool.Close()
			defer dropSchemas()
		}
	}
	if testDSN == "" && setupErr == nil {
		fmt.Fprintf(os.Stderr, "\n!!! pgstore: NO POSTGRESQL SERVER: %s.\n!!! pgstore: every test SKIPS. Set %s, or install PostgreSQL (initdb, postgres).\n\n", noServer, envDSN)
	}
	return m.Run()
}

// needPG skips (or fails, see envRequire) a test that has no server.
func needPG(t testing.TB) {
	t.Helper()
	switch {
	case setupErr != nil:
		t.Fatalf("pgstore: PostgreSQL could not be set up: %v", setupErr)
	case testDSN == "":
		msg := fmt.Sprintf("pgstore: NO POSTGRESQL SERVER (%s); set %s or install PostgreSQL", noServer, envDSN)
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("%s — and %s=1 forbids skipping", msg, envRequire)
		}
		t.Skip("SKIPPED: " + msg)
	}
}

var schemaSeq atomic.Int64

// newSchema returns a fresh schema name, registered for dropping when the
// server is external.
func newSchema(prefix string) string {
	name := fmt.Sprintf("pgstore_test_%s_%d_%d", prefix, os.Getpid(), schemaSeq.Add(1))
	registerSchema(name)
	return name
}

// Conformance cases get their schemas from caseSchema. Creating and
// migrating a schema costs tens of milliseconds (14 tables and their
// indexes), more than most cases; so a schema whose case has ended is
// emptied and handed to a later case instead.
var (
	schemaMu   sync.Mutex
	freeSchema []string
	dirSchema  = map[string]string{}
)

// caseSchema returns the schema of a conformance case's directory: the
// same dir gives the same schema (reopening after Close), another dir an
// empty schema of its own until t ends.
func caseSchema(t *testing.T, dir string) string {
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if name, ok := dirSchema[dir]; ok {
		return name
	}
	var name string
	if n := len(freeSchema); n > 0 {
		name, freeSchema = freeSchema[n-1], freeSchema[:n-1]
	} else {
		name = newSchema("case")
	}
	dirSchema[dir] = name
	// Registered before the case's stores register their Close, so it
	// runs after them.
	t.Cleanup(func() {
		schemaMu.Lock()
		delete(dirSchema, dir)
		schemaMu.Unlock()
		if err := emptySchema(name); err != nil {
			t.Logf("pgstore: empty schema %s for reuse: %v", name, err)
			return
		}
		schemaMu.Lock()
		freeSchema = append(freeSchema, name)
		schemaMu.Unlock()
	})
	return name
}

// emptySchema deletes every row of the store's tables in schema.
func emptySchema(schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := sharedPool.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_migrations'", schema)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	var sql strings.Builder
	for _, tbl := range tables {
		sql.WriteString("DELETE FROM " + pgx.Identifier{schema, tbl}.Sanitize() + ";")
	}
	_, err = sharedPool.Exec(ctx, sql.String())
	return err
}

func registerSchema(name string) {
	if !external {
		return // the throwaway server goes away whole
	}
	schemasMu.Lock()
	defer schemasMu.Unlock()
	if !slices.Contains(schemas, name) {
		schemas = append(schemas, name)
	}
}

func dropSchemas() {
	schemasMu.Lock()
	defer schemasMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, name := range schemas {
		if _, err := sharedPool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "pgstore: drop schema %s: %v\n", name, err)
		}
	}
}

func redact(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "the DSN"
	}
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s", cfg.Host, cfg.Port, cfg.User, cfg.Database)
}

// --- throwaway server ------------------------------------------------------------

// findPostgres returns the directory of the initdb and postgres binaries,
// or "" and why not.
func findPostgres() (dir, reason string) {
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, ""
		}
	}
	// Debian and Ubuntu keep them off PATH, one directory per version.
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return pgVersion(b) - pgVersion(a) }) // newest first
	for _, d := range dirs {
		_, err1 := os.Stat(filepath.Join(d, "initdb"))
		_, err2 := os.Stat(filepath.Join(d, "postgres"))
		if err1 == nil && err2 == nil {
			return d, ""
		}
	}
	return "", "no initdb/postgres on PATH or under /usr/lib/postgresql/*/bin"
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

type server struct {
	dir  string
	dsn  string
	cmd  *exec.Cmd
	done chan struct{}
}

// startServer runs initdb and postgres in a new temporary directory. The
// server listens on a unix socket in that directory only, trusts local
// connections and does not fsync (it is thrown away).
func startServer(binDir string) (_ *server, err error) {
	dir, err := os.MkdirTemp("", "pgstore-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, and initdb refuses root: need the system user \"postgres\" to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	data := filepath.Join(dir, "data")
	env := []string{"LC_ALL=C", "LANG=C", "PATH=" + os.Getenv("PATH"), "TZ=UTC"}

	initdb := exec.Command(filepath.Join(binDir, "initdb"), "-D", data, "-U", "licensekit",
		"-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.Env = env
	initdb.Dir = dir
	initdb.SysProcAttr = procAttr(cred, false)
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}

	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	if cred != nil {
		_ = logFile.Chown(int(cred.Uid), int(cred.Gid))
	}
	cmd := exec.Command(filepath.Join(binDir, "postgres"), "-D", data, "-p", "5432",
		"-c", "listen_addresses=",
		"-c", "unix_socket_directories="+dir,
		"-c", "max_connections=300",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
	)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = procAttr(cred, true)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &server{dir: dir, cmd: cmd, done: make(chan struct{}),
		dsn: fmt.Sprintf("host=%s port=5432 user=licensekit dbname=postgres sslmode=disable", dir)}
	go func() { _ = cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, cerr := pgx.Connect(ctx, s.dsn)
		cancel()
		if cerr == nil {
			_ = conn.Close(context.Background())
			return s, nil
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			return nil, fmt.Errorf("postgres exited at start:\n%s", log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			return nil, fmt.Errorf("postgres did not accept connections within a minute: %v\n%s", cerr, log)
		}
	}
}

// stop shuts the server down (fast shutdown, then kill) and removes its
// directory.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	if err := os.RemoveAll(s.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "pgstore: remove %s: %v\n", s.dir, err)
	}
}
