package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// TestWriteBackDriftEndpointAndPage: a connection with write_back on
// writes its devices into NetBox after the setup start option created the
// fields; the drift endpoint and the status page report a device taken
// out of the selection.
func TestWriteBackDriftEndpointAndPage(t *testing.T) {
	t.Parallel()
	f := newFixtureWith(t, 20, "    write_back: {enabled: true, journal: true}\n")
	f.svc.byID["main"].cfg.WUG.DeviceLink = "https://wug.example.com/device?id={id}"
	if err := f.svc.setupWriteBack(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.nb.CustomFields()); n < 4 {
		t.Fatalf("the setup created %d custom fields, want at least 4", n)
	}
	base := f.srv.URL + "/api/plugins/wug-sync/"
	status, body := doJSON(t, "POST", base+"connections/1/export/", testToken, `{}`)
	if status != http.StatusAccepted {
		t.Fatalf("export: %d %v", status, body)
	}
	if run := waitRun(t, f.st, body["run_id"].(string)); run.Counts.Added == 0 {
		t.Fatalf("the run added nothing: %+v", run)
	}
	var gone int64
	for _, d := range f.nb.Devices() {
		if d.CustomFields[netbox.FieldWUGSyncState] == netbox.SyncExported && d.CustomFields[netbox.FieldWUGDeviceID] != nil {
			gone = d.ID
		}
	}
	if gone == 0 {
		t.Fatal("no NetBox device carries its WUG device after the export")
	}
	if n := len(f.nb.JournalEntries()); n == 0 {
		t.Error("no journal entry after adding devices with journal on")
	}
	if _, err := f.nb.UpdateDevice(gone, func(d *netboxtest.Device) { d.Status = "offline" }); err != nil {
		t.Fatal(err)
	}

	status, raw := do(t, "GET", base+"connections/main/drift/", testToken, "")
	var rep export.DriftReport
	if err := json.Unmarshal(raw, &rep); status != http.StatusOK || err != nil {
		t.Fatalf("drift: %d %v\n%s", status, err, raw)
	}
	found := ""
	for _, it := range rep.Items {
		if it.Kind == export.DriftWUGOnly && it.ObjectID == gone {
			found = it.WUGDeviceID
		}
	}
	if found == "" {
		t.Fatalf("the drift report lacks device %d's WUG device: %+v", gone, rep.Items)
	}
	if status, _ := do(t, "GET", base+"connections/main/drift/", "", ""); status != http.StatusUnauthorized {
		t.Errorf("drift without the token: %d, want 401", status)
	}

	cookie, _ := f.signIn()
	_, page := f.send(pageReq{path: "/status/", cookie: cookie})
	for _, text := range []string{"<h3>Drift</h3>", `<tr data-kind="wug_only">`, "#" + found} {
		if !strings.Contains(page, text) {
			t.Errorf("the status page lacks %q", text)
		}
	}
}
