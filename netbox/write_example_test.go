package netbox_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// Write WUG's view back into NetBox: create the custom fields once, then
// after each export send only what changed, in bulk. The second, unchanged
// run writes nothing.
func ExampleClient_UpdateCustomFields() {
	srv, err := netboxtest.Start(netboxtest.WithDevices(250))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	// The explicit setup step.
	setup, err := c.SetupCustomFields(ctx, netbox.WriteBackFields(false))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", setup.Created)

	synced := netbox.FormatDateTime(time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC))
	run := func() netbox.WriteResult {
		var updates []netbox.FieldUpdate
		for d, err := range c.Devices(ctx, netbox.Selector{}) {
			if err != nil {
				log.Fatal(err)
			}
			wugID := 1000 + d.ID // what the export recorded
			want := map[string]any{
				netbox.FieldWUGDeviceID:  wugID,
				netbox.FieldWUGDeviceURL: fmt.Sprintf("https://wug.example.com/NmConsole/#devices/%d", wugID),
				netbox.FieldWUGSyncState: netbox.SyncExported,
			}
			if changed := netbox.ChangedFields(d.CustomFields, want); changed != nil {
				changed[netbox.FieldWUGLastSync] = synced
				updates = append(updates, netbox.FieldUpdate{ObjectRef: netbox.ObjectRef{Kind: d.Kind, ID: d.ID}, Fields: changed})
			}
		}
		res, err := c.UpdateCustomFields(ctx, updates, 100)
		if err != nil {
			log.Fatal(err)
		}
		return res
	}
	first := run()
	fmt.Printf("first run: %d devices in %d requests\n", len(first.Written), first.Requests)
	second := run()
	fmt.Printf("second run: %d devices in %d requests; NetBox saw %d writes in all\n",
		len(second.Written), second.Requests, srv.Writes())
	// Output:
	// created: [wug_device_id wug_device_url wug_sync_state wug_last_sync]
	// first run: 200 devices in 2 requests
	// second run: 0 devices in 0 requests; NetBox saw 3 writes in all
}
