package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/internal/proctest"
	"github.com/wugsync/wugsync/store/sqlite"
)

func openPath(ctx context.Context, path string) (store.Store, error) {
	return sqlite.Open(ctx, path)
}

// TestHelperProcess is the child process of TestCrash and
// TestLeaseAcrossProcesses; run on its own, it skips.
func TestHelperProcess(t *testing.T) { proctest.Child(t, openPath) }

// TestCrash kills a writer process with SIGKILL at random moments (seeded):
// every batch it reported committed is there, and the file passes
// PRAGMA integrity_check.
func TestCrash(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "crash.db")
	proctest.Crash(t, path, openPath, 3, 20261125, func(t *testing.T) {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var res string
		if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
			t.Fatalf("integrity_check: %q, %v", res, err)
		}
	})
}

// TestLeaseAcrossProcesses has two processes contend for one lease, then
// kills the holder and waits for the other to take over after expiry.
func TestLeaseAcrossProcesses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lease.db")
	s, err := sqlite.Open(context.Background(), path) // create the file before the children race to
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	proctest.Leases(t, path, openPath)
}
