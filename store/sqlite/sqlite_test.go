package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/internal/basictest"
	"github.com/wugsync/wugsync/store/sqlite"
)

func newStore(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "wugsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBasics(t *testing.T) {
	t.Parallel()
	basictest.Run(t, newStore)
}
