package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug"
)

// Connection is one export connection: a NetBox selection kept in step
// with one WUG server, recorded in a store. It runs exports, plans them
// (dry runs) and follows the discovery scans they start. Build one with
// New; it is safe for concurrent use, and its runs never overlap with
// another's of the same name sharing the store (they hold its lease).
type Connection struct {
	export *exportJob
	scans  *scanJob
}

// Option configures a Connection in New.
type Option func(*config) error

// config is what the options set before New assembles the Connection.
type config struct {
	name     string
	sel      netbox.Selector
	mapping  Mapping
	settings Settings
	log      *slog.Logger
	now      func() time.Time // tests' clock; nil means time.Now
	// writeBack is set by WithWriteBack.
	writeBack *WriteBack
}

// Settings tune how a Connection reaches WUG. The zero value means the
// defaults given on each field.
type Settings struct {
	// Scan has WUG discover new addresses by scan (newDevice, followed by
	// Connection.FollowScans) instead of adding them by template apply,
	// the default.
	Scan         bool
	ScanFallback bool // scan an address whose add failed
	// ScanRanges sends scanned addresses to WUG as address ranges,
	// sweeping a bounded number of addresses NetBox does not know to make
	// fewer, longer ranges; otherwise each newDevice request lists its
	// addresses. ScanOptions bound both; the zero value means 50 addresses
	// a request, up to 8 unknown addresses per IPv4 range and 2 per IPv6
	// range, 256 in total.
	ScanRanges  bool
	ScanOptions ScanOptions
	// WUGScan is sent with every newDevice scan; nil sends WUG's defaults.
	WUGScan *wug.ScanOptions
	// ScanTimeout is how long a scan may run before its addresses are
	// recorded as failed; default 1 hour.
	ScanTimeout time.Duration

	Removal        RemovalPolicy // RemoveKeep (default), RemoveMaintenance or RemoveDelete
	MaxRemoveShare float64       // share of our devices one run may remove; default 0.1
	// MaxMissingShare is the add guard: a run stops before any write when
	// WUG's listing lacks more than this share (and at least 5) of the
	// devices the store links; default 0.1.
	MaxMissingShare float64

	BatchSize   int // templates (or scan targets) per request; default wug.DefaultBatchSize
	Concurrency int // WUG requests in flight; default 2
}

// Validate reports the first setting that is not one of its documented
// values: an unknown removal policy, a share outside 0 to 1, or a
// negative size. New checks the settings with it.
func (s Settings) Validate() error {
	switch s.Removal {
	case "", RemoveKeep, RemoveMaintenance, RemoveDelete:
	default:
		return fmt.Errorf("removal %q: want %q, %q or %q", s.Removal, RemoveKeep, RemoveMaintenance, RemoveDelete)
	}
	for _, f := range []struct {
		name  string
		share float64
	}{{"max remove share", s.MaxRemoveShare}, {"max missing share", s.MaxMissingShare}} {
		if !(f.share >= 0 && f.share <= 1) {
			return fmt.Errorf("%s %v: want a share from 0 to 1", f.name, f.share)
		}
	}
	if s.BatchSize < 0 || s.Concurrency < 0 || s.ScanTimeout < 0 {
		return errors.New("batch size, concurrency and scan timeout must not be negative")
	}
	return nil
}

// WithName names the connection in the store (records, runs and its
// lease); the default is "default". Connections sharing a store need
// distinct names.
func WithName(name string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("connection name is empty")
		}
		c.name = name
		return nil
	}
}

// WithSelector says which NetBox objects and addresses the connection
// exports; the default selects every active device.
func WithSelector(sel netbox.Selector) Option {
	return func(c *config) error {
		if err := sel.Validate(); err != nil {
			return fmt.Errorf("selector: %w", err)
		}
		c.sel = sel
		return nil
	}
}

// WithMapping says how a NetBox object becomes a WUG device template; the
// zero Mapping, the default, means the defaults throughout.
func WithMapping(m Mapping) Option {
	return func(c *config) error { c.mapping = m; return nil }
}

// WithSettings tunes how the connection reaches WUG; settings that
// Validate refuses are an error.
func WithSettings(s Settings) Option {
	return func(c *config) error {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("settings: %w", err)
		}
		c.settings = s
		return nil
	}
}

// WithLogger receives the runs' warnings, each with the connection's name;
// the default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.log = l; return nil }
}

// withClock sets the clock runs read; tests use it.
func withClock(now func() time.Time) Option {
	return func(c *config) error { c.now = now; return nil }
}

// New returns a Connection that reads NetBox through nb, writes WUG through
// w and records what it does in st. It checks the options and compiles the
// mapping, reporting a bad one here; it does no network I/O.
func New(nb *netbox.Client, w *wug.Client, st store.Store, opts ...Option) (*Connection, error) {
	if nb == nil || w == nil {
		return nil, errors.New("export: New needs a NetBox and a WUG client")
	}
	return newConnection(nb, func(s Settings) wugAPI { return newWUGAPI(w, wugOptions{ScanOptions: s.WUGScan}) }, st, opts...)
}

// newConnection is New's seam: tests hand in fake servers.
func newConnection(src netBoxSource, mkWUG func(Settings) wugAPI, st store.Store, opts ...Option) (*Connection, error) {
	if st == nil {
		return nil, errors.New("export: New needs a store")
	}
	c := config{name: "default"}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
	}
	tr, err := newTransformer(c.mapping)
	if err != nil {
		return nil, err
	}
	log := c.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("connection", c.name)
	s := c.settings
	api := mkWUG(s)
	e := &Connection{
		export: &exportJob{
			Connection: connSettings{Name: c.name, Selector: c.sel, Settings: s},
			Source:     src, WUG: api, Store: st, Transformer: tr, Logger: log, Now: c.now, WriteBack: c.writeBack,
		},
		scans: &scanJob{Connection: c.name, WUG: api, Store: st, Source: src, Selector: c.sel,
			Transformer: tr, Timeout: s.ScanTimeout, Logger: log, Now: c.now},
	}
	if err := e.export.check(); err != nil {
		return nil, err
	}
	if _, ok := src.(netBoxWriter); c.writeBack != nil && !ok {
		return nil, errors.New("export: write-back needs a NetBox source that writes")
	}
	return e, nil
}

// Name returns the connection's name.
func (c *Connection) Name() string { return c.export.Connection.Name }

// Run runs one export: it reads WUG's device listing once, streams the
// NetBox selection through the planner, applies the decisions in batches
// and records every item. It holds the connection's store lease from
// before the run is recorded until it ends; while another holder has it,
// Run fails with a *RunInProgressError, or waits with opts.Wait. A
// cancelled context, or a lost lease (ErrLeaseLost), ends the run as
// interrupted, with every item either recorded or left pending for the
// next run to resolve. The error is non-nil only when the run itself
// failed; item failures are in the result.
func (c *Connection) Run(ctx context.Context, opts RunOptions) (*Result, error) {
	opts.dryRun = false
	return c.export.Run(ctx, opts)
}

// Plan is a dry run: it plans the export Run would do and returns it in
// the result's Plan, counting each decision as if it had been applied. It
// writes nothing to WUG or the store and takes no lease.
func (c *Connection) Plan(ctx context.Context, opts RunOptions) (*Result, error) {
	opts.dryRun = true
	return c.export.Run(ctx, opts)
}

// FollowScans follows, once, the discovery scans the connection's runs
// started: a finished scan's device is linked (by the scan's own results,
// then by exact address) and gets its NetBox metadata, and a scan that
// never finishes is recorded as failed after Settings.ScanTimeout. It holds
// the connection's store lease, as Run does. Of opts it reads Trigger
// (default manual) and Wait.
func (c *Connection) FollowScans(ctx context.Context, opts RunOptions) (*ScanResult, error) {
	j := *c.scans
	j.Lease.Wait = j.Lease.Wait || opts.Wait
	return j.Run(ctx, opts.Trigger)
}

// followsScans reports whether the connection starts scans, so a
// Scheduler follows them.
func (c *Connection) followsScans() bool {
	return c.export.Connection.Scan || c.export.Connection.ScanFallback
}

// Schedule is one Connection a Scheduler runs, and when.
type Schedule struct {
	Connection *Connection // required

	Interval time.Duration // between exports; default 180 minutes
	Jitter   time.Duration // random delay added to each export; default Interval/10
	// ScanInterval is the time between two checks of the scans the
	// connection started (when its Settings add by scan or fall back to
	// one), and between two refreshes of the WUG states written back
	// (WriteBack.State); default 5 minutes.
	ScanInterval time.Duration
	// Webhooks lets NetBox webhook events (Scheduler.Notify) trigger
	// targeted exports.
	Webhooks bool
}

// NewScheduler returns a scheduler for the schedules; call Run to start
// it. The connections must share one store, which holds their leases; with
// no schedules it runs nothing.
func NewScheduler(schedules []Schedule, opts SchedulerOptions) (*Scheduler, error) {
	var st store.Store
	conns := make([]scheduledConnection, 0, len(schedules))
	for _, s := range schedules {
		if s.Connection == nil {
			return nil, errors.New("export: scheduler: a schedule has no Connection")
		}
		switch {
		case st == nil:
			st = s.Connection.export.Store
		case st != s.Connection.export.Store:
			return nil, fmt.Errorf("export: scheduler: connection %q uses another store than the first", s.Connection.Name())
		}
		sc := scheduledConnection{Export: s.Connection.export, Interval: s.Interval, Jitter: s.Jitter,
			ScanInterval: s.ScanInterval, Webhooks: s.Webhooks}
		if s.Connection.followsScans() {
			sc.Scans = s.Connection.scans
		}
		conns = append(conns, sc)
	}
	return newScheduler(st, conns, opts)
}

// RecoverRuns finishes as interrupted the runs of a connection (scheduled
// here or not) in the connections' store whose holder is gone, and returns
// them: runs whose lease expired or was released, and
// runs whose holder is a process on this host that no longer exists. A
// status page calls it so a killed run is not shown as in progress; runs
// do it themselves when they take the lease.
func (s *Scheduler) RecoverRuns(ctx context.Context, connection string) ([]store.Run, error) {
	if s.st == nil {
		return nil, nil // no schedules: no store
	}
	return recoverRuns(ctx, s.st, connection)
}

// AttributePrefix returns the prefix of the WUG attribute names the
// connection owns (the Mapping's).
func (c *Connection) AttributePrefix() string { return c.export.Transformer.prefix }

// OwnsAttribute reports whether a WUG attribute name belongs to the
// connection (it starts with the attribute prefix, compared
// case-insensitively as WUG compares names); runs change and delete only
// such attributes.
func (c *Connection) OwnsAttribute(name string) bool { return c.export.Transformer.OwnsAttribute(name) }
