package export_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store/memory"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// servers starts a fake NetBox with generated devices and a fake WUG, and
// returns a client of each and a function that stops both.
func servers() (*netbox.Client, *wug.Client, *wugtest.Server, func()) {
	nbSrv, err := netboxtest.Start(netboxtest.WithDevices(20))
	if err != nil {
		panic(err)
	}
	wugSrv := wugtest.Start(wugtest.WithPlainHTTP())
	return nbSrv.Client(), wugSrv.Client(), wugSrv, func() { nbSrv.Close(); wugSrv.Close() }
}

// New builds a Connection from the two clients and a store. Plan shows what
// a run would do and changes nothing; Run does it; a second run finds
// nothing left to change.
func ExampleNew() {
	nb, w, wugSrv, stop := servers()
	defer stop()
	ctx := context.Background()

	ex, err := export.New(nb, w, memory.New(), export.WithName("wug1"),
		export.WithMapping(export.Mapping{GroupPath: "My Network/NetBox/<site>/<role>"}))
	if err != nil {
		panic(err)
	}
	plan, err := ex.Plan(ctx, export.RunOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("plan:", plan.Counts.Added, "to add; WUG devices:", wugSrv.DeviceCount())

	res, err := ex.Run(ctx, export.RunOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("run:", res.Status, res.Counts.Added, "added; WUG devices:", wugSrv.DeviceCount())
	var invalid []string // not exportable: fix these in NetBox
	for _, o := range res.Outcomes {
		if o.Kind == export.OutcomeInvalid {
			invalid = append(invalid, o.Findings[0].Code)
		}
	}
	slices.Sort(invalid)
	fmt.Println("invalid:", invalid)

	again, err := ex.Run(ctx, export.RunOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("again:", again.Status, again.Counts.Added, "added,", again.Counts.Unchanged, "unchanged")
	// Output:
	// plan: 13 to add; WUG devices: 0
	// run: succeeded 13 added; WUG devices: 13
	// invalid: [broadcast_address network_address no_address no_address]
	// again: succeeded 0 added, 13 unchanged
}

// A Scheduler runs Connections on their intervals (the first export at
// once, as this store has none yet) until its context ends; OnExport sees
// every finished export.
func ExampleScheduler() {
	nb, w, wugSrv, stop := servers()
	defer stop()

	ex, err := export.New(nb, w, memory.New(), export.WithName("wug1"))
	if err != nil {
		panic(err)
	}
	finished := make(chan *export.Result, 1)
	s, err := export.NewScheduler([]export.Schedule{{Connection: ex, Interval: time.Hour, Jitter: time.Millisecond}},
		export.SchedulerOptions{OnExport: func(res *export.Result, err error) {
			if err != nil {
				panic(err)
			}
			finished <- res
		}})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- s.Run(ctx) }()

	res := <-finished
	fmt.Println(res.Connection, res.Status, "added", res.Counts.Added, "of", wugSrv.DeviceCount(), "WUG devices")
	cancel()
	if err := <-stopped; err != nil {
		panic(err)
	}
	// Output: wug1 succeeded added 13 of 13 WUG devices
}
