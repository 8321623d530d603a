package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wugsync/wugsync/store/internal/pgtest"
	"github.com/wugsync/wugsync/store/internal/sqltest"
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
	t.Cleanup(pool.Close)
	if err := migrate(ctx, pool, schema, migrations[:2]); err != nil {
		t.Fatal(err)
	}
	recs := storetest.UpgradeRecords("wug-a", 40)
	sqltest.InsertVersion2(t, db{pool}, dialect.Placeholder, func(t time.Time) any { return t }, recs)
	pool.Close()

	s, err := Open(ctx, pgtest.DSN(t), WithSchema(schema), WithMaxConns(2))
	if err != nil {
		t.Fatalf("open a version-2 schema: %v", err)
	}
	defer s.Close()
	sqltest.CheckUpgraded(t, s, s.core.DB, SchemaVersion(), recs)
}
