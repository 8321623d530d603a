package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/wugsync/wugsync/store/storetest"
)

// TestUpgradeFromVersion2 builds a file with the migrations up to 0002,
// writes records the way that version wrote them, and opens the file with
// this build: the old records read back intact, the new fields zero, and
// the new fields can be written.
func TestUpgradeFromVersion2(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wugsync.db")
	w, err := sql.Open("sqlite", path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	old := &Store{w: w}
	old.core = core{DB: db{old}, D: dialect}
	if err := old.migrate(ctx, migrations[:2]); err != nil {
		t.Fatal(err)
	}
	recs := storetest.UpgradeRecords("wug-a", 40)
	for _, r := range recs {
		if _, err := w.Exec(`INSERT INTO records (connection, vrf, address, object_kind, object_id, object_name, status, reason,
			wug_device_id, scan_id, scan_state, scan_discovered, fingerprint, attempts, last_error,
			created_at, updated_at, exported_at, scan_triggered_at, scan_completed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Connection, r.VRF, r.Address.String(), string(r.ObjectKind), r.ObjectID, r.ObjectName, string(r.Status), string(r.Reason),
			r.WUGDeviceID, r.ScanID, r.ScanState, r.ScanDiscovered, r.Fingerprint, r.Attempts, r.LastError,
			r.CreatedAt.UnixMicro(), r.UpdatedAt.UnixMicro(), micros(r.ExportedAt), micros(r.ScanTriggeredAt), micros(r.ScanCompletedAt)); err != nil {
			t.Fatalf("insert %s the version-2 way: %v", r.Key, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open a version-2 file: %v", err)
	}
	defer s.Close()
	var v int
	if err := s.r.QueryRow(`SELECT max(version) FROM schema_version`).Scan(&v); err != nil || v != SchemaVersion() || v < 3 {
		t.Fatalf("schema version after open: %d, %v; want %d (at least 3)", v, err, SchemaVersion())
	}
	storetest.CheckUpgraded(t, s, recs)
}

// micros is a time as schema version 2 kept it: microseconds since the
// epoch, NULL for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}
