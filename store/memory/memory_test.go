package memory_test

import (
	"testing"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/memory"
	"github.com/wugsync/wugsync/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.RunWithOptions(t, storetest.Options{
		New: func(*testing.T) store.Store { return memory.New() },
		Backend: func(*testing.T) func() store.Store {
			s := memory.New()
			return func() store.Store { return s.Connect() }
		},
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(*testing.B) store.Store { return memory.New() })
}
