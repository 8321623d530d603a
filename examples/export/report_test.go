package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
)

func TestWriteBackAndReport(t *testing.T) {
	t.Parallel()
	f := newFixture(t, netboxtest.WithDevices(20))
	link := "https://wug.example.com/NmConsole/#device/{id}"

	// The setup is explicit: --setup-write-back creates the fields.
	code, out, errOut := f.run(t, "--write-back", "--wug-device-link", link, "--setup-write-back")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "created wug_device_id, wug_device_url, wug_sync_state, wug_last_sync") {
		t.Errorf("stderr does not say which fields were created:\n%s", errOut)
	}
	if !strings.Contains(out, "write-back to NetBox: ") {
		t.Errorf("stdout lacks the write-back line:\n%s", out)
	}
	withID := 0
	var offline int64
	for _, d := range f.nb.Devices() {
		if d.CustomFields[netbox.FieldWUGSyncState] != netbox.SyncExported {
			continue
		}
		withID++
		url, _ := d.CustomFields[netbox.FieldWUGDeviceURL].(string)
		if d.CustomFields[netbox.FieldWUGDeviceID] == nil || !strings.HasPrefix(url, "https://wug.example.com/NmConsole/#device/") {
			t.Errorf("device %d: fields %v", d.ID, d.CustomFields)
		}
		offline = d.ID
	}
	if withID != f.wug.DeviceCount() {
		t.Errorf("%d NetBox devices carry a WUG device, WUG holds %d", withID, f.wug.DeviceCount())
	}

	// The report, as JSON, names the device taken out of the selection.
	if _, err := f.nb.UpdateDevice(offline, func(d *netboxtest.Device) { d.Status = "offline" }); err != nil {
		t.Fatal(err)
	}
	f.nb.ResetRequests()
	f.wug.ResetRequests()
	code, out, errOut = f.run(t, "--report", "--json")
	if code != exitOK {
		t.Fatalf("report: exit %d\nstderr:\n%s", code, errOut)
	}
	var rep export.DriftReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	found := false
	for _, it := range rep.Items {
		found = found || (it.Kind == export.DriftWUGOnly && it.ObjectID == offline)
	}
	if !found {
		t.Errorf("the report lacks the WUG-only device of object %d: %+v", offline, rep.Items)
	}
	if n := f.nb.Writes(); n != 0 || f.wugWrites() != 0 {
		t.Errorf("the report wrote %d times to NetBox and %d to WUG", n, f.wugWrites())
	}

	// As a table.
	code, out, _ = f.run(t, "--report")
	if code != exitOK || !strings.Contains(out, "KIND") || !strings.Contains(out, string(export.DriftWUGOnly)) {
		t.Errorf("report table: exit %d\n%s", code, out)
	}

	// Flags that need --write-back are refused without it.
	if code, _, errOut := f.run(t, "--journal"); code != exitUsage || !strings.Contains(errOut, "need --write-back") {
		t.Errorf("--journal alone: exit %d, stderr %q", code, errOut)
	}
}
