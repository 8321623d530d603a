package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wugsync/wugsync/store/internal/pgtest"
	"github.com/wugsync/wugsync/store/storetest"
)

// TestUpgradeFromVersion2 builds a schema with the migrations up to 0002,
// writes records the way that version wrote them, and opens the schema
// with this build: the old records read back intact, the new fields zero,
// and the new fields can be written.
func TestUpgradeFromVersion2(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := pgtest.Schema(t)
	cfg, err := pgxpool.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, pool, schema, migrations[:2]); err != nil {
		pool.Close()
		t.Fatal(err)
	}
	recs := storetest.UpgradeRecords("wug-a", 40)
	for _, r := range recs {
		if _, err := pool.Exec(ctx, `INSERT INTO records (connection, vrf, address, object_kind, object_id, object_name, status, reason,
			wug_device_id, scan_id, scan_state, scan_discovered, fingerprint, attempts, last_error,
			created_at, updated_at, exported_at, scan_triggered_at, scan_completed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
			r.Connection, r.VRF, r.Address.String(), string(r.ObjectKind), r.ObjectID, r.ObjectName, string(r.Status), string(r.Reason),
			r.WUGDeviceID, r.ScanID, r.ScanState, r.ScanDiscovered, r.Fingerprint, r.Attempts, r.LastError,
			r.CreatedAt, r.UpdatedAt, ts(r.ExportedAt), ts(r.ScanTriggeredAt), ts(r.ScanCompletedAt)); err != nil {
			pool.Close()
			t.Fatalf("insert %s the version-2 way: %v", r.Key, err)
		}
	}
	pool.Close()

	s, err := Open(ctx, pgtest.DSN(t), WithSchema(schema), WithMaxConns(2))
	if err != nil {
		t.Fatalf("open a version-2 schema: %v", err)
	}
	defer s.Close()
	var v int
	if err := s.pool.QueryRow(ctx, `SELECT max(version) FROM schema_version`).Scan(&v); err != nil || v != SchemaVersion() || v < 3 {
		t.Fatalf("schema version after open: %d, %v; want %d (at least 3)", v, err, SchemaVersion())
	}
	storetest.CheckUpgraded(t, s, recs)
}

// ts is a time as schema version 2 bound it: NULL for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
