package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wugsync/wugsync/store"
)

// Opener opens a Store on a backend's database, as a backend's Open does.
type Opener func(ctx context.Context) (store.Store, error)

// CheckNewerSchema is for a backend's own tests: open opens a database
// whose recorded schema version is one beyond version, the newest this
// build knows. Opening must fail with an error wrapping
// store.ErrNewerSchema that names both versions and where (the file or
// schema).
func CheckNewerSchema(t *testing.T, open Opener, version int, where string) {
	t.Helper()
	st, err := open(t.Context())
	if err == nil {
		st.Close()
		t.Fatalf("open a schema of version %d: no error", version+1)
	}
	if !errors.Is(err, store.ErrNewerSchema) {
		t.Fatalf("open newer schema: err %v, want ErrNewerSchema", err)
	}
	want := fmt.Sprintf("database schema version %d, this build knows versions 1 to %d", version+1, version)
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), where) {
		t.Errorf("error %q does not name %s and the versions (%q)", err, where, want)
	}
}

// OpenTogether is for a backend's own tests: it opens n stores on one new
// database from as many goroutines at once, as processes or replicas
// starting together would. Every open must succeed; the stores are closed
// when the test ends.
func OpenTogether(t *testing.T, n int, open Opener) []store.Store {
	t.Helper()
	var wg sync.WaitGroup
	stores := make([]store.Store, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = open(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			t.Cleanup(func() {
				if err := stores[i].Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d of %d: %v", i+1, n, err)
		}
	}
	return stores
}
