package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/wugsync/wugsync/export"
)

// writeBackFlags are the flags of write-back to NetBox and the drift
// report.
type writeBackFlags struct {
	on         bool   // --write-back
	deviceLink string // --wug-device-link
	journal    bool   // --journal
	state      bool   // --write-back-state
	setup      bool   // --setup-write-back
	report     bool   // --report
}

// addWriteBackFlags defines the write-back and report flags on fs.
func addWriteBackFlags(fs *flag.FlagSet, f *writeBackFlags) {
	fs.BoolVar(&f.on, "write-back", false, "write each exported object's WUG device id, link, sync state and last sync into NetBox custom fields (writes to NetBox)")
	fs.StringVar(&f.deviceLink, "wug-device-link", "", "with --write-back: a device's address in WUG's web UI, {id} standing for the device id")
	fs.BoolVar(&f.journal, "journal", false, "with --write-back: add a NetBox journal entry to an object added to or removed from WUG")
	fs.BoolVar(&f.state, "write-back-state", false, "with --write-back: also write WUG's up/down state of each device (wug_state)")
	fs.BoolVar(&f.setup, "setup-write-back", false, "create the NetBox custom fields write-back needs when they are missing, then run")
	fs.BoolVar(&f.report, "report", false, "print the drift report (WUG and NetBox disagreements) instead of exporting; --json for JSON")
}

// check refuses flag combinations that do nothing.
func (f *writeBackFlags) check() error {
	if (f.deviceLink != "" || f.journal || f.state) && !f.on {
		return usagef("--wug-device-link, --journal and --write-back-state need --write-back")
	}
	if f.deviceLink != "" && !strings.Contains(f.deviceLink, "{id}") {
		return usagef("--wug-device-link %q has no {id} for the device id", f.deviceLink)
	}
	return nil
}

// options returns the exporter option write-back adds, if any.
func (f *writeBackFlags) options() []export.Option {
	if !f.on {
		return nil
	}
	return []export.Option{export.WithWriteBack(export.WriteBack{DeviceLink: f.deviceLink, Journal: f.journal, State: f.state})}
}

// setupWriteBack creates the custom fields and says what it found.
func setupWriteBack(ctx context.Context, ex *export.Connection, w io.Writer) error {
	res, err := ex.SetupWriteBack(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "export: NetBox custom fields: created %s; already there %s\n", orNone(res.Created), orNone(res.Existing))
	return nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// writeReport prints a drift report as a table or as JSON.
func writeReport(w io.Writer, rep *export.DriftReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(w, "Drift for connection %s at %s: %d items\n", rep.Connection, rep.CheckedAt.Format("2006-01-02 15:04:05Z07:00"), len(rep.Items))
	if len(rep.Items) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nKIND\tADDRESS\tNETBOX OBJECT\tWUG DEVICE\tREASON")
	for _, it := range rep.Items {
		addr, obj, dev := "-", "-", "-"
		if it.Address.IsValid() {
			addr = it.Address.String()
		}
		if it.ObjectID != 0 {
			obj = fmt.Sprintf("%s %d %s", it.ObjectKind, it.ObjectID, it.ObjectName)
		}
		if it.WUGDeviceID != "" {
			dev = strings.TrimSpace(it.WUGDeviceID + " " + it.WUGDeviceName)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.Kind, addr, obj, dev, it.Reason)
	}
	return tw.Flush()
}
