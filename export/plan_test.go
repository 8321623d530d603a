package export

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
)

var planNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func cand(addr, fp string) candidate {
	a := netip.MustParseAddr(addr)
	dev := &netbox.Device{Kind: netbox.KindDevice, ID: 7, Name: "sw-" + addr}
	return candidate{Key: store.Key{Connection: "test", Address: a}, Device: dev, Fingerprint: fp,
		Template: testTemplate(dev.Name, a, ""), GroupPath: "My Network/NetBox/A"}
}

func rec(addr string, status store.Status, deviceID, fp string) store.Record {
	return store.Record{Key: store.Key{Connection: "test", Address: netip.MustParseAddr(addr)},
		Status: status, WUGDeviceID: deviceID, Fingerprint: fp, ObjectKind: store.ObjectDevice, ObjectID: 9}
}

func wdev(id, addr string) wugDevice { return wugDevice{ID: id, Address: netip.MustParseAddr(addr)} }

type planLine struct {
	Addr     string
	Action   Action
	DeviceID string
	Reason   string // a fragment the reason must contain
}

func summarize(p *Plan) []planLine {
	out := make([]planLine, len(p.Decisions))
	for i, d := range p.Decisions {
		out[i] = planLine{Addr: d.Key.Address.String(), Action: d.Action, DeviceID: d.DeviceID, Reason: d.Reason}
	}
	return out
}

// checkPlan compares p's decisions with want; a reason matches when it
// holds want's as a fragment.
func checkPlan(t *testing.T, want []planLine, p *Plan) {
	t.Helper()
	got := summarize(p)
	for i := range got {
		if i < len(want) && strings.Contains(got[i].Reason, want[i].Reason) {
			got[i].Reason = want[i].Reason
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	invalid := cand("127.0.0.1", "")
	invalid.Verdict.Error(codeLoopback, "127.0.0.1 is a loopback address")
	warned := cand("192.0.2.9", "f")
	warned.Verdict.Warn(codeDocumentation, "192.0.2.9 is a documentation address")
	recent := rec("10.0.0.1", store.StatusExported, "", "f")
	recent.ExportedAt = planNow.Add(-time.Hour)
	otherVRF := rec("10.0.0.1", store.StatusExported, "5", "f")
	otherVRF.VRF = "blue"
	scanning := rec("10.0.0.1", store.StatusScanTriggered, "", "f")
	scanning.ScanID = "s1"
	failed := rec("10.0.0.1", store.StatusError, "", "")
	failed.LastError = "boom"

	tests := []struct {
		name    string
		opts    planOptions
		cands   []candidate
		recs    []store.Record
		devices []wugDevice
		want    []planLine
	}{
		{name: "new address is added", cands: []candidate{cand("10.0.0.1", "f")},
			want: []planLine{{"10.0.0.1", ActionAdd, "", "new in the NetBox selection"}}},
		{name: "unchanged is skipped", cands: []candidate{cand("10.0.0.1", "f")},
			recs: []store.Record{rec("10.0.0.1", store.StatusExported, "5", "f")}, devices: []wugDevice{wdev("5", "10.0.0.1")},
			want: []planLine{{"10.0.0.1", ActionSkip, "5", skipUnchanged}}},
		{name: "changed fingerprint updates", cands: []candidate{cand("10.0.0.1", "g")},
			recs: []store.Record{rec("10.0.0.1", store.StatusExported, "5", "f")}, devices: []wugDevice{wdev("5", "10.0.0.1")},
			want: []planLine{{"10.0.0.1", ActionUpdate, "5", "metadata changed"}}},
		{name: "linked scan result with a new fingerprint updates", cands: []candidate{cand("10.0.0.1", "f")},
			recs: []store.Record{rec("10.0.0.1", store.StatusScanCompleted, "5", "")}, devices: []wugDevice{wdev("5", "10.0.0.1")},
			want: []planLine{{"10.0.0.1", ActionUpdate, "5", "metadata changed"}}},
		{name: "device gone from WUG is re-added", cands: []candidate{cand("10.0.0.1", "f")},
			recs: []store.Record{rec("10.0.0.1", store.StatusExported, "5", "f")},
			want: []planLine{{"10.0.0.1", ActionReAdd, "", "5 no longer exists"}}},
		{name: "device recreated by hand is adopted", cands: []candidate{cand("10.0.0.1", "f")},
			recs: []store.Record{rec("10.0.0.1", store.StatusExported, "5", "f")}, devices: []wugDevice{wdev("8", "10.0.0.1")},
			want: []planLine{{"10.0.0.1", ActionAdopt, "8", "already has this address"}}},
		{name: "existing WUG device is adopted, not duplicated", cands: []candidate{cand("10.0.0.1", "f")},
			devices: []wugDevice{wdev("3", "10.0.0.10"), wdev("4", "10.0.0.1")},
			want:    []planLine{{"10.0.0.1", ActionAdopt, "4", "WUG device 4 already has this address"}}},
		{name: "IPv6 matches exactly", cands: []candidate{cand("2001:db8::10", "f")},
			devices: []wugDevice{wdev("4", "2001:db8:0:0::10")},
			want:    []planLine{{"2001:db8::10", ActionAdopt, "4", "already has"}}},
		{name: "pending with device in WUG resolves by adoption", cands: []candidate{cand("10.0.0.1", "f")},
			recs: []store.Record{rec("10.0.0.1", store.StatusPending, "", "")}, devices: []wugDevice{wdev("4", "10.0.0.1")},
			want: []planLine{{"10.0.0.1", ActionAdopt, "4", "interrupted run"}}},
		{name: "pending without device is added", cands: []candidate{cand("10.0.0.1", "f")},
			recs: []store.Record{rec("10.0.0.1", store.StatusPending, "", "")},
			want: []planLine{{"10.0.0.1", ActionAdd, "", "interrupted run"}}},
		{name: "pending update resumes", cands: []candidate{cand("10.0.0.1", "f")},
			recs: []store.Record{rec("10.0.0.1", store.StatusPending, "5", "f")}, devices: []wugDevice{wdev("5", "10.0.0.1")},
			want: []planLine{{"10.0.0.1", ActionUpdate, "5", "did not finish"}}},
		{name: "failed add is retried", cands: []candidate{cand("10.0.0.1", "f")}, recs: []store.Record{failed},
			want: []planLine{{"10.0.0.1", ActionAdd, "", "boom"}}},
		{name: "invalid address is skipped with its reason", cands: []candidate{invalid},
			want: []planLine{{"127.0.0.1", ActionSkip, "", "loopback: 127.0.0.1 is a loopback address"}}},
		{name: "warnings do not stop an add", cands: []candidate{warned},
			want: []planLine{{"192.0.2.9", ActionAdd, "", "new"}}},
		{name: "recent export excluded", opts: planOptions{ExcludeRecent: true, Now: planNow},
			cands: []candidate{cand("10.0.0.1", "g")}, recs: []store.Record{recent},
			want: []planLine{{"10.0.0.1", ActionSkip, "", "exported recently"}}},
		{name: "scan mode scans", opts: planOptions{Scan: true}, cands: []candidate{cand("10.0.0.1", "f")},
			want: []planLine{{"10.0.0.1", ActionScan, "", "discovery by scan"}}},
		{name: "scan mode adopts an existing device", opts: planOptions{Scan: true}, cands: []candidate{cand("10.0.0.1", "f")},
			devices: []wugDevice{wdev("4", "10.0.0.1")},
			want:    []planLine{{"10.0.0.1", ActionAdopt, "4", "already has"}}},
		{name: "scan in progress is left alone", cands: []candidate{cand("10.0.0.1", "f")}, recs: []store.Record{scanning},
			want: []planLine{{"10.0.0.1", ActionSkip, "", "scan s1 is in progress"}}},
		{name: "device linked to another VRF is not adopted", cands: []candidate{cand("10.0.0.1", "f")},
			recs: []store.Record{otherVRF}, devices: []wugDevice{wdev("5", "10.0.0.1")},
			want: []planLine{{"10.0.0.1", ActionAdd, "", "new"}}},
		{name: "same key twice is exported once", cands: []candidate{cand("10.0.0.1", "f"), cand("10.0.0.1", "f")},
			want: []planLine{{"10.0.0.1", ActionAdd, "", "new"}, {"10.0.0.1", ActionSkip, "", "another NetBox object"}}},
		{name: "removal kept by default", opts: planOptions{RemovalScope: all},
			recs: []store.Record{rec("10.0.0.2", store.StatusExported, "5", "f")}, devices: []wugDevice{wdev("5", "10.0.0.2")},
			want: []planLine{{"10.0.0.2", ActionSkip, "5", "kept by the removal policy"}}},
		{name: "removal by delete", opts: planOptions{RemovalScope: all, Removal: RemoveDelete, MaxRemoveShare: 0.5},
			cands:   []candidate{cand("10.0.0.1", "f")},
			recs:    []store.Record{rec("10.0.0.1", store.StatusExported, "4", "f"), rec("10.0.0.2", store.StatusExported, "5", "f")},
			devices: []wugDevice{wdev("4", "10.0.0.1"), wdev("5", "10.0.0.2")},
			want:    []planLine{{"10.0.0.1", ActionSkip, "4", skipUnchanged}, {"10.0.0.2", ActionRemove, "5", "policy delete"}}},
		{name: "removal over the cap is held back", opts: planOptions{RemovalScope: all, Removal: RemoveDelete},
			recs:    []store.Record{rec("10.0.0.2", store.StatusExported, "5", "f")},
			devices: []wugDevice{wdev("5", "10.0.0.2")},
			want:    []planLine{{"10.0.0.2", ActionSkip, "5", "held back by the share cap"}}},
		{name: "forced removal ignores the cap", opts: planOptions{RemovalScope: all, Removal: RemoveMaintenance, ForceRemove: true},
			recs:    []store.Record{rec("10.0.0.2", store.StatusExported, "5", "f")},
			devices: []wugDevice{wdev("5", "10.0.0.2")},
			want:    []planLine{{"10.0.0.2", ActionRemove, "5", "policy maintenance"}}},
		{name: "partial selection removes nothing", opts: planOptions{Removal: RemoveDelete, ForceRemove: true},
			recs:    []store.Record{rec("10.0.0.2", store.StatusExported, "5", "f")},
			devices: []wugDevice{wdev("5", "10.0.0.2")}, want: []planLine{}},
		{name: "device kept in maintenance is ours again when its object returns", cands: []candidate{cand("10.0.0.1", "f")},
			recs: []store.Record{rec("10.0.0.1", store.StatusRemoved, "5", "f")}, devices: []wugDevice{wdev("5", "10.0.0.1")},
			want: []planLine{{"10.0.0.1", ActionUpdate, "5", "back in the NetBox selection"}}},
		{name: "a returning object does not take back a device another address linked", cands: []candidate{cand("10.0.0.1", "f")},
			recs:    []store.Record{rec("10.0.0.1", store.StatusRemoved, "5", "f"), rec("10.0.0.3", store.StatusExported, "5", "f")},
			devices: []wugDevice{wdev("5", "10.0.0.3")},
			want:    []planLine{{"10.0.0.1", ActionAdd, "", "new in the NetBox selection"}}},
		{name: "a returning object whose device was deleted is added", cands: []candidate{cand("10.0.0.1", "f")},
			recs: []store.Record{rec("10.0.0.1", store.StatusRemoved, "5", "f")},
			want: []planLine{{"10.0.0.1", ActionAdd, "", "new in the NetBox selection"}}},
		{name: "already removed stays removed", opts: planOptions{RemovalScope: all, Removal: RemoveDelete, ForceRemove: true},
			recs: []store.Record{rec("10.0.0.2", store.StatusRemoved, "5", "f")}, want: []planLine{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := makePlan("test", tt.cands, tt.recs, tt.devices, tt.opts)
			checkPlan(t, tt.want, p)
		})
	}
}

func all(store.Record) bool { return true }

func TestPlanCapWarning(t *testing.T) {
	t.Parallel()
	p := makePlan("test", nil, []store.Record{rec("10.0.0.2", store.StatusExported, "5", "f")},
		[]wugDevice{wdev("5", "10.0.0.2")}, planOptions{RemovalScope: all, Removal: RemoveDelete})
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "1 of our 1 WUG devices") {
		t.Errorf("warnings = %q, want the cap explained", p.Warnings)
	}
}

func TestPlanRender(t *testing.T) {
	t.Parallel()
	invalid := cand("127.0.0.1", "")
	invalid.Verdict.Error(codeLoopback, "127.0.0.1 is a loopback address")
	p := makePlan("test", []candidate{cand("10.0.0.1", "f"), cand("10.0.0.2", "g"), invalid},
		[]store.Record{rec("10.0.0.2", store.StatusExported, "5", "f")}, []wugDevice{wdev("5", "10.0.0.2")}, planOptions{})

	var table bytes.Buffer
	if err := p.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan_table.golden", table.Bytes())

	var js bytes.Buffer
	if err := p.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Connection string `json:"connection"`
		Decisions  []struct {
			Key, Address, Action, Reason, WUGDeviceID string
			ObjectID                                  int64 `json:"object_id"`
		} `json:"decisions"`
	}
	golden(t, "plan.golden.json", js.Bytes())
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("plan JSON does not decode: %v\n%s", err, js.String())
	}
	if back.Connection != "test" || len(back.Decisions) != 3 || back.Decisions[1].Action != "update" ||
		back.Decisions[1].Key != "test/global/10.0.0.2" || back.Decisions[0].ObjectID != 7 {
		t.Errorf("plan JSON = %s", js.String())
	}
}

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}
