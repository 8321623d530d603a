package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/internal/basictest"
	"github.com/wugsync/wugsync/store/internal/pgtest"
	"github.com/wugsync/wugsync/store/postgres"
)

// openSchema opens the store in schema of the test server.
func openSchema(ctx context.Context, schema string) (store.Store, error) {
	return postgres.Open(ctx, os.Getenv(pgtest.EnvDSN), postgres.WithSchema(schema), postgres.WithMaxConns(4))
}

func newStore(t *testing.T) store.Store {
	t.Helper()
	s, err := openSchema(context.Background(), pgtest.Schema(t))
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
