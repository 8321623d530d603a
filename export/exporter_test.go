package export

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/memory"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// TestNewAttributePrefixOnce sets a non-default attribute prefix once, in
// the Mapping given to New, and checks through the fake WUG that a NetBox
// field removed after the first run loses its WUG attribute: the update
// deletes stale attributes under the same prefix the mapping writes.
func TestNewAttributePrefixOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	nbSrv := netboxtest.NewServer(t, netboxtest.WithDevices(40))
	wugSrv := wugtest.NewServer(t)
	nb, err := netbox.NewClient(nbSrv.URL, nbSrv.Token)
	if err != nil {
		t.Fatal(err)
	}
	var dev netboxtest.Device
	for _, d := range nbSrv.Devices() {
		if d.Quirks == 0 && d.Status == "active" && d.Serial != "" && len(d.Tags) > 0 && d.PrimaryIP4 != 0 {
			dev = d
			break
		}
	}
	if dev.ID == 0 {
		t.Fatal("the fake NetBox generated no plain active device with a serial, tags and a primary IPv4 address")
	}
	st := memory.New()
	ex, err := New(nb, wugSrv.Client(), st, WithName("wug1"), WithMapping(Mapping{AttributePrefix: "NB."}))
	if err != nil {
		t.Fatal(err)
	}

	// attrs returns the device's WUG attributes for the serial and tags,
	// under either prefix.
	attrs := func() map[string]string {
		t.Helper()
		var id string
		for r, err := range st.Records(ctx, store.Query{Connection: "wug1"}) {
			if err != nil {
				t.Fatal(err)
			}
			if r.ObjectKind == store.ObjectDevice && r.ObjectID == dev.ID && r.WUGDeviceID != "" {
				id = r.WUGDeviceID
			}
		}
		wd, ok := wugSrv.Device(id)
		if !ok {
			t.Fatalf("no WUG device recorded for NetBox device %d (record names %q)", dev.ID, id)
		}
		got := map[string]string{}
		for _, name := range []string{"NB.Serial", "NB.Tags", "NetBox.Serial", "NetBox.Tags"} {
			if v, ok := wd.Attributes[name]; ok {
				got[name] = v
			}
		}
		return got
	}
	res, err := ex.Run(ctx, RunOptions{})
	if err != nil || res.Counts.Added == 0 {
		t.Fatalf("first run: %v, counts %+v; want devices added", err, res.Counts)
	}
	if got := attrs(); got["NB.Serial"] != dev.Serial || got["NB.Tags"] == "" || len(got) != 2 {
		t.Fatalf("after the first run WUG's attributes are %v, want NB.Serial and NB.Tags", got)
	}

	if _, err := nbSrv.UpdateDevice(dev.ID, func(d *netboxtest.Device) { d.Serial, d.Tags = "", nil }); err != nil {
		t.Fatal(err)
	}
	res, err = ex.Run(ctx, RunOptions{})
	if err != nil || res.Counts.Updated != 1 || res.Counts.Failed != 0 {
		t.Fatalf("second run: %v, counts %+v; want one metadata update", err, res.Counts)
	}
	if diff := cmp.Diff(map[string]string{}, attrs()); diff != "" {
		t.Errorf("WUG attributes after NetBox lost the serial and tags (-want +got):\n%s", diff)
	}
}

// TestNewRefuses: New reports a bad mapping, bad settings and missing
// dependencies itself, before any run.
func TestNewRefuses(t *testing.T) {
	t.Parallel()
	nbSrv := netboxtest.NewServer(t, netboxtest.WithDevices(0))
	nb, err := netbox.NewClient(nbSrv.URL, nbSrv.Token)
	if err != nil {
		t.Fatal(err)
	}
	w := wugtest.NewServer(t).Client()
	st := memory.New()
	tests := []struct {
		name string
		st   store.Store
		opts []Option
		want string
	}{
		{"group path", st, []Option{WithMapping(Mapping{GroupPath: "My Network/<nope>"})}, "nope"},
		{"removal", st, []Option{WithSettings(Settings{Removal: "purge"})}, `removal "purge"`},
		{"share", st, []Option{WithSettings(Settings{MaxRemoveShare: 2})}, "max remove share"},
		{"name", st, []Option{WithName("")}, "connection name is empty"},
		{"selector", st, []Option{WithSelector(netbox.Selector{IPPolicy: "every"})}, "selector"},
		{"store", nil, nil, "store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex, err := New(nb, w, tt.st, tt.opts...)
			if err == nil || ex != nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, %v; want an error about %q", ex, err, tt.want)
			}
		})
	}
}

// TestRunErrorNamesTheServer: a run that fails on one server says which,
// with errors.Is, and keeps the client's typed error reachable.
func TestRunErrorNamesTheServer(t *testing.T) {
	t.Parallel()
	nbSrv := netboxtest.NewServer(t, netboxtest.WithDevices(10))
	wugSrv := wugtest.NewServer(t, wugtest.WithPlainHTTP())
	goodNB, err := netbox.NewClient(nbSrv.URL, nbSrv.Token)
	if err != nil {
		t.Fatal(err)
	}
	badNB, err := netbox.NewClient(nbSrv.URL, "not-the-token")
	if err != nil {
		t.Fatal(err)
	}
	badWUG, err := wug.NewClient(wugSrv.URL, wug.WithCredentials(wugtest.DefaultUser, "wrong"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		nb        *netbox.Client
		w         *wug.Client
		want, not error
	}{
		{"WUG refuses the login", goodNB, badWUG, ErrWUG, ErrNetBox},
		{"NetBox refuses the token", badNB, wugSrv.Client(), ErrNetBox, ErrWUG},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex, err := New(tt.nb, tt.w, memory.New())
			if err != nil {
				t.Fatal(err)
			}
			_, err = ex.Run(context.Background(), RunOptions{})
			if !errors.Is(err, tt.want) || errors.Is(err, tt.not) {
				t.Fatalf("Run = %v; want errors.Is %v and not %v", err, tt.want, tt.not)
			}
			t.Logf("Run: %v", err)
		})
	}
}

// TestConnectionPlanThenRun drives a Connection built through New's seam over
// the in-memory fakes: Plan writes nothing to WUG or the store and counts
// what Run then does, and Run's outcomes carry their kinds.
func TestConnectionPlanThenRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := &fakeSource{devs: testDevices(30)}
	src.set(4, func(d *netbox.Device) { d.PrimaryIPv4.Address = netip.MustParsePrefix("127.0.0.1/8") })
	w, st := newFakeWUG(), memory.New()
	ex, err := newConnection(src, func(Settings) wugAPI { return w }, st, WithName("test"))
	if err != nil {
		t.Fatal(err)
	}

	plan, err := ex.Plan(ctx, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if writes, _ := w.stats(); writes != 0 || plan.Plan == nil || plan.RunID != "" {
		t.Fatalf("Plan: %d WUG writes, plan %v, run %q; want none, a plan and no run", writes, plan.Plan != nil, plan.RunID)
	}
	if runs, err := st.Runs(ctx, store.RunQuery{Connection: "test"}); err != nil || len(runs) != 0 {
		t.Fatalf("Plan recorded runs %v (%v), want none", runs, err)
	}

	res, err := ex.Run(ctx, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(plan.Counts, res.Counts); diff != "" {
		t.Errorf("Run's counts differ from Plan's (-plan +run):\n%s", diff)
	}
	kinds := map[OutcomeKind]int{}
	for _, o := range res.Outcomes {
		kinds[o.Kind]++
	}
	if diff := cmp.Diff(map[OutcomeKind]int{OutcomeApplied: 29, OutcomeInvalid: 1}, kinds); diff != "" {
		t.Errorf("outcome kinds (-want +got):\n%s", diff)
	}
}
