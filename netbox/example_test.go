package netbox_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// Stream the active devices of one site with their primary IPv4 address,
// from a fake NetBox.
func ExampleClient_Devices() {
	srv, err := netboxtest.Start(netboxtest.WithDevices(100))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	c := srv.Client()
	site := srv.Devices()[0].Site
	n := 0
	for d, err := range c.Devices(context.Background(), netbox.Selector{Sites: []string{site}}) {
		if de, ok := errors.AsType[*netbox.DeviceError](err); ok {
			fmt.Println("skipped:", de.ID, de.Err)
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		if n++; n <= 3 {
			fmt.Printf("%s %s %s %v\n", d.Name, d.Site.Slug, d.Region.Name, d.PrimaryIPv4.Address)
		}
	}
	// Output:
	// fra1-access-switch-00001 fra1 Europe 10.0.0.2/24
	// fra1-server-00002 fra1 Europe 10.0.0.3/24
	// fra1-firewall-00013 fra1 Europe 10.0.0.14/24
}

// Receive NetBox webhooks; NetBox signs each body with the webhook's
// secret.
func ExampleNewWebhookHandler() {
	events := make(chan netbox.Event, 1)
	h, err := netbox.NewWebhookHandler(netbox.WebhookConfig{Secret: "s3cret"}, netbox.EmitTo(events))
	if err != nil {
		log.Fatal(err)
	}
	body := `{"event": "deleted", "timestamp": "2025-05-02T11:04:12.345678+00:00", "object_type": "dcim.device",
		"data": {"id": 42, "name": "ams1-edge-01"}}`
	req := httptest.NewRequest(http.MethodPost, "/hooks/netbox", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(netbox.SignatureHeader, netbox.Sign([]byte("s3cret"), []byte(body)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	e := <-events
	fmt.Println(rec.Code, e.Action, e.Kind, e.ID, e.Name)
	// Output:
	// 204 deleted device 42 ams1-edge-01
}
