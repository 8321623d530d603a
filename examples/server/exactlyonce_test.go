package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/postgres"
	"github.com/wugsync/wugsync/store/sqlite"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// These tests run the CLI (examples/export) and the service as processes
// on one store and one fake WUG, make their runs overlap or kill one
// mid-work, and end by checking that WUG holds one device per distinct
// address and that no record is left pending.

const (
	e2eDevices = 200
	e2eBatch   = 10 // small batches: a run adds for a second or so
)

// buildCLI builds examples/export into a temporary directory.
func buildCLI(t *testing.T) string {
	t.Helper()
	return goBuild(t, "../export", "wugsync-export")
}

// e2eStore is one store both programs use: how the CLI names it, how the
// service's configuration does, and how the test opens it.
type e2eStore struct {
	cli  string // --store
	yaml string // the service's store: section
	env  []string
	open func(t *testing.T) store.Store
}

func sqliteE2E(t *testing.T) e2eStore {
	path := filepath.Join(t.TempDir(), "wugsync.db")
	return e2eStore{cli: path, yaml: fmt.Sprintf("{sqlite_path: %q}", path), open: func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}}
}

func postgresE2E(t *testing.T) e2eStore {
	dsn, schema := postgresSchema(t)
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Exec(context.Background(), "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	c.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return e2eStore{cli: dsn + sep + "search_path=" + schema,
		yaml: fmt.Sprintf("{postgres_dsn: {env: PG_DSN}, postgres_schema: %q}", schema), env: []string{"PG_DSN=" + dsn},
		open: func(t *testing.T) store.Store {
			st, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema))
			if err != nil {
				t.Fatal(err)
			}
			return st
		}}
}

var e2eStores = []struct {
	name string
	make func(t *testing.T) e2eStore
}{{"sqlite", sqliteE2E}, {"postgres", postgresE2E}}

// e2eEnv is one scenario's fakes, store and programs.
type e2eEnv struct {
	nb     *netboxtest.Server
	wug    *wugtest.Server
	st     e2eStore
	cliBin string
	svcBin string
	cfg    string // the service's configuration file
}

func newE2EEnv(t *testing.T, st e2eStore, cliBin, svcBin string, leaseTTL time.Duration) *e2eEnv {
	e := &e2eEnv{nb: netboxtest.NewServer(t, netboxtest.WithDevices(e2eDevices)),
		wug: wugtest.NewServer(t, wugtest.WithPlainHTTP()), st: st, cliBin: cliBin, svcBin: svcBin}
	// Each request takes a while, so a run lasts long enough to overlap.
	e.wug.SetLatency(30*time.Millisecond, 50*time.Millisecond)
	e.cfg = filepath.Join(t.TempDir(), "wugsync.yaml")
	writeFile(t, e.cfg, fmt.Sprintf(`
listen: 127.0.0.1:0
api_token: {env: API_TOKEN}
lease_ttl_seconds: %g
netbox: {url: %q, token: {env: NB_TOKEN}}
store: %s
connections:
  - id: "1"
    name: main
    wug: {url: %q, username: %s, password: {env: WUG_PW}}
    export_interval_minutes: 100000
    batch_size: %d
`, leaseTTL.Seconds(), e.nb.URL, st.yaml, e.wug.URL, wugtest.DefaultUser, e2eBatch))
	return e
}

func (e *e2eEnv) startService(t *testing.T) *serverProcess {
	return startServer(t, e.svcBin, e.cfg, append([]string{"API_TOKEN=" + testToken, "NB_TOKEN=" + netboxtest.DefaultToken,
		"WUG_PW=" + wugtest.DefaultPassword}, e.st.env...))
}

// cliProcess is one run of the CLI.
type cliProcess struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
	code           int
}

func (e *e2eEnv) startCLI(t *testing.T, args ...string) *cliProcess {
	t.Helper()
	c := &cliProcess{done: make(chan struct{})}
	c.cmd = exec.Command(e.cliBin, append([]string{"--connection", "main", "--store", e.st.cli,
		"--batch-size", fmt.Sprint(e2eBatch)}, args...)...)
	c.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"NETBOX_URL=" + e.nb.URL, "NETBOX_TOKEN=" + netboxtest.DefaultToken,
		"WUG_URL=" + e.wug.URL, "WUG_USERNAME=" + wugtest.DefaultUser, "WUG_PASSWORD=" + wugtest.DefaultPassword}
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := c.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			c.code = ee.ExitCode()
		} else if err != nil {
			c.code = -1
		}
		close(c.done)
	}()
	killAtEnd(t, c.cmd, c.done)
	return c
}

// wait waits for the CLI to exit and returns its exit status.
func (c *cliProcess) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the CLI did not exit within 60s\nstderr:\n%s", c.stderr.String())
	}
	return c.code
}

func (c *cliProcess) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// waitOK waits for the CLI (named who in the failure) to exit and fails the
// test unless it exited with status 0.
func (c *cliProcess) waitOK(t *testing.T, who string) {
	t.Helper()
	if code := c.wait(t); code != 0 {
		t.Fatalf("%s: exit %d\nstderr:\n%s", who, code, c.stderr.String())
	}
}

// checkRefused waits for the CLI to exit and checks that it was refused
// because run runID of holder held the connection: the busy exit status and
// an error naming both.
func (c *cliProcess) checkRefused(t *testing.T, runID, holder string) {
	t.Helper()
	if code := c.wait(t); code != exitBusyStatus {
		t.Errorf("CLI during run %s: exit %d, want %d\nstderr:\n%s", runID, code, exitBusyStatus, c.stderr.String())
	}
	if msg := c.stderr.String(); !strings.Contains(msg, runID) || !strings.Contains(msg, holder) {
		t.Errorf("the CLI's error does not name run %s and holder %s:\n%s", runID, holder, msg)
	}
}

var runStartedRE = regexp.MustCompile(`run ([0-9a-f]+) started: .* lease holder (\S+)`)

// started waits until the CLI says its run started and returns the run id
// and its lease holder.
func (c *cliProcess) started(t *testing.T) (runID, holder string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := runStartedRE.FindStringSubmatch(c.stderr.String()); m != nil {
			return m[1], m[2]
		}
		if c.exited() || time.Now().After(deadline) {
			t.Fatalf("the CLI did not start a run (exit %d)\nstderr:\n%s", c.code, c.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// midWork waits until WUG has received some of a run's adds, and fails the
// test if the run has already ended (running reports whether it goes on).
// Then WUG slows down, so the rest of the run outlasts the start of
// another process on a loaded machine.
func (e *e2eEnv) midWork(t *testing.T, running func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for e.wug.DeviceCount() < 2*e2eBatch {
		if !running() || time.Now().After(deadline) {
			t.Fatalf("the first run ended (or stalled) before WUG saw %d adds: WUG holds %d devices", 2*e2eBatch, e.wug.DeviceCount())
		}
		time.Sleep(2 * time.Millisecond)
	}
	e.wug.SetLatency(150*time.Millisecond, 200*time.Millisecond)
}

// checkExactlyOnce: WUG holds one device per distinct exported address
// (connection, VRF and IP, the store's key: one IP in two VRFs is two
// addresses), each linked by exactly one record, and no record is pending.
func (e *e2eEnv) checkExactlyOnce(t *testing.T) {
	t.Helper()
	devs := e.wug.Devices()
	byID := map[string]string{} // WUG device id -> its address
	perIP := map[string]int{}
	for _, d := range devs {
		byID[d.ID] = d.Address
		perIP[d.Address]++
	}
	st := e.st.open(t)
	defer st.Close()
	keys, linked := map[store.Key]bool{}, map[string]int{}
	recsPerIP := map[string]int{}
	for r, err := range st.Records(context.Background(), store.Query{Connection: "main"}) {
		if err != nil {
			t.Fatal(err)
		}
		switch r.Status {
		case store.StatusPending:
			t.Errorf("record %s is still pending", r.Key)
		case store.StatusExported:
			keys[r.Key] = true
			recsPerIP[r.Address.String()]++
			linked[r.WUGDeviceID]++
			if byID[r.WUGDeviceID] != r.Address.String() {
				t.Errorf("record %s links WUG device %q, which WUG holds for %q", r.Key, r.WUGDeviceID, byID[r.WUGDeviceID])
			}
		}
	}
	for id, n := range linked {
		if n != 1 {
			t.Errorf("WUG device %s is linked by %d records", id, n)
		}
	}
	for ip, n := range perIP {
		if n != recsPerIP[ip] {
			t.Errorf("WUG holds %d devices for %s, the store exported it in %d VRFs", n, ip, recsPerIP[ip])
		}
	}
	if len(devs) != len(keys) || len(keys) < e2eDevices/2 {
		t.Errorf("WUG holds %d devices for %d distinct exported addresses", len(devs), len(keys))
	}
	t.Logf("WUG devices %d == distinct addresses %d (%d distinct IPs); no record pending", len(devs), len(keys), len(perIP))
}

// checkSerial: no two export runs of the connection overlapped in the
// store, however their processes did.
func (e *e2eEnv) checkSerial(t *testing.T) []store.Run {
	t.Helper()
	st := e.st.open(t)
	defer st.Close()
	runs, err := st.Runs(context.Background(), store.RunQuery{Connection: "main", Kind: store.RunExport, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range runs {
		for j := i + 1; j < len(runs); j++ {
			a, b := runs[i], runs[j]
			if a.Status == store.RunRunning || b.Status == store.RunRunning {
				t.Errorf("run %s or %s is still running", a.ID, b.ID)
				continue
			}
			if a.StartedAt.Before(b.FinishedAt) && b.StartedAt.Before(a.FinishedAt) {
				t.Errorf("runs %s (%s, %v..%v) and %s (%s, %v..%v) overlapped", a.ID, a.Lease.Holder, a.StartedAt, a.FinishedAt,
					b.ID, b.Lease.Holder, b.StartedAt, b.FinishedAt)
			}
		}
	}
	return runs
}

// TestOverlappingExports starts two exports of one connection together,
// on SQLite and on PostgreSQL: two CLI processes, a CLI during a service
// run, and a service trigger during a CLI run. The second is started while
// the first is mid-work (WUG has its first adds, the first has not
// exited), and is refused naming the first's run and lease holder, which
// only the holder of the lease at that moment can be; asked to wait, it
// runs after. WUG ends with one device per address.
func TestOverlappingExports(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the CLI and the service as processes")
	}
	cliBin, svcBin := buildCLI(t), buildServer(t)
	for _, sk := range e2eStores {
		// scenario runs body on a fresh environment on sk's store, and
		// then checks that the runs were serial and WUG holds one device
		// per address.
		scenario := func(name string, body func(t *testing.T, e *e2eEnv)) {
			t.Run(sk.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				e := newE2EEnv(t, sk.make(t), cliBin, svcBin, 10*time.Second)
				body(t, e)
				e.checkSerial(t)
				e.checkExactlyOnce(t)
			})
		}
		scenario("two CLIs", func(t *testing.T, e *e2eEnv) {
			first := e.startCLI(t)
			runID, holder := first.started(t)
			e.midWork(t, func() bool { return !first.exited() })

			refused := e.startCLI(t)
			waiter := e.startCLI(t, "--wait")
			refused.checkRefused(t, runID, holder)
			if first.exited() {
				t.Fatal("the first CLI ended before the second was refused: no overlap shown")
			}
			first.waitOK(t, "first CLI")
			waiter.waitOK(t, "waiting CLI")
			if msg := waiter.stderr.String(); !strings.Contains(msg, "waiting: ") || !strings.Contains(msg, runID) {
				t.Errorf("the waiting CLI did not wait for run %s:\n%s", runID, msg)
			}
			if out := waiter.stdout.String(); !strings.Contains(out, " added 0") {
				t.Errorf("the waiting CLI added devices after the first run:\n%s", out)
			}
		})

		scenario("CLI during a service run", func(t *testing.T, e *e2eEnv) {
			svc := e.startService(t)
			statusURL := svc.URL("/api/plugins/wug-sync/connections/1/export-status/")
			code, ans := doJSON(t, "POST", svc.URL("/api/plugins/wug-sync/connections/1/export/"), testToken, "")
			if code != http.StatusAccepted {
				t.Fatalf("trigger: %d %v", code, ans)
			}
			runID := ans["run_id"].(string)
			e.midWork(t, func() bool { _, st := doJSON(t, "GET", statusURL, testToken, ""); return st["in_progress"] == true })
			_, st := doJSON(t, "GET", statusURL, testToken, "")
			holder, _ := st["running_holder"].(string)
			if st["running_run_id"] != runID || holder == "" {
				t.Fatalf("status during the service's run: %v", st)
			}

			refused := e.startCLI(t)
			refused.checkRefused(t, runID, holder)
			if _, st := doJSON(t, "GET", statusURL, testToken, ""); st["in_progress"] != true {
				t.Fatal("the service's run ended before the CLI was refused: no overlap shown")
			}
			st = waitIdle(t, statusURL)
			if last := st["last_export"].(map[string]any); last["id"] != runID || last["status"] != "succeeded" {
				t.Errorf("service run after the CLI was refused: %v", last)
			}
		})

		scenario("service trigger during a CLI run", func(t *testing.T, e *e2eEnv) {
			svc := e.startService(t)
			first := e.startCLI(t)
			runID, holder := first.started(t)
			e.midWork(t, func() bool { return !first.exited() })

			code, ans := doJSON(t, "POST", svc.URL("/api/plugins/wug-sync/connections/main/export/"), testToken, "")
			if code != http.StatusConflict || ans["run_id"] != runID || ans["holder"] != holder {
				t.Errorf("trigger during CLI run %s of %s: %d %v, want 409 naming both", runID, holder, code, ans)
			}
			_, st := doJSON(t, "GET", svc.URL("/api/plugins/wug-sync/connections/1/export-status/"), testToken, "")
			if st["in_progress"] != true || st["running_run_id"] != runID || st["running_holder"] != holder {
				t.Errorf("status during the CLI's run: in_progress %v, run %v, holder %v; want %s of %s",
					st["in_progress"], st["running_run_id"], st["running_holder"], runID, holder)
			}
			if first.exited() {
				t.Fatal("the CLI ended before the trigger was refused: no overlap shown")
			}
			first.waitOK(t, "CLI")
			// Now the service may run: it finds nothing to add.
			code, ans = doJSON(t, "POST", svc.URL("/api/plugins/wug-sync/connections/main/export/"), testToken, "")
			if code != http.StatusAccepted {
				t.Fatalf("trigger after the CLI: %d %v", code, ans)
			}
			st = waitIdle(t, svc.URL("/api/plugins/wug-sync/connections/1/export-status/"))
			last := st["last_export"].(map[string]any)
			if added := last["counts"].(map[string]any)["added"]; last["status"] != "succeeded" || added != float64(0) {
				t.Errorf("service run after the CLI's: %v", last)
			}
		})
	}
}

// exitBusyStatus is the CLI's exit status when another run holds the
// connection.
const exitBusyStatus = 3

// TestServiceKilledMidRun kills the service with SIGKILL once the fake WUG
// has received part of a run's adds, restarts it, and checks that the dead
// run is shown interrupted (not running) from the first status answer on,
// that the leftovers are exported within one lease period of the restart
// without a trigger, and that WUG ends with one device per address.
func TestServiceKilledMidRun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the service as a process")
	}
	svcBin := buildServer(t)
	const leaseTTL = 30 * time.Second
	for _, sk := range e2eStores {
		t.Run(sk.name, func(t *testing.T) {
			t.Parallel()
			e := newE2EEnv(t, sk.make(t), "", svcBin, leaseTTL)
			svc := e.startService(t)
			code, ans := doJSON(t, "POST", svc.URL("/api/plugins/wug-sync/connections/1/export/"), testToken, "")
			if code != http.StatusAccepted {
				t.Fatalf("trigger: %d %v", code, ans)
			}
			dead := ans["run_id"].(string)
			// Kill once WUG has some of the adds, not by a timer.
			e.midWork(t, func() bool { return true })
			if err := svc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-svc.done
			time.Sleep(100 * time.Millisecond) // adds in flight at the kill land in WUG
			atKill := e.wug.DeviceCount()

			// The kill landed mid-work: the run is still recorded running,
			// and WUG lacks devices NetBox selects.
			st := e.st.open(t)
			run, err := st.Run(context.Background(), dead)
			counts, _ := st.CountByStatus(context.Background(), "main")
			st.Close()
			if err != nil || run.Status != store.RunRunning {
				t.Fatalf("killed run: %+v, %v; want it left running", run, err)
			}
			if atKill >= len(plainDevices(e.nb)) {
				t.Fatalf("WUG already holds %d devices at the kill: not mid-work", atKill)
			}
			t.Logf("killed the service mid-run: WUG holds %d devices; records %v", atKill, counts)

			restart := time.Now()
			svc2 := e.startService(t)
			statusURL := svc2.URL("/api/plugins/wug-sync/connections/1/export-status/")
			_, first := doJSON(t, "GET", statusURL, testToken, "")
			for _, r := range first["recent_runs"].([]any) {
				if r := r.(map[string]any); r["id"] == dead && r["status"] != "interrupted" {
					t.Errorf("first status after the restart shows the killed run %s as %v", dead, r["status"])
				}
			}
			if first["running_run_id"] == dead {
				t.Errorf("first status after the restart names the killed run as running: %v", first)
			}
			// The leftovers run at once, without a trigger.
			var last map[string]any
			for {
				_, st := doJSON(t, "GET", statusURL, testToken, "")
				last, _ = st["last_export"].(map[string]any)
				counts := st["counts"].(map[string]any)
				if st["in_progress"] == false && last != nil && last["id"] != dead && counts["pending"] == float64(0) {
					break
				}
				if time.Since(restart) > leaseTTL {
					t.Fatalf("the leftovers were not exported within one lease period (%v) of the restart: %v", leaseTTL, st)
				}
				time.Sleep(20 * time.Millisecond)
			}
			took := time.Since(restart)
			t.Logf("leftovers exported %v after the restart (lease period %v)", took.Round(time.Millisecond), leaseTTL)
			if last["status"] != "succeeded" || last["trigger"] != "schedule" {
				t.Errorf("recovery run: %v", last)
			}
			st = e.st.open(t)
			run, err = st.Run(context.Background(), dead)
			st.Close()
			if err != nil || run.Status != store.RunInterrupted || run.Error != store.OrphanedRunError {
				t.Errorf("killed run after the restart: %+v, %v; want interrupted", run, err)
			}
			e.checkSerial(t)
			e.checkExactlyOnce(t)
			svc2.Terminate()
			svc2.Wait()
		})
	}
}
