// Command quickstart runs wugsync end to end on one machine, with no
// servers and no flags: a fake NetBox and a fake WhatsUp Gold (WUG) in this
// process, on loopback ports, and a SQLite state store in a temporary
// directory. It exports the NetBox devices and virtual machines to WUG
// (adopting the devices WUG already has, and scanning the addresses of a
// template batch WUG is told to refuse), changes one device in NetBox and
// exports again, then follows the discovery scans to completion.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/sqlite"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// The demo's shape. The numbers are small enough to finish in seconds and
// large enough to need several template batches.
const (
	connectionName = "quickstart"
	netboxDevices  = 300
	netboxVMs      = 20
	preexisting    = 4 // devices WUG already monitors before the first export
	tableRows      = 8
	// scanDelay is longer than the demo: step 3 finishes the scans when it
	// wants them done (a real discovery scan takes minutes).
	scanDelay = time.Hour
)

// demo holds the fakes, the clients and the jobs; tests reach the fakes
// through it to check what run prints.
type demo struct {
	nb     *netboxtest.Handler
	nbURL  string
	wug    *wugtest.Handler
	wugURL string
	dir    string

	st *sqlite.Store
	wc *wug.Client
	ex *export.Connection

	changed     netboxtest.Device // the device step 2 changes
	changedAddr netip.Addr        // its exported address

	stops []func()
}

func run(ctx context.Context, w io.Writer) error {
	d, err := newDemo(ctx)
	if err != nil {
		return err
	}
	defer d.close()
	return d.run(ctx, w)
}

// newDemo starts the fakes on loopback ports and wires the library to
// them exactly as it would be wired to real servers.
func newDemo(ctx context.Context) (_ *demo, err error) {
	d := &demo{}
	defer func() {
		if err != nil {
			d.close()
		}
	}()

	d.nb, err = netboxtest.NewHandler(netboxtest.WithDevices(netboxDevices), netboxtest.WithVirtualMachines(netboxVMs),
		netboxtest.WithUndecodableDevice())
	if err != nil {
		return nil, fmt.Errorf("fake NetBox: %w", err)
	}
	if d.nbURL, err = d.serve(d.nb); err != nil {
		return nil, fmt.Errorf("fake NetBox: %w", err)
	}
	d.wug = wugtest.NewHandler(wugtest.WithScanDelay(scanDelay), wugtest.WithReporter(func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "fake WUG: "+format+"\n", args...)
	}))
	if d.wugURL, err = d.serve(d.wug); err != nil {
		return nil, fmt.Errorf("fake WUG: %w", err)
	}

	d.dir, err = os.MkdirTemp("", "wugsync-quickstart-")
	if err != nil {
		return nil, err
	}
	d.stops = append(d.stops, func() { os.RemoveAll(d.dir) })
	d.st, err = sqlite.Open(ctx, filepath.Join(d.dir, "wugsync.db"))
	if err != nil {
		return nil, err
	}
	d.stops = append(d.stops, func() { d.st.Close() })

	// The same three calls configure real servers: a URL and a token for
	// NetBox, a URL and credentials for WUG.
	nc, err := netbox.NewClient(d.nbURL, netboxtest.DefaultToken)
	if err != nil {
		return nil, err
	}
	d.wc, err = wug.NewClient(d.wugURL, wug.WithCredentials(wugtest.DefaultUser, wugtest.DefaultPassword),
		// The fake runs in this process; leave a real WUG the default
		// limit of wug.DefaultRateLimit requests per second.
		wug.WithRateLimit(1000, 100))
	if err != nil {
		return nil, err
	}
	// Every status, so each awkward record the generator plants is exported
	// or refused with a reason.
	sel := netbox.Selector{IncludeVMs: true, Statuses: []string{netbox.AnyStatus}}
	d.ex, err = export.New(nc, d.wc, d.st, export.WithName(connectionName), export.WithSelector(sel),
		export.WithSettings(export.Settings{
			ScanFallback: true, // an add WUG refuses becomes a discovery scan
			// One template apply at a time, so the batch WUG refuses is the
			// first in NetBox order and every run tells the same story.
			Concurrency: 1,
		}))
	if err != nil {
		return nil, err
	}
	return d, nil
}

// serve serves h on a random loopback port until the demo closes.
func (d *demo) serve(h http.Handler) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	d.stops = append(d.stops, func() { srv.Close() })
	return "http://" + l.Addr().String(), nil
}

func (d *demo) close() {
	for _, stop := range slices.Backward(d.stops) {
		stop()
	}
	d.stops = nil
}

func (d *demo) run(ctx context.Context, w io.Writer) error {
	start := time.Now()
	adopted := d.seedWUG()
	// Discovery scans find only addresses that answer: all of NetBox's
	// primary and out-of-band addresses.
	for _, o := range append(d.nb.Devices(), d.nb.VirtualMachines()...) {
		for _, id := range []int64{o.PrimaryIP4, o.PrimaryIP6, o.OOBIP} {
			if ip, ok := d.nb.IPAddress(id); ok {
				d.wug.SetReachable(ip.Address.Addr().String())
			}
		}
	}
	cat := d.nb.Catalog()
	fmt.Fprintf(w, "wugsync quick start: NetBox to WhatsUp Gold, with both servers faked in this process\n\n")
	fmt.Fprintf(w, "  NetBox (fake)  %s  %d devices, %d virtual machines, %d sites, %d with awkward data\n",
		d.nbURL, len(d.nb.Devices()), len(d.nb.VirtualMachines()), len(cat.Sites), d.quirky())
	fmt.Fprintf(w, "  WUG (fake)     %s  %d devices already monitored: %s\n", d.wugURL, len(adopted), strings.Join(adopted, ", "))
	fmt.Fprintf(w, "  state store    %s (SQLite)\n\n", filepath.Join(d.dir, "wugsync.db"))

	// 1. The first export. WUG is told to refuse the first template
	// batch, so the connection's scan fallback has work to do.
	d.wug.FailNext(wugtest.Fault{Route: "PATCH /api/v1/devices/-/config/template", Status: http.StatusBadRequest, Times: 1})
	fmt.Fprintf(w, "1. Full export (WUG refuses the first batch of device templates, on purpose)\n")
	d.resetRequests()
	res, err := d.ex.Run(ctx, export.RunOptions{})
	if err != nil {
		return err
	}
	printResult(w, res)
	d.printRequests(w)
	if res.Counts.Failed > 0 {
		fmt.Fprintf(w, "   (a failure is recorded on its own item; the run goes on, and the next run tries it again)\n")
	}
	if err := d.printDevices(ctx, w, res); err != nil {
		return err
	}

	// 2. A change in NetBox reaches the WUG device, and nothing else moves.
	before, err := d.changeDevice(res)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n2. Change in NetBox: device %d %q, serial %q -> %q; export again\n", d.changed.ID, d.changed.Name, before, d.changed.Serial)
	d.resetRequests()
	res2, err := d.ex.Run(ctx, export.RunOptions{})
	if err != nil {
		return err
	}
	printResult(w, res2)
	d.printRequests(w)

	// 3. Follow the discovery scans the first export started.
	fmt.Fprintf(w, "\n3. Follow the discovery scans to completion (scan-status job)\n")
	d.resetRequests()
	if err := d.followScans(ctx, w); err != nil {
		return err
	}
	d.printRequests(w)
	counts, err := d.st.CountByStatus(ctx, connectionName)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   store: %s\n", formatStatusCounts(counts))
	linked, shared, err := d.linkedDevices(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   WUG now holds %d devices; the store links %d addresses to them", d.wug.DeviceCount(), linked)
	if shared > 0 {
		fmt.Fprintf(w, " (%d address in two VRFs shares one WUG device)", shared)
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "\nDone in %.1fs.\n", time.Since(start).Seconds())
	fmt.Fprint(w, realServers)
	return nil
}

const realServers = `
To run the same export against real servers, give the CLI their addresses:

  export NETBOX_URL=https://netbox.example.com NETBOX_TOKEN=...
  export WUG_URL=https://wug.example.com:9644 WUG_USERNAME=api-user WUG_PASSWORD=...
  go run ./examples/export --dry-run      # show the plan, change nothing
  go run ./examples/export                # export

or build the same objects in Go: netbox.NewClient(url, token),
wug.NewClient(url, wug.WithCredentials(user, password)), sqlite.Open(ctx, path)
or postgres.Open(ctx, dsn), and export.New, as examples/quickstart/main.go does.
`

// seedWUG adds a few devices to the fake WUG at addresses NetBox holds, as
// someone monitoring by hand would have; the export adopts them instead of
// adding duplicates, and leaves their own attribute alone.
func (d *demo) seedWUG() []string {
	var names []string
	for _, dev := range d.nb.Devices() {
		if len(names) == preexisting {
			break
		}
		if dev.Quirks != 0 || dev.PrimaryIP4 == 0 || dev.Status != "active" {
			continue
		}
		ip, ok := d.nb.IPAddress(dev.PrimaryIP4)
		if !ok || ip.VRF != "" {
			continue
		}
		name := fmt.Sprintf("legacy-%d", len(names)+1)
		d.wug.AddDevice(wugtest.Device{Name: name, Address: ip.Address.Addr().String(),
			Groups: []string{"My Network/Hand-made"}, Attributes: map[string]string{"Owner": "NOC"}})
		names = append(names, name+" "+ip.Address.Addr().String())
	}
	return names
}

// resetRequests forgets the requests the fakes have served.
func (d *demo) resetRequests() {
	d.wug.ResetRequests()
	d.nb.ResetRequests()
}

// printRequests prints how many requests each fake served since
// resetRequests.
func (d *demo) printRequests(w io.Writer) {
	wc := d.wug.Counts()
	fmt.Fprintf(w, "   requests: WUG %d (%d writes), NetBox %d\n", wc.Reads+wc.Writes, wc.Writes, d.nb.Count(netboxtest.RouteAny))
}

func (d *demo) quirky() int {
	n := 0
	for _, dev := range d.nb.Devices() {
		if dev.Quirks != 0 {
			n++
		}
	}
	return n
}

// printResult prints an export's counts, then why addresses were skipped,
// which NetBox records could not be exported, and what failed.
func printResult(w io.Writer, res *export.Result) {
	c := res.Counts
	fmt.Fprintf(w, "   run %s: %s in %s\n", res.RunID, res.Status, res.FinishedAt.Sub(res.StartedAt).Round(time.Millisecond))
	for _, l := range []struct {
		name string
		n    int
		what string
	}{
		{"selected", c.Selected, "addresses in the NetBox selection"},
		{"added", c.Added, "WUG devices created (batched template applies)"},
		{"adopted", c.Adopted, "WUG devices that already had the address, linked instead of duplicated"},
		{"updated", c.Updated, "WUG devices whose NetBox metadata changed"},
		{"scanned", c.Scanned, "addresses handed to WUG discovery scans"},
		{"unchanged", c.Unchanged, "nothing to do"},
		{"skipped", c.Skipped, ""},
		{"invalid", c.Invalid, "NetBox records WUG cannot use"},
		{"failed", c.Failed, ""},
	} {
		fmt.Fprintf(w, "   %-9s %4d  %s\n", l.name, l.n, l.what)
	}
	warnings := map[string]int{}
	for _, o := range res.Outcomes {
		for _, f := range o.Findings {
			if !f.Error {
				warnings[f.Code]++
			}
		}
	}
	if reasons, n := res.SkipReasons(); len(reasons) > 0 {
		fmt.Fprintf(w, "   skipped, by reason:\n")
		for _, r := range reasons {
			fmt.Fprintf(w, "     %3d  %s\n", n[r], r)
		}
	}
	printList(w, "invalid", res.Describe(export.OutcomeInvalid))
	printList(w, "failed", res.Describe(export.OutcomeFailed))
	if len(warnings) > 0 {
		codes := slices.Sorted(maps.Keys(warnings))
		parts := make([]string, len(codes))
		for i, c := range codes {
			parts[i] = fmt.Sprintf("%s %d", c, warnings[c])
		}
		fmt.Fprintf(w, "   warnings, by code: %s\n", strings.Join(parts, ", "))
	}
}

func printList(w io.Writer, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "   %s:\n", title)
	for _, l := range lines {
		fmt.Fprintf(w, "     %s\n", l)
	}
}

// printDevices prints a few of the WUG devices the export added or
// adopted, read back from WUG through the client: name, address, group
// path, and some of the attributes.
func (d *demo) printDevices(ctx context.Context, w io.Writer, res *export.Result) error {
	groups, err := d.wc.Groups.List(ctx)
	if err != nil {
		return err
	}
	paths := map[string]string{}
	for _, g := range groups {
		paths[g.ID] = g.Path
	}
	ids, quirks := d.tableDevices(res)
	fmt.Fprintf(w, "\n   WUG devices (%d of %d):\n", len(ids), d.wug.DeviceCount())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "   NAME\tADDRESS\tGROUP\tNetBox.Site\tNetBox.Role\tNetBox.Serial\tOTHER\tNOTE\n")
	for _, id := range ids {
		dev, err := d.wc.Devices.Get(ctx, id)
		if err != nil {
			return err
		}
		var group []string
		for g, err := range d.wc.Devices.Groups(ctx, id) {
			if err != nil {
				return err
			}
			group = append(group, paths[g.ID])
		}
		attrs := map[string]string{}
		var other []string
		for a, err := range d.wc.Attributes.List(ctx, id, nil) {
			if err != nil {
				return err
			}
			if d.ex.OwnsAttribute(a.Name) {
				attrs[a.Name] = a.Value
			} else {
				other = append(other, a.Name+"="+a.Value)
			}
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", clip(dev.Name, 32), dev.NetworkAddress, clip(strings.Join(group, ", "), 48),
			clip(attrs["NetBox.Site"], 20), attrs["NetBox.Role"], attrs["NetBox.Serial"], strings.Join(other, " "), quirks[id])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "   (OTHER: attributes without the %q prefix; wugsync never changes them)\n", d.ex.AttributePrefix())
	return nil
}

// tableDevices picks the WUG devices the table shows: two adopted ones,
// one added for each awkward NetBox case that was exported, then plain
// adds. It returns them with the awkward case each came from.
func (d *demo) tableDevices(res *export.Result) ([]string, map[string]string) {
	var ids []string
	quirks := map[string]string{}
	take := func(o export.Outcome, why string) {
		if o.DeviceID != "" && len(ids) < tableRows {
			if _, dup := quirks[o.DeviceID]; !dup {
				ids = append(ids, o.DeviceID)
				quirks[o.DeviceID] = why
			}
		}
	}
	adopted := 0
	for _, o := range res.Outcomes {
		if o.Action == export.ActionAdopt && adopted < 2 {
			take(o, "adopted: was in WUG already")
			adopted++
		}
	}
	for _, q := range netboxtest.AllQuirks() {
		for _, o := range res.Outcomes {
			if dev, ok := d.nb.Device(o.ObjectID); ok && o.ObjectKind == store.ObjectDevice && o.Action == export.ActionAdd && dev.Quirks&q != 0 {
				take(o, "awkward in NetBox: "+q.String())
				break
			}
		}
	}
	for _, o := range res.Outcomes {
		if o.Action == export.ActionAdd {
			take(o, "")
		}
	}
	return ids, quirks
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// changeDevice changes the serial number of a device the first export
// added, records it in d.changed and returns the old serial.
func (d *demo) changeDevice(res *export.Result) (before string, err error) {
	for _, o := range res.Outcomes {
		if o.Action != export.ActionAdd || o.ObjectKind != store.ObjectDevice || o.Status != store.StatusExported {
			continue
		}
		old, ok := d.nb.Device(o.ObjectID)
		if !ok || old.Quirks != 0 {
			continue
		}
		d.changed, err = d.nb.UpdateDevice(o.ObjectID, func(x *netboxtest.Device) { x.Serial = "QS-" + x.Serial })
		d.changedAddr = o.Key.Address
		return old.Serial, err
	}
	return "", errors.New("the first export added no device to change")
}

// followScans runs the scan-status job once while the scans are running,
// has the fake WUG finish them, and runs the job until none is left.
func (d *demo) followScans(ctx context.Context, w io.Writer) error {
	for pass := 1; ; pass++ {
		res, err := d.ex.FollowScans(ctx, export.RunOptions{})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "   scans %d: linked %d, not found %d, still running %d, timed out %d, failed %d\n",
			res.Scans, res.Linked, res.NotFound, res.Waiting, res.TimedOut, res.Failed)
		for _, o := range res.Outcomes {
			if o.DeviceID == "" && o.Status == store.StatusScanCompleted && o.Error != "" {
				fmt.Fprintf(w, "     not found %s: %s\n", o.Key, o.Error)
			}
		}
		if res.Waiting == 0 {
			return nil
		}
		if pass == 1 {
			fmt.Fprintf(w, "   (a real scan takes minutes; the fake WUG finishes its scans now)\n")
			d.wug.CompleteScans()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// linkedDevices counts the records that name a WUG device, and the devices
// that more than one record (the same address in several VRFs) names.
func (d *demo) linkedDevices(ctx context.Context) (linked, shared int, err error) {
	perDevice := map[string]int{}
	for r, err := range d.st.Records(ctx, store.Query{Connection: connectionName}) {
		if err != nil {
			return 0, 0, err
		}
		if r.WUGDeviceID != "" {
			linked++
			if perDevice[r.WUGDeviceID]++; perDevice[r.WUGDeviceID] == 2 {
				shared++
			}
		}
	}
	return linked, shared, nil
}

func formatStatusCounts(m map[store.Status]int) string {
	var parts []string
	for _, s := range store.Statuses {
		if m[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, m[s]))
		}
	}
	return strings.Join(parts, ", ")
}
