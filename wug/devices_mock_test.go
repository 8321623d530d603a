package wug_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	"github.com/wugsync/wugsync/wug"
)

func TestBulkAddBatchesAndOutcomes(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	var mu sync.Mutex
	var sizes []int
	m.mt.RegisterResponder("PATCH", mockBase+"/api/v1/devices/-/config/template", m.authed(func(req *http.Request) (*http.Response, error) {
		var batch struct {
			Options   []string             `json:"options"`
			Templates []wug.DeviceTemplate `json:"templates"`
		}
		if err := json.NewDecoder(req.Body).Decode(&batch); err != nil {
			return nil, err
		}
		mu.Lock()
		sizes = append(sizes, len(batch.Templates))
		call := len(sizes)
		mu.Unlock()
		if call == 2 {
			return httpmock.NewStringResponse(500, `{"error":{"code":"Internal","message":"database busy"}}`), nil
		}
		var res wug.ApplyTemplateResults
		for _, tp := range batch.Templates {
			switch {
			case strings.HasPrefix(tp.DisplayName, "fail"):
				res.Errors = append(res.Errors, wug.TemplateErrorMap{TemplateID: tp.TemplateID, Messages: []string{"interface rejected"}})
			case strings.HasPrefix(tp.DisplayName, "warn"):
				res.IDMap = append(res.IDMap, wug.TemplateMap{TemplateID: tp.TemplateID, ResultID: "d-" + tp.TemplateID})
				res.Errors = append(res.Errors, wug.TemplateErrorMap{TemplateID: tp.TemplateID, Messages: []string{"credential public-ro not found"}})
			default:
				res.IDMap = append(res.IDMap, wug.TemplateMap{TemplateID: tp.TemplateID, ResultID: "d-" + tp.TemplateID})
			}
		}
		return httpmock.NewStringResponse(200, mustJSON(map[string]any{"data": res})), nil
	}))
	c := m.client(t, wug.WithBatchSize(50))
	templates := make([]wug.DeviceTemplate, 120)
	for i := range templates {
		name := fmt.Sprintf("dev-%d", i)
		switch i {
		case 3:
			name = "fail-3"
		case 4:
			name = "warn-4"
		}
		templates[i] = wug.DeviceTemplate{DisplayName: name, Interfaces: []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: fmt.Sprintf("10.1.%d.%d", i/200, i%200+1)}}}
		if i == 110 {
			templates[i].TemplateID = "nb-110"
		}
	}
	outs, err := c.Devices.BulkAdd(context.Background(), templates)
	if err == nil || !strings.Contains(err.Error(), "database busy") {
		t.Errorf("err = %v, want the second batch's error", err)
	}
	if diff := cmp.Diff([]int{50, 50, 20}, sizes); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
	if len(outs) != 120 {
		t.Fatalf("%d outcomes, want 120", len(outs))
	}
	if o := outs[0]; o.DeviceID != "d-t0" || o.Err != nil || o.TemplateID != "t0" || o.Index != 0 {
		t.Errorf("outcome 0 = %+v", o)
	}
	var te *wug.TemplateError
	if o := outs[3]; o.Created() || !errors.As(o.Err, &te) || te.Message != "interface rejected" || !errors.Is(o.Err, wug.ErrOperationFailed) {
		t.Errorf("outcome 3 = %+v, want a failure with WUG's message", o)
	}
	if o := outs[4]; o.DeviceID != "d-t4" || o.Err != nil || !cmp.Equal(o.Warnings, []string{"credential public-ro not found"}) {
		t.Errorf("outcome 4 = %+v, want created with a warning", o)
	}
	for i := 50; i < 100; i++ {
		var ae *wug.APIError
		if outs[i].Created() || !errors.As(outs[i].Err, &ae) || ae.StatusCode != 500 {
			t.Fatalf("outcome %d = %+v, want the batch's 500", i, outs[i])
		}
	}
	if o := outs[110]; o.DeviceID != "d-nb-110" || o.TemplateID != "nb-110" {
		t.Errorf("outcome 110 = %+v", o)
	}
}

func TestBulkAddBatchSizeOption(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	var calls int
	m.mt.RegisterResponder("PATCH", mockBase+"/api/v1/devices/-/config/template", m.authed(func(*http.Request) (*http.Response, error) {
		calls++
		return httpmock.NewStringResponse(200, `{"data":{"idMap":[],"errors":[]}}`), nil
	}))
	c := m.client(t, wug.WithBatchSize(2))
	ts := make([]wug.DeviceTemplate, 5)
	for i := range ts {
		ts[i] = wug.DeviceTemplate{DisplayName: "d", Interfaces: []wug.TemplateInterface{{NetworkAddress: "192.0.2.1"}}}
	}
	outs, err := c.Devices.BulkAdd(context.Background(), ts)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("calls = %d, want 3", calls)
	}
	for _, o := range outs {
		if !errors.Is(o.Err, wug.ErrOutcomeUnknown) || !strings.Contains(o.Err.Error(), "neither maps it to a device nor says why") {
			t.Errorf("outcome %d err = %v", o.Index, o.Err)
		}
	}
}

func TestUpdateMetadata(t *testing.T) {
	t.Parallel()
	existing := `{"paging":{"size":5},"data":[
		{"attributeId":"1","name":"NetBoxId","value":"42"},
		{"attributeId":"2","name":"netbox_site","value":"old-site"},
		{"attributeId":"3","name":"NetBox_Role","value":"gone"},
		{"attributeId":"4","name":"Location","value":"DC1"},
		{"attributeId":"5","name":"Contact","value":"ops"}]}`
	name := func(s string) *string { return &s }
	tests := []struct {
		name      string
		update    wug.MetadataUpdate
		wantBatch string // "" means no PATCH
		wantProps string // "" means no PUT
		want      *wug.MetadataChange
		reads     int
	}{
		{
			name:   "unchanged device costs one read",
			update: wug.MetadataUpdate{Attributes: map[string]string{"netboxid": "42", "NetBox_Site": "old-site", "NetBox_Role": "gone"}, OwnedPrefix: "netbox"},
			want:   &wug.MetadataChange{},
			reads:  1,
		},
		{
			name: "adds, modifies and deletes owned only",
			update: wug.MetadataUpdate{
				Attributes:  map[string]string{"NetBoxId": "42", "NetBox_Site": "site-a", "NetBox_Tenant": "acme"},
				OwnedPrefix: "NetBox",
			},
			wantBatch: `{"attributesToDelete":["3"],"attributeToModify":[{"attributeId":"2","name":"netbox_site","value":"site-a"}],"attributesToAdd":[{"name":"NetBox_Tenant","value":"acme"}]}`,
			want: &wug.MetadataChange{
				Added:    []wug.NameValue{{Name: "NetBox_Tenant", Value: "acme"}},
				Modified: []wug.NameValue{{Name: "netbox_site", Value: "site-a"}},
				Deleted:  []string{"NetBox_Role"},
			},
			reads: 1,
		},
		{
			name: "owned predicate and display name from current device",
			update: wug.MetadataUpdate{
				Attributes:  map[string]string{"Location": "DC2"},
				Owned:       func(n string) bool { return n == "Contact" },
				DisplayName: name("core-2"),
				Note:        name("same note"),
				Current:     &wug.Device{ID: "7", Name: "core-1", Notes: "same note"},
			},
			wantBatch: `{"attributesToDelete":["5"],"attributeToModify":[{"attributeId":"4","name":"Location","value":"DC2"}]}`,
			wantProps: `{"displayName":"core-2"}`,
			want: &wug.MetadataChange{
				Modified:    []wug.NameValue{{Name: "Location", Value: "DC2"}},
				Deleted:     []string{"Contact"},
				DisplayName: true,
			},
			reads: 1,
		},
		{
			name:      "note compared with properties read",
			update:    wug.MetadataUpdate{Attributes: map[string]string{"NetBoxId": "42"}, Note: name("new note"), DisplayName: name("core-1")},
			wantProps: `{"note":"new note"}`,
			want:      &wug.MetadataChange{Note: true},
			reads:     2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMockWUG(t)
			m.handle("GET", "/devices/7/attributes/-", 200, existing)
			m.handle("GET", "/devices/7/properties", 200, `{"data":{"id":"7","displayName":"core-1","note":"old note"}}`)
			var gotBatch, gotProps string
			m.mt.RegisterResponder("PATCH", mockBase+"/api/v1/devices/7/attributes/-", m.authed(func(req *http.Request) (*http.Response, error) {
				var v json.RawMessage
				json.NewDecoder(req.Body).Decode(&v)
				gotBatch = string(v)
				return httpmock.NewStringResponse(200, `{"data":{"successfulOperations":3,"success":true}}`), nil
			}))
			m.mt.RegisterResponder("PUT", mockBase+"/api/v1/devices/7/properties", m.authed(func(req *http.Request) (*http.Response, error) {
				var v json.RawMessage
				json.NewDecoder(req.Body).Decode(&v)
				gotProps = string(v)
				return httpmock.NewStringResponse(200, `{"data":{"success":true}}`), nil
			}))
			c := m.client(t)
			got, err := c.Devices.UpdateMetadata(context.Background(), "7", tt.update)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("change (-want +got):\n%s", diff)
			}
			if gotBatch != tt.wantBatch {
				t.Errorf("PATCH body = %s, want %s", gotBatch, tt.wantBatch)
			}
			if gotProps != tt.wantProps {
				t.Errorf("PUT body = %s, want %s", gotProps, tt.wantProps)
			}
			reads := m.calls("GET", "/devices/7/attributes/-") + m.calls("GET", "/devices/7/properties")
			if reads != tt.reads {
				t.Errorf("reads = %d, want %d", reads, tt.reads)
			}
			if got.Changed() != (tt.wantBatch != "" || tt.wantProps != "") {
				t.Errorf("Changed() = %v", got.Changed())
			}
		})
	}
}
