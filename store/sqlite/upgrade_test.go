package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/wugsync/wugsync/store/internal/sqltest"
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
	sqltest.InsertVersion2(t, old.core.DB, dialect.Placeholder, func(t time.Time) any { return t.UnixMicro() }, recs)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open a version-2 file: %v", err)
	}
	defer s.Close()
	sqltest.CheckUpgraded(t, s, s.core.DB, SchemaVersion(), recs)
}
