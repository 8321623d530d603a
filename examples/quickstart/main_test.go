package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
)

// TestQuickstart runs the quick start end to end and checks the numbers it
// prints against the fakes and the store it ran on.
func TestQuickstart(t *testing.T) {
	ctx := context.Background()
	d, err := newDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	var buf bytes.Buffer
	if err := d.run(ctx, &buf); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	out := buf.String()
	t.Log(out)

	step1, rest, ok1 := strings.Cut(out, "\n2. ")
	step2, step3, ok2 := strings.Cut(rest, "\n3. ")
	if !ok1 || !ok2 {
		t.Fatalf("output lacks its three steps")
	}
	first, second := counts(t, step1), counts(t, step2)
	// The one NetBox object go-netbox cannot decode fails in each run, alone.
	undecodable := len(d.nb.Quirky(netboxtest.QuirkUndecodableStatus))
	if undecodable != 1 || first["failed"] != undecodable || second["failed"] != undecodable {
		t.Errorf("failed %d and %d, want the %d undecodable NetBox object", first["failed"], second["failed"], undecodable)
	}

	// Step 1: every adopted device was one of the hand-made ones, the
	// table's total is what WUG held, and the refused batch was scanned.
	if first["adopted"] != preexisting {
		t.Errorf("step 1 adopted %d, want the %d devices WUG already had", first["adopted"], preexisting)
	}
	if first["added"] == 0 || first["scanned"] == 0 || first["invalid"] == 0 {
		t.Errorf("step 1 counts %v: want adds, scans and refused NetBox records", first)
	}
	if got, want := number(t, step1, `WUG devices \(\d+ of (\d+)\)`), preexisting+first["added"]; got != want {
		t.Errorf("WUG held %d devices after step 1, want %d hand-made + %d added", got, preexisting, first["added"])
	}

	// Step 2: one metadata update, nothing added, and the waiting scans
	// left alone.
	want2 := map[string]int{"added": 0, "adopted": 0, "updated": 1, "scanned": 0, "skipped": first["scanned"]}
	got2 := map[string]int{}
	for k := range want2 {
		got2[k] = second[k]
	}
	if diff := cmp.Diff(want2, got2); diff != "" {
		t.Errorf("step 2 counts (-want +got):\n%s", diff)
	}
	if got := number(t, step2, `requests: WUG \d+ \((\d+) writes\)`); got != 1 {
		t.Errorf("step 2 sent %d writes to WUG, want 1 (the attribute change)", got)
	}
	devs := d.wug.DevicesByAddress(d.changedAddr.String())
	if len(devs) != 1 || devs[0].Attributes["NetBox.Serial"] != d.changed.Serial {
		t.Errorf("WUG devices at %s: %+v, want one with NetBox.Serial %q", d.changedAddr, devs, d.changed.Serial)
	}

	// Step 3: the scans were still running, then every scanned address
	// was found and linked, but for an address in two VRFs: its one WUG
	// device is linked to one of them.
	if got := number(t, step3, `still running (\d+)`); got != first["scanned"] {
		t.Errorf("first scan check saw %d addresses waiting, want %d", got, first["scanned"])
	}
	linked := number(t, step3, `(?m)linked (\d+), not found \d+, still running 0, timed out 0, failed 0$`)
	notFound := number(t, step3, `(?m)linked \d+, not found (\d+), still running 0, timed out 0, failed 0$`)
	if linked+notFound != first["scanned"] || notFound > linked {
		t.Errorf("scans linked %d addresses and found %d already linked, the export scanned %d", linked, notFound, first["scanned"])
	}
	total := number(t, step3, `WUG now holds (\d+) devices`)
	if total != d.wug.DeviceCount() {
		t.Errorf("printed %d WUG devices, the fake holds %d", total, d.wug.DeviceCount())
	}

	// The store agrees with WUG: each recorded device exists with the
	// record's address, WUG holds no device the store does not name, and
	// two records share a device only for one address in two VRFs (WUG
	// cannot tell those apart).
	byStatus, err := d.st.CountByStatus(ctx, connectionName)
	if err != nil {
		t.Fatal(err)
	}
	if byStatus[store.StatusExported] != preexisting+first["added"] || byStatus[store.StatusScanCompleted] != linked+notFound {
		t.Errorf("records by status %v, want %d exported and %d scan_completed (%d linked, %d found already linked)",
			byStatus, preexisting+first["added"], linked+notFound, linked, notFound)
	}
	addrOf := map[string]string{}
	withDevice := 0
	var unlinked []store.Record // scanned, and the device found is another record's
	for r, err := range d.st.Records(ctx, store.Query{Connection: connectionName}) {
		if err != nil {
			t.Fatal(err)
		}
		if r.WUGDeviceID == "" {
			if r.Status == store.StatusScanCompleted {
				unlinked = append(unlinked, r)
			}
			continue
		}
		withDevice++
		dev, ok := d.wug.Device(r.WUGDeviceID)
		if !ok || dev.Address != r.Address.String() {
			t.Errorf("record %s names WUG device %s, which does not hold the address", r.Key, r.WUGDeviceID)
		}
		if a, seen := addrOf[r.WUGDeviceID]; seen && a != r.Address.String() {
			t.Errorf("WUG device %s is linked to %s and %s", r.WUGDeviceID, a, r.Address)
		}
		addrOf[r.WUGDeviceID] = r.Address.String()
	}
	// Each scanned address left without a device has the same address in
	// another VRF linked to the one WUG device, and says so, in the store
	// and in the printout.
	if len(unlinked) != notFound {
		t.Errorf("%d scanned records link no device, the scan monitor printed %d not found", len(unlinked), notFound)
	}
	for _, r := range unlinked {
		if len(d.wug.DevicesByAddress(r.Address.String())) != 1 || !strings.Contains(r.LastError, "the same address in another VRF") ||
			!strings.Contains(step3, fmt.Sprintf("not found %s: %s", r.Key, r.LastError)) {
			t.Errorf("record %s (error %q) links no device; want one WUG device at its address, linked to its other VRF, and the reason printed", r.Key, r.LastError)
		}
	}
	if got := number(t, step3, `the store links (\d+) addresses`); got != withDevice {
		t.Errorf("printed %d linked addresses, the store has %d", got, withDevice)
	}
	if len(addrOf) != d.wug.DeviceCount() {
		t.Errorf("the store names %d WUG devices, WUG holds %d", len(addrOf), d.wug.DeviceCount())
	}
	if v := d.wug.Violations(); len(v) > 0 {
		t.Errorf("WUG contract violations: %q", v)
	}
	if !strings.Contains(out, "go run ./examples/export") {
		t.Errorf("output does not end by saying how to reach real servers")
	}
}

var countLine = regexp.MustCompile(`(?m)^   ([a-z]+)\s+(\d+)  `)

// counts reads an export's count block ("   added      193  …").
func counts(t *testing.T, section string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, sub := range countLine.FindAllStringSubmatch(section, -1) {
		n, _ := strconv.Atoi(sub[2])
		m[sub[1]] = n
	}
	for _, k := range []string{"selected", "added", "adopted", "updated", "scanned", "unchanged", "skipped", "invalid", "failed"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("no %q count in:\n%s", k, section)
		}
	}
	return m
}

// number returns the integer the first group of re captures in s.
func number(t *testing.T, s, re string) int {
	t.Helper()
	sub := regexp.MustCompile(re).FindStringSubmatch(s)
	if sub == nil {
		t.Fatalf("no match for %s", re)
	}
	n, _ := strconv.Atoi(sub[1])
	return n
}
