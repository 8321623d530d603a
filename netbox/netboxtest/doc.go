// Package netboxtest is an in-process fake NetBox 4.3 REST API for tests:
// one line starts it, with generated data that go-netbox v4.3.0's strict
// decoding accepts, and the awkward cases real NetBox data has.
//
//	srv := netboxtest.NewServer(t, netboxtest.WithDevices(1000))
//	// point a client at srv.URL with "Authorization: Token " + srv.Token
//
// It serves /api/status/, /api/dcim/devices/ (and {id}/),
// /api/virtualization/virtual-machines/ (and {id}/), /api/ipam/ip-addresses/
// (and {id}/), /api/dcim/interfaces/ and /api/dcim/sites/ (and {id}/), with
// NetBox's filters, paging (limit/offset, next/previous links, keyset via
// id__gt with ordering=id), brief=, fields= and exclude=config_context,
// NetBox's error bodies (403 for a missing or refused token, 400 for a bad
// filter value, 404 for an unknown id) and JSON shapes that conform to the
// OpenAPI document shipped with go-netbox.
//
// Tests change the data with CreateDevice, UpdateDevice, DeleteDevice,
// CreateIP and friends (bumping last_updated and, with WithWebhook, sending
// a signed NetBox webhook), inject faults with FailNext, DropNext and
// SetLatency, and inspect traffic with Count and Requests.
//
// Generated devices flagged with a [Quirk] carry the awkward cases: unnamed
// devices, no primary IP, IPv6 only, one address in two VRFs, network and
// broadcast addresses, long text, unicode names, and (only with
// WithUndecodableDevice) a custom status go-netbox cannot decode.
package netboxtest
