package export

import (
	"context"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/sqlite"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// The crash child runs one export against the parent's fake WUG and a
// SQLite file, and is killed by the parent at a random moment.
const (
	crashEnvChild = "WUGSYNC_CRASH_CHILD"
	crashEnvURL   = "WUGSYNC_CRASH_WUG_URL"
	crashEnvCA    = "WUGSYNC_CRASH_WUG_CA"
	crashEnvStore = "WUGSYNC_CRASH_STORE"
	crashEnvN     = "WUGSYNC_CRASH_DEVICES"
)

// TestCrashChild is the child process of TestCrashResume; it does nothing
// in a normal test run.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashEnvChild) != "1" {
		t.Skip("runs only as the child of TestCrashResume")
	}
	n, _ := strconv.Atoi(os.Getenv(crashEnvN))
	ctx := context.Background()
	c, err := wug.NewClient(os.Getenv(crashEnvURL), wug.WithCredentials(wugtest.DefaultUser, wugtest.DefaultPassword),
		wug.WithCAFile(os.Getenv(crashEnvCA)), wug.WithRateLimit(0, 0), wug.WithRetry(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, os.Getenv(crashEnvStore))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tr := testTransformer(t)
	job := &exportJob{Connection: connSettings{Name: "crash", Settings: Settings{BatchSize: 25}}, Source: &fakeSource{devs: testDevices(n)},
		WUG: newWUGAPI(c, wugOptions{}), Store: st, Transformer: tr}
	res, err := job.Run(ctx, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.Failed != 0 {
		t.Fatalf("child run: %+v", res.Counts)
	}
}

// TestCrashResume kills an export (a child process) with SIGKILL ten
// times, restarting it each time. Each kill is triggered by the fake WUG
// applying the child's Nth template batch, before it answers, so the kill
// always lands mid-work with a request in flight. Afterwards WUG holds each
// device exactly once and the store agrees with WUG.
func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes; skipped with -short")
	}
	t.Parallel()
	const n = 1500
	var (
		applies atomic.Int32               // template applies WUG made for the current child
		killAt  atomic.Int32               // kill the current child at this apply
		current atomic.Pointer[os.Process] // the current child
		killed  = make(chan int, 1)        // WUG's device count at a kill
	)
	srv := wugtest.NewServer(t)
	// The kill comes from WUG's side: after the fake applied the child's
	// Nth template batch and before it answers.
	srv.Observe(routeTemplate, func(int) {
		if applies.Add(1) != killAt.Load() {
			return
		}
		if p := current.Load(); p != nil {
			devs := srv.DeviceCount()
			if p.Signal(syscall.SIGKILL) == nil {
				killed <- devs
			}
		}
	})
	srv.SetLatency(time.Millisecond, 4*time.Millisecond)
	dir := t.TempDir()
	ca := filepath.Join(dir, "wug-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "crash.db")
	env := append(os.Environ(), crashEnvChild+"=1", crashEnvURL+"="+srv.URL, crashEnvCA+"="+ca,
		crashEnvStore+"="+dbPath, crashEnvN+"="+strconv.Itoa(n))
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = env
		return cmd
	}

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	kills, midWork := 0, 0 // kills, and those with adds left after the batch in flight
	for i := range 10 {
		cmd := child()
		out := &cappedBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		applies.Store(0)
		at := int32(1 + rng.IntN(8))
		killAt.Store(at)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		current.Store(cmd.Process)
		err := cmd.Wait()
		current.Store(nil)
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			if err != nil {
				t.Fatalf("run %d failed before its kill: %v\n%s", i, err, out)
			}
			t.Logf("run %d finished before WUG's apply %d", i, at)
			continue
		}
		select {
		case devs := <-killed:
			kills++
			if devs < n { // more to add after this batch
				midWork++
			}
			t.Logf("run %d killed at WUG's apply %d; WUG holds %d devices", i, at, devs)
		case <-time.After(10 * time.Second):
			t.Fatalf("run %d died of a signal WUG's side did not send: %v\n%s", i, err, out)
		}
	}
	if midWork == 0 {
		t.Fatalf("no run was killed mid-work (%d killed at their last batch)", kills)
	}
	// The last run finishes the job.
	cmd := child()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}

	st, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	linked := map[string]store.Key{}
	for r, err := range st.Records(context.Background(), store.Query{Connection: "crash"}) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != store.StatusExported {
			t.Errorf("record %s left %s (%s)", r.Key, r.Status, r.LastError)
			continue
		}
		d, ok := srv.Device(r.WUGDeviceID)
		if !ok || d.Address != r.Address.String() {
			t.Errorf("record %s names WUG device %q, which does not hold the address", r.Key, r.WUGDeviceID)
		}
		if other, dup := linked[r.WUGDeviceID]; dup {
			t.Errorf("WUG device %s is linked to %s and %s", r.WUGDeviceID, other, r.Key)
		}
		linked[r.WUGDeviceID] = r.Key
	}
	perAddr := map[string]int{}
	for _, d := range srv.Devices() {
		perAddr[d.Address]++
		if _, ok := linked[d.ID]; !ok {
			t.Errorf("WUG device %s (%s) is not in the store", d.ID, d.Address)
		}
	}
	for addr, c := range perAddr {
		if c != 1 {
			t.Errorf("WUG holds %d devices for %s", c, addr)
		}
	}
	if len(perAddr) != n || len(linked) != n {
		t.Errorf("WUG holds %d addresses and the store links %d devices, want %d each", len(perAddr), len(linked), n)
	}
	t.Logf("%d kills, %d with adds left; WUG holds %d devices", kills, midWork, srv.DeviceCount())
}

// cappedBuffer keeps the first 64 KiB a child writes.
type cappedBuffer struct{ b []byte }

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (c *cappedBuffer) String() string { return fmt.Sprintf("%s", c.b) }
