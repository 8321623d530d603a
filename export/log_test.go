package export

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
)

// strictHandler is a slog handler that fails the test when a line carries
// a key twice (its own attributes and those the logger was given With),
// and remembers the messages it saw.
type strictHandler struct {
	t     testing.TB
	attrs []string // keys given With, group-qualified
	group string
	mu    *sync.Mutex
	msgs  *[]string
}

func newStrictLogger(t testing.TB) (*slog.Logger, func() []string) {
	h := &strictHandler{t: t, mu: &sync.Mutex{}, msgs: new([]string)}
	return slog.New(h), func() []string {
		h.mu.Lock()
		defer h.mu.Unlock()
		return slices.Clone(*h.msgs)
	}
}

func (h *strictHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *strictHandler) Handle(_ context.Context, r slog.Record) error {
	keys := slices.Clone(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		keys = append(keys, h.group+a.Key)
		return true
	})
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			h.t.Errorf("log line %q carries key %q twice (keys %v)", r.Message, k, keys)
		}
		seen[k] = true
	}
	h.mu.Lock()
	*h.msgs = append(*h.msgs, r.Message)
	h.mu.Unlock()
	return nil
}

func (h *strictHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = slices.Clone(h.attrs)
	for _, a := range as {
		c.attrs = append(c.attrs, h.group+a.Key)
	}
	return &c
}

func (h *strictHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.group = h.group + name + "."
	return &c
}

// failingOutcomes is a store that records items as pending but fails
// every other record write.
type failingOutcomes struct{ store.Store }

func (s failingOutcomes) UpsertRecords(ctx context.Context, recs []store.Record) error {
	for _, r := range recs {
		if r.Status != store.StatusPending {
			return errors.New("disk full")
		}
	}
	return s.Store.UpsertRecords(ctx, recs)
}

// The job's warnings name the connection once when the logger already
// carries it, as the service's and the scheduler's do.
func TestExportLogLinesCarryEachKeyOnce(t *testing.T) {
	t.Parallel()
	e := newJobEnv(t, 10)
	e.src.set(5, func(d *netbox.Device) { d.PrimaryIPv4.Address = netip.MustParsePrefix("127.0.0.1/8") })
	log, msgs := newStrictLogger(t)
	e.job.Logger = log.With("connection", e.job.Connection.Name)
	e.job.Store = failingOutcomes{e.st}
	if _, err := e.job.Run(context.Background(), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(msgs(), "\n")
	for _, want := range []string{"recording skipped addresses failed", "recording outcomes failed"} {
		if !strings.Contains(got, want) {
			t.Errorf("no log line %q among:\n%s", want, got)
		}
	}
}
