package postgres

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/internal/pgtest"
	"github.com/wugsync/wugsync/store/internal/sqltest"
	"github.com/wugsync/wugsync/store/storetest"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	schema := pgtest.Schema(t)
	s, err := Open(context.Background(), pgtest.DSN(t), WithSchema(schema), WithMaxConns(4))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, schema
}

// TestQueryPlan shows that a status page, first or later, is an index scan
// of records_by_status in key order (no sort) once the table holds enough
// rows for the planner to weigh its choices: 20,000 rows in 4 connections
// and 6 statuses, analysed, so one status of one connection is 1/24 of the
// table and a page of 500 is a small part of that.
func TestQueryPlan(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	ctx := context.Background()
	var recs []store.Record
	for i := range 20000 {
		recs = append(recs, store.Record{
			Key:    store.Key{Connection: fmt.Sprintf("c%d", i%4), Address: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})},
			Status: store.Statuses[(i/4)%len(store.Statuses)],
		})
	}
	if err := s.UpsertRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE records"); err != nil {
		t.Fatal(err)
	}
	after := store.Key{Connection: "c1", Address: netip.MustParseAddr("10.0.1.1")}
	for _, tc := range []struct {
		name  string
		after *store.Key
	}{{"first status page", nil}, {"next status page", &after}} {
		query, args := dialect.PageQuery(store.Query{Connection: "c1", Statuses: []store.Status{store.StatusError}, After: tc.after})
		rows, err := s.pool.Query(ctx, "EXPLAIN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		sqltest.CheckPlan(t, tc.name, query, strings.Join(lines, "\n"), "Index Scan using records_by_status on records",
			map[string]string{"Sort": "sorts"})
	}
}

func TestNewerSchema(t *testing.T) {
	t.Parallel()
	s, schema := openTemp(t)
	if _, err := s.pool.Exec(context.Background(), `INSERT INTO schema_version (version, name) VALUES ($1, 'future.sql')`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	storetest.CheckNewerSchema(t, opener(t, schema), SchemaVersion(), schema)
}

// opener opens the store in schema of the test server, with a small pool.
func opener(t *testing.T, schema string) storetest.Opener {
	return func(ctx context.Context) (store.Store, error) {
		return Open(ctx, pgtest.DSN(t), WithSchema(schema), WithMaxConns(2))
	}
}

// TestMigrateTogether opens one new schema from several pools at once, as
// replicas starting together would: the advisory lock lets one migrate and
// the others find the schema current.
func TestMigrateTogether(t *testing.T) {
	t.Parallel()
	stores := storetest.OpenTogether(t, 6, opener(t, pgtest.Schema(t)))
	sqltest.CheckSchemaVersion(t, stores[0].(*Store).core.DB, SchemaVersion())
}

// TestSchemaNameQuoted opens a store in a schema whose name needs quoting:
// the schema is created, and the tables land in it.
func TestSchemaNameQuoted(t *testing.T) {
	t.Parallel()
	name := pgtest.Schema(t) + ` Mixed-"Case"`
	pgtest.DropAtEnd(t, name)
	s, err := Open(context.Background(), pgtest.DSN(t), WithSchema(name))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got string
	if err := s.pool.QueryRow(context.Background(), `SELECT table_schema FROM information_schema.tables WHERE table_name = 'records' AND table_schema = $1`, name).Scan(&got); err != nil {
		t.Fatalf("records table in schema %q: %v", name, err)
	}
}

func TestOpenBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dsn  string
		opts []Option
		want string
	}{
		{"postgres://u:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", nil, "127.0.0.1"},
		{"postgres://u:s3cret@127.0.0.1:1/db?sslmode=bogus", nil, "sslmode"},
		{"postgres://127.0.0.1/db", []Option{WithSchema("")}, "schema name"},
		{"postgres://127.0.0.1/db", []Option{WithMaxConns(0)}, "max conns"},
	} {
		_, err := Open(context.Background(), tc.dsn, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q): err %v, want one containing %q", tc.dsn, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): error shows the password: %v", tc.dsn, err)
		}
	}
}
