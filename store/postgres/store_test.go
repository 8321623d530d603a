package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/internal/pgtest"
	"github.com/wugsync/wugsync/store/postgres"
	"github.com/wugsync/wugsync/store/storetest"
)

func TestStore(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunWithOptions(t, storetest.Options{
		Backend: func(t *testing.T) func() store.Store {
			schema := pgtest.Schema(t)
			return func() store.Store { return open(t, schema) }
		},
	})
}

// openSchema opens the store in schema of the test server.
func openSchema(ctx context.Context, schema string) (store.Store, error) {
	return postgres.Open(ctx, os.Getenv(pgtest.EnvDSN), postgres.WithSchema(schema), postgres.WithMaxConns(4))
}

// open opens the store in schema; the caller closes it.
func open(t *testing.T, schema string) store.Store {
	t.Helper()
	s, err := openSchema(t.Context(), schema)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
