package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/internal/sqltest"
	"github.com/wugsync/wugsync/store/storetest"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wugsync.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// queryPlan returns the EXPLAIN QUERY PLAN details of query, one per line.
func queryPlan(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestQueryPlan shows that a status page (first and later pages) and the
// counts by status are range scans of records_by_status, with no sort, and
// that no query reads the table itself for the counts.
func TestQueryPlan(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	var recs []store.Record
	for i := range 2000 {
		recs = append(recs, store.Record{
			Key:    store.Key{Connection: fmt.Sprintf("c%d", i%4), Address: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})},
			Status: store.Statuses[i%len(store.Statuses)],
		})
	}
	if err := s.UpsertRecords(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec("ANALYZE"); err != nil {
		t.Fatal(err)
	}
	after := store.Key{Connection: "c1", Address: netip.MustParseAddr("10.0.1.1")}
	for _, tc := range []struct {
		name  string
		query string
		args  []any
		want  string
	}{
		{"first status page", "", nil, "SEARCH records USING INDEX records_by_status (connection=? AND status=?)"},
		{"next status page", "", nil, "SEARCH records USING INDEX records_by_status (connection=? AND status=? AND (vrf,address)>(?,?))"},
		{"counts by status", dialect.CountByStatus, []any{"c1"}, "SEARCH records USING COVERING INDEX records_by_status (connection=? AND status=?)"},
	} {
		q := store.Query{Connection: "c1", Statuses: []store.Status{store.StatusError}}
		if tc.name == "next status page" {
			q.After = &after
		}
		if tc.query == "" {
			tc.query, tc.args = dialect.PageQuery(q)
		}
		sqltest.CheckPlan(t, tc.name, tc.query, queryPlan(t, s.r, tc.query, tc.args...), tc.want,
			map[string]string{"TEMP B-TREE": "sorts", "SCAN records": "scans the whole table or an index of it"})
	}
}

func TestNewerSchema(t *testing.T) {
	t.Parallel()
	s, path := openTemp(t)
	if _, err := s.w.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future.sql', 0)`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	storetest.CheckNewerSchema(t, opener(path), SchemaVersion(), path)
}

// opener opens the file at path.
func opener(path string) storetest.Opener {
	return func(ctx context.Context) (store.Store, error) { return Open(ctx, path) }
}

// TestOpenTogether opens one new file from several goroutines at once:
// each Open succeeds and the schema is migrated once.
func TestOpenTogether(t *testing.T) {
	t.Parallel()
	stores := storetest.OpenTogether(t, 4, opener(filepath.Join(t.TempDir(), "wugsync.db")))
	s := stores[0].(*Store)
	sqltest.CheckSchemaVersion(t, s.core.DB, SchemaVersion())
	var mode string
	if err := s.r.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q, %v; want wal", mode, err)
	}
}

func TestOpenBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		path string
		opts []Option
		want string
	}{
		{"", nil, "path is empty"},
		{":memory:", nil, "plain file path"},
		{"file:x.db?mode=memory", nil, "plain file path"},
		{filepath.Join(dir, "x.db"), []Option{WithReaders(0)}, "at least one"},
		{filepath.Join(dir, "missing", "x.db"), nil, filepath.Join(dir, "missing", "x.db")},
	} {
		_, err := Open(context.Background(), tc.path, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q): err %v, want one containing %q", tc.path, err, tc.want)
		}
	}
}

// TestSynchronous shows the durability setting each option gives the
// writer connection: NORMAL (1) by default, FULL (2) on request.
func TestSynchronous(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts []Option
		want int
	}{{nil, 1}, {[]Option{WithSynchronousFull()}, 2}} {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "wugsync.db"), tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := s.w.QueryRow(`PRAGMA synchronous`).Scan(&got); err != nil || got != tc.want {
			t.Errorf("synchronous = %d, %v; want %d", got, err, tc.want)
		}
		s.Close()
	}
}
