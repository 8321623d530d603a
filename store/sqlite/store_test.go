package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/sqlite"
	"github.com/wugsync/wugsync/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.RunWithOptions(t, storetest.Options{
		Backend: func(t *testing.T) func() store.Store {
			path := filepath.Join(t.TempDir(), "state.db")
			return func() store.Store { return open(t, path) }
		},
	})
}

// open opens the store in the file at path; the caller closes it.
func open(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
