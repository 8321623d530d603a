// Command export exports NetBox devices (and virtual machines) to WhatsUp
// Gold once, recording every address in a state store, and exits.
//
//	export NETBOX_URL=https://netbox.example.com NETBOX_TOKEN=...
//	export WUG_URL=https://wug.example.com:9644 WUG_USERNAME=api-user WUG_PASSWORD=...
//	go run ./examples/export --site ams1 --dry-run
//
// Exit status: 0 when everything was done, 1 when some items failed (they
// are listed) or the run did not finish, 2 for a usage, configuration or
// connection problem (nothing was exported).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := environment{
		args:     os.Args[1:],
		getenv:   os.Getenv,
		stdout:   os.Stdout,
		stderr:   os.Stderr,
		terminal: term.IsTerminal(int(os.Stderr.Fd())),
	}
	os.Exit(run(ctx, env))
}
