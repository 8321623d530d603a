package postgres_test

import (
	"context"
	"testing"

	"github.com/wugsync/wugsync/store/internal/pgtest"
	"github.com/wugsync/wugsync/store/internal/proctest"
)

// TestHelperProcess is the child process of TestCrash and
// TestLeaseAcrossProcesses; run on its own, it skips.
func TestHelperProcess(t *testing.T) { proctest.Child(t, openSchema) }

// prepared returns a fresh schema, migrated before the children start.
func prepared(t *testing.T) string {
	schema := pgtest.Schema(t)
	s, err := openSchema(context.Background(), schema)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	return schema
}

// TestCrash kills a writer process with SIGKILL at random moments (seeded):
// every batch it reported committed is there, and no batch is there in
// part.
func TestCrash(t *testing.T) {
	t.Parallel()
	proctest.Crash(t, prepared(t), openSchema, 3, 20261125, nil)
}

// TestLeaseAcrossProcesses has two processes contend for one lease, then
// kills the holder and waits for the other to take over after expiry.
func TestLeaseAcrossProcesses(t *testing.T) {
	t.Parallel()
	proctest.Leases(t, prepared(t), openSchema)
}
