package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/postgres"
	"github.com/wugsync/wugsync/store/sqlite"
	"github.com/wugsync/wugsync/wug"
)

// Exit statuses.
const (
	exitOK     = 0 // everything was done
	exitFailed = 1 // some items failed, or the run did not finish
	exitUsage  = 2 // usage, configuration or connection problem: nothing exported
	exitBusy   = 3 // another run holds the connection: nothing exported
)

// run is the command: it returns the exit status.
func run(ctx context.Context, env environment) int {
	cfg, err := parseConfig(env)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "export: %v\nRun with -h for the flags.\n", err)
		return exitUsage
	}
	// Failed attempts are reported in the result; -v shows every request.
	level := slog.LevelError
	if cfg.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))

	c, err := connect(ctx, cfg, log, env.stderr)
	if err != nil {
		fmt.Fprintf(env.stderr, "export: %v\n", err)
		return exitUsage
	}
	defer c.store.Close()

	if cfg.writeBack.setup {
		if err := setupWriteBack(ctx, c.ex, env.stderr); err != nil {
			fmt.Fprintf(env.stderr, "export: setting up write-back: %v\n", explain(ctx, err, c, nil))
			return exitUsage
		}
	}
	if cfg.writeBack.report {
		rep, err := c.ex.Drift(ctx)
		if err == nil {
			err = writeReport(env.stdout, rep, cfg.jsonOut)
		}
		if err != nil {
			fmt.Fprintf(env.stderr, "export: drift report: %v\n", explain(ctx, err, c, nil))
			return exitFailed
		}
		return exitOK
	}

	res, err := c.export(ctx, cfg, env)
	if code, ok := busy(env, err); ok {
		return code
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "export: %v\n", explain(ctx, err, c, nil))
		return exitFailed
	}
	var scans *export.ScanResult
	if !cfg.dryRun {
		scans, err = c.followScans(ctx, cfg, env)
		if code, ok := busy(env, err); ok {
			return code
		}
		if err != nil {
			fmt.Fprintf(env.stderr, "export: following scans: %v\n", explain(ctx, err, c, nil))
			return exitFailed
		}
	}
	if cfg.jsonOut {
		err = writeJSON(env.stdout, res, scans)
	} else {
		err = writeText(env.stdout, res, scans)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "export: writing the output: %v\n", err)
		return exitFailed
	}
	if (!res.DryRun && res.Status != store.RunSucceeded) || res.Counts.Failed > 0 || (scans != nil && scans.Failed+scans.TimedOut > 0) {
		return exitFailed
	}
	return exitOK
}

// busy reports a run refused because another holds the connection.
func busy(env environment, err error) (int, bool) {
	var held *export.RunInProgressError
	if !errors.As(err, &held) {
		return 0, false
	}
	fmt.Fprintf(env.stderr, "export: nothing done: %v; run again later, or pass --wait to wait for it\n",
		strings.TrimPrefix(held.Error(), "export: "))
	return exitBusy, true
}

// clients is what one invocation talks to.
type clients struct {
	nb        *netbox.Client
	nbURL     string
	wug       *wug.Client
	wugURL    string
	wugUser   string
	store     store.Store
	ex        *export.Connection
	storeDesc string
}

// connect builds the clients, checks that both servers answer and accept
// the credentials, and opens the store. Its errors are one sentence each
// and never hold a secret.
func connect(ctx context.Context, cfg *config, log *slog.Logger, warn io.Writer) (*clients, error) {
	c := &clients{nbURL: cfg.netboxURL, wugURL: cfg.wugURL, wugUser: cfg.wugUsername}
	if err := cfg.mapping.Validate(); err != nil {
		return nil, &usageError{strings.TrimPrefix(err.Error(), "export: ")}
	}
	var err error
	nbOpts := []netbox.Option{netbox.WithLogger(log)}
	wugOpts := []wug.Option{wug.WithCredentials(cfg.wugUsername, cfg.wugPassword), wug.WithLogger(log),
		wug.WithRateLimit(cfg.rate, max(1, int(cfg.rate/2)))}
	switch {
	case cfg.insecure:
		nbOpts = append(nbOpts, netbox.WithInsecureSkipVerify())
		wugOpts = append(wugOpts, wug.WithInsecureSkipVerify())
	default:
		if f := firstOf(cfg.netboxCAFile, cfg.caFile); f != "" {
			nbOpts = append(nbOpts, netbox.WithCAFile(f))
		}
		if cfg.wugCertSHA256 != "" {
			wugOpts = append(wugOpts, wug.WithPinnedCertificate(cfg.wugCertSHA256))
		} else if f := firstOf(cfg.wugCAFile, cfg.caFile); f != "" {
			wugOpts = append(wugOpts, wug.WithCAFile(f))
		}
	}
	if c.nb, err = netbox.NewClient(cfg.netboxURL, cfg.netboxToken, nbOpts...); err != nil {
		return nil, &usageError{fmt.Sprintf("NetBox settings: %v", err)}
	}
	if c.wug, err = wug.NewClient(cfg.wugURL, wugOpts...); err != nil {
		return nil, &usageError{fmt.Sprintf("WhatsUp Gold settings: %v", err)}
	}

	// Fail early, with one sentence, on what a run would hit first.
	st, err := c.nb.Status(ctx)
	if err != nil {
		return nil, explain(ctx, err, c, export.ErrNetBox)
	}
	if !st.Supported {
		fmt.Fprintf(warn, "export: warning: NetBox %s is outside the versions wugsync supports (4.3 to 4.5)\n", st.Version)
	}
	if err := c.wug.Login(ctx); err != nil {
		return nil, explain(ctx, err, c, export.ErrWUG)
	}

	if c.store, c.storeDesc, err = openStore(ctx, cfg.store); err != nil {
		return nil, err
	}
	c.ex, err = export.New(c.nb, c.wug, c.store, append([]export.Option{export.WithName(cfg.connection), export.WithSelector(cfg.sel),
		export.WithMapping(cfg.mapping), export.WithLogger(log),
		export.WithSettings(export.Settings{Scan: cfg.scan, ScanFallback: cfg.scanFallback,
			BatchSize: cfg.batchSize, Concurrency: cfg.concurrency})}, cfg.writeBack.options()...)...)
	if err != nil {
		c.store.Close()
		return nil, &usageError{strings.TrimPrefix(err.Error(), "export: ")}
	}
	return c, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// openStore opens a PostgreSQL store for a postgres:// DSN and a SQLite
// file otherwise, creating its directory. The description it returns
// names the store without a password.
func openStore(ctx context.Context, spec string) (store.Store, string, error) {
	if strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://") {
		desc := redactDSN(spec)
		st, err := postgres.Open(ctx, spec)
		if err != nil {
			return nil, "", fmt.Errorf("cannot open the PostgreSQL store %s: %s", desc, redactIn(err.Error(), spec))
		}
		return st, desc, nil
	}
	if err := os.MkdirAll(filepath.Dir(spec), 0o700); err != nil {
		return nil, "", fmt.Errorf("cannot create the directory of the SQLite store: %w", err)
	}
	st, err := sqlite.Open(ctx, spec)
	if err != nil {
		return nil, "", fmt.Errorf("cannot open the SQLite store %s: %w", spec, err)
	}
	return st, spec, nil
}

// export runs the export, drawing progress on stderr.
func (c *clients) export(ctx context.Context, cfg *config, env environment) (*export.Result, error) {
	opts := export.RunOptions{IPs: cfg.ips,
		ExcludeRecent: cfg.excludeRecent}
	if len(cfg.ips) > 0 {
		opts.Trigger = store.TriggerBulk
	}
	p := newProgress(env)
	opts.Progress = p.update
	opts.OnStart = func(r store.Run) {
		p.logf("run %s started: connection %s, store %s, lease holder %s", r.ID, r.Connection, c.storeDesc, r.Lease.Holder)
	}
	run := c.ex.Run
	if cfg.dryRun {
		run = c.ex.Plan
	}
	res, err := run(ctx, opts)
	var held *export.RunInProgressError
	if cfg.wait && errors.As(err, &held) {
		fmt.Fprintf(env.stderr, "export: waiting: %s\n", strings.TrimPrefix(held.Error(), "export: "))
		opts.Wait = true
		res, err = run(ctx, opts)
	}
	p.finish(res)
	return res, err
}

// scanPoll is the pause between two checks of running scans.
const scanPoll = 2 * time.Second

// followScans checks the connection's waiting discovery scans once, or
// until none is left or --scan-wait has passed, and adds up what the checks
// found. It returns nil when no scan is waiting.
func (c *clients) followScans(ctx context.Context, cfg *config, env environment) (*export.ScanResult, error) {
	counts, err := c.store.CountByStatus(ctx, cfg.connection)
	if err != nil {
		return nil, err
	}
	if counts[store.StatusScanTriggered] == 0 {
		return nil, nil
	}
	var total *export.ScanResult
	deadline := time.Now().Add(cfg.scanWait)
	for {
		res, err := c.ex.FollowScans(ctx, export.RunOptions{Wait: cfg.wait})
		if res != nil {
			if total == nil {
				total = &export.ScanResult{Scans: res.Scans}
			}
			total.RunID, total.Waiting = res.RunID, res.Waiting
			total.Linked += res.Linked
			total.NotFound += res.NotFound
			total.TimedOut += res.TimedOut
			total.Failed += res.Failed
			total.Outcomes = append(total.Outcomes, res.Outcomes...)
			if total.Status != store.RunPartial {
				total.Status = res.Status
			}
		}
		if err != nil || res.Waiting == 0 || time.Now().After(deadline) {
			return total, err
		}
		if !env.terminal {
			fmt.Fprintf(env.stderr, "scans: %d addresses still being scanned\n", res.Waiting)
		}
		select {
		case <-ctx.Done():
			return total, nil
		case <-time.After(min(scanPoll, time.Until(deadline))):
		}
	}
}

// progress shows a running export: a bar on a terminal, a log line at
// most every few seconds otherwise.
type progress struct {
	mu   sync.Mutex
	out  io.Writer
	bar  *progressbar.ProgressBar
	last time.Time
}

func newProgress(env environment) *progress {
	p := &progress{out: env.stderr}
	if env.terminal {
		p.bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(env.stderr), progressbar.OptionSetDescription("exporting"),
			progressbar.OptionShowCount(), progressbar.OptionSetItsString("addresses"), progressbar.OptionShowIts(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *progress) update(done int, c export.Counts) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("exporting (%d selected, %d failed)", c.Selected, c.Failed))
		p.bar.Set(done)
		return
	}
	if time.Since(p.last) >= 2*time.Second {
		p.last = time.Now()
		fmt.Fprintf(p.out, "progress: %d of %d selected addresses done, %d failed\n", done, c.Selected, c.Failed)
	}
}

func (p *progress) logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		fmt.Fprintf(p.out, format+"\n", args...)
	}
}

func (p *progress) finish(res *export.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
		return
	}
	if res != nil {
		fmt.Fprintf(p.out, "progress: %d selected addresses, %d failed\n", res.Counts.Selected, res.Counts.Failed)
	}
}

// redactDSN returns the DSN with its password replaced, for messages.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}

// redactIn removes the DSN's password from a message, should a driver
// repeat it.
func redactIn(msg, dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}
