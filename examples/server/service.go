package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/postgres"
	"github.com/wugsync/wugsync/store/sqlite"
	"github.com/wugsync/wugsync/wug"
)

// service wires the library for the HTTP API: one NetBox client, one WUG
// client and export job per connection, the scheduler, and the metrics.
type service struct {
	cfg     *Config
	log     *slog.Logger
	st      store.Store
	sched   *export.Scheduler
	m       *metrics
	conns   []*conn          // in configuration order
	byID    map[string]*conn // by id and by name
	webhook http.Handler     // nil without a webhook secret
	token   [32]byte         // SHA-256 of the API token
	page    *statusPage      // the status page for people
	drift   driftCache       // the last drift report of each connection
}

// conn is one configured connection.
type conn struct {
	cfg     *ConnectionConfig
	enabled bool               // exported by the scheduler
	ex      *export.Connection // nil when not enabled
}

// openStore opens the configured state store.
func openStore(ctx context.Context, sc StoreConfig) (store.Store, error) {
	if sc.PostgresDSN.IsSet() {
		var opts []postgres.Option
		if sc.PostgresSchema != "" {
			opts = append(opts, postgres.WithSchema(sc.PostgresSchema))
		}
		st, err := postgres.Open(ctx, sc.PostgresDSN.Value(), opts...)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.Open(ctx, sc.SQLitePath)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return st, nil
}

// newService builds the clients, jobs and scheduler; it does no network
// I/O. The caller owns st.
func newService(cfg *Config, st store.Store, log *slog.Logger) (*service, error) {
	s := &service{cfg: cfg, log: log, st: st, m: newMetrics(), byID: map[string]*conn{},
		token: sha256.Sum256([]byte(cfg.APIToken.Value()))}

	nbOpts := append(trust(cfg.NetBox.TLS, netbox.WithCAFile, netbox.WithPinnedCertificate, netbox.WithInsecureSkipVerify),
		netbox.WithHooks(s.m.hooks("netbox", "")),
		netbox.WithLogger(log),
	)
	if cfg.NetBox.RateLimit > 0 {
		nbOpts = append(nbOpts, netbox.WithRateLimit(cfg.NetBox.RateLimit, max(1, int(cfg.NetBox.RateLimit))))
	}
	nc, err := netbox.NewClient(cfg.NetBox.URL, cfg.NetBox.Token.Value(), nbOpts...)
	if err != nil {
		return nil, err
	}

	var scheduled []export.Schedule
	for i := range cfg.Connections {
		cc := &cfg.Connections[i]
		c := &conn{cfg: cc, enabled: *cc.EnableNetBoxExport}
		s.conns = append(s.conns, c)
		s.byID[cc.ID], s.byID[cc.Name] = c, c
		if !c.enabled {
			continue
		}
		sc, err := s.scheduledConnection(cc, nc)
		if err != nil {
			return nil, fmt.Errorf("connection %s: %w", cc.Name, err)
		}
		c.ex = sc.Connection
		scheduled = append(scheduled, sc)
	}
	s.sched, err = export.NewScheduler(scheduled, export.SchedulerOptions{
		LeaseTTL:      seconds(cfg.LeaseTTLSeconds),
		WebhookWindow: seconds(cfg.WebhookWindowSeconds),
		OnExport:      s.exportFinished,
		Logger:        log,
	})
	if err != nil {
		return nil, err
	}
	s.m.reg.MustRegister(newStateCollector(s))
	s.page = newStatusPage(s)
	s.page.drift = pageDrift{s}

	if cfg.WebhookSecret.IsSet() {
		h, err := netbox.NewWebhookHandler(netbox.WebhookConfig{Secret: cfg.WebhookSecret.Value(), BaseURL: cfg.NetBox.URL, Logger: log},
			func(_ context.Context, ev netbox.Event) error {
				s.m.webhooks.WithLabelValues(string(ev.Kind), string(ev.Action)).Inc()
				s.sched.Notify(netbox.ObjectRef{Kind: ev.Kind, ID: ev.ID})
				return nil
			})
		if err != nil {
			return nil, err
		}
		s.webhook = h
	}
	return s, nil
}

// scheduledConnection builds one connection's WUG client and exporter.
func (s *service) scheduledConnection(cc *ConnectionConfig, nc *netbox.Client) (export.Schedule, error) {
	log := s.log.With("connection", cc.Name)
	opts := append(trust(cc.WUG.TLS, wug.WithCAFile, wug.WithPinnedCertificate, wug.WithInsecureSkipVerify),
		wug.WithCredentials(cc.WUG.Username, cc.WUG.Password.Value()),
		wug.WithHooks(s.m.hooks("wug", cc.Name)),
		wug.WithLogger(log),
	)
	if cc.WUG.RateLimit > 0 {
		burst := cc.WUG.Burst
		if burst == 0 {
			burst = wug.DefaultBurst
		}
		opts = append(opts, wug.WithRateLimit(cc.WUG.RateLimit, burst))
	}
	wc, err := wug.NewClient(cc.WUG.URL, opts...)
	if err != nil {
		return export.Schedule{}, err
	}
	ex, err := export.New(nc, wc, s.st, append([]export.Option{export.WithName(cc.Name), export.WithSelector(cc.Selector()),
		export.WithMapping(cc.Mapping.mapping()), export.WithSettings(cc.Settings()),
		export.WithLogger(s.log)}, cc.writeBackOptions()...)...) // the exporter adds the connection's name
	if err != nil {
		return export.Schedule{}, err
	}
	return export.Schedule{
		Connection:   ex,
		Interval:     cc.Interval(),
		ScanInterval: time.Duration(cc.ScanIntervalMinutes * float64(time.Minute)),
		Webhooks:     *cc.NetBoxWebhooks && s.cfg.WebhookSecret.IsSet(),
	}, nil
}

// exportFinished logs and counts every finished export.
func (s *service) exportFinished(res *export.Result, err error) {
	s.m.observeExport(res, err)
	if res == nil {
		return // the scheduler logged why the run did not start
	}
	s.log.Info("export finished", "connection", res.Connection, "run_id", res.RunID, "status", res.Status,
		"selected", res.Counts.Selected, "added", res.Counts.Added, "adopted", res.Counts.Adopted,
		"updated", res.Counts.Updated, "scanned", res.Counts.Scanned, "failed", res.Counts.Failed,
		"duration", res.FinishedAt.Sub(res.StartedAt).Round(time.Millisecond).String())
}

// trust turns a server's TLS settings into that client's options; the
// configuration allows at most one of them.
func trust[O any](t TLSConfig, caFile, pinned func(string) O, insecure func() O) []O {
	var opts []O
	if t.CAFile != "" {
		opts = append(opts, caFile(t.CAFile))
	}
	if t.PinnedCertificate != "" {
		opts = append(opts, pinned(t.PinnedCertificate))
	}
	if t.InsecureSkipVerify {
		opts = append(opts, insecure())
	}
	return opts
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// run serves the API on ln and runs the scheduler until ctx ends, then
// stops taking requests, lets the scheduler record the run in progress as
// interrupted, and returns.
func (s *service) run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	stopScheduler := s.runScheduler()
	var wg sync.WaitGroup
	serveErr := make(chan error, 1)
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
	})
	s.log.Info("listening", "addr", ln.Addr().String(), "connections", s.sched.Connections(), "webhooks", s.webhook != nil)
	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		s.log.Error("serving stopped", "err", err)
	}
	// The scheduler stops at once (the run in progress is recorded as
	// interrupted) while the server finishes the requests it has.
	wg.Go(stopScheduler)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		s.log.Warn("shutdown: closing connections", "err", serr)
		srv.Close()
	}
	wg.Wait()
	return err
}

// runScheduler runs the scheduler until the returned stop is called; stop
// returns once the scheduler has, and with it every run it started.
func (s *service) runScheduler() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.sched.Run(ctx); err != nil {
			s.log.Error("scheduler stopped", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
