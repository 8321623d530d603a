// Command server is wugsync's HTTP service: it runs the NetBox-to-WhatsUp
// Gold export of every configured connection on a schedule, on NetBox
// webhooks and on demand through the REST API the NetBox plugin offered,
// and exposes status, export records and Prometheus metrics.
//
//	go run ./examples/server -config examples/server/wugsync.example.yaml
//
// See README.md beside this file and wugsync.example.yaml for the
// configuration. SIGTERM or SIGINT stops it cleanly: it stops taking
// requests, and an export in progress is recorded as interrupted (the next
// run finishes it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

// run is the whole program; it returns the exit code: 0 after a clean
// shutdown, 1 when the service failed, 2 for a usage or configuration error.
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", getenv("WUGSYNC_CONFIG"), "configuration file, YAML or JSON (env WUGSYNC_CONFIG)")
	setup := fs.Bool("setup-write-back", false, "create the NetBox custom fields that connections with write_back need, then serve")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *configPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: server -config wugsync.yaml")
		return 2
	}
	cfg, err := LoadConfig(*configPath, getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: logLevel(cfg.LogLevel)}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := serve(ctx, cfg, log, *setup); err != nil {
		log.Error("stopped", "err", err)
		return 1
	}
	log.Info("stopped cleanly")
	return 0
}

// serve opens the store, builds the service and runs it until ctx ends.
func serve(ctx context.Context, cfg *Config, log *slog.Logger, setupWriteBack bool) error {
	st, err := openStore(ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Warn("closing the store", "err", err)
		}
	}()
	svc, err := newService(cfg, st, log)
	if err != nil {
		return err
	}
	if setupWriteBack {
		if err := svc.setupWriteBack(ctx); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	err = svc.run(ctx, ln)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func logLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
