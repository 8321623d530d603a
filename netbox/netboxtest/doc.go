// Package netboxtest is an in-process fake NetBox 4.3 REST API for tests:
// one line starts it, with generated data that go-netbox v4.3.0's strict
// decoding accepts and the awkward cases real NetBox data has.
//
//	srv := netboxtest.NewServer(t, netboxtest.WithDevices(1000))
//	client := srv.Client() // a wugsync netbox.Client wired to the fake
//	// or any client at srv.URL with "Authorization: Token " + srv.Token
//
// NewHandler gives the same fake as a plain http.Handler, for a quick
// start outside tests.
//
// # What it serves
//
// GET /api/status/, /api/dcim/devices/ (and {id}/),
// /api/virtualization/virtual-machines/ (and {id}/), /api/ipam/ip-addresses/
// (and {id}/), /api/dcim/interfaces/, /api/dcim/sites/ (and {id}/), and
// /api/dcim/device-roles/ and /api/extras/tags/ (id and slug filters), with
// NetBox's filters (site, location, region, rack, role, tenant, platform,
// manufacturer, device type and cluster by id or slug, with "null" and
// __n; tag with AND semantics, tag__n; status; cf_<name>; id and its
// lookups; created/last_updated lookups; name lookups; q), paging
// (limit clamped at MAX_PAGE_SIZE, offset, next/previous links as NetBox
// builds them, keyset via id__gt with ordering=id), ordering, brief=,
// fields= (from NetBox 4.0, as [WithVersion] sets it) and
// exclude=config_context. Responses carry JSON content types and NetBox's
// error bodies: 403 for a missing or refused token (Token, or
// Bearer for "nbt_" v2 tokens), 400 naming a bad filter value, 404 for an
// unknown id, 405 for a method a path does not serve. Their shapes conform to the OpenAPI document
// shipped with go-netbox (the package's tests check every endpoint).
// Unknown query parameters are ignored, as NetBox does, unless
// [WithStrictParams] asks for a 400 naming them.
//
// Lists are served from per-field indexes: a keyset page starts with a
// binary search at id__gt, and a single indexed condition (status=active)
// is counted without a scan, so paging 100,000 devices stays linear.
//
// # Writes
//
// The fake takes the writes wugsync's NetBox write-back makes, as NetBox
// 4.3 answers them:
//
//   - GET and POST /api/extras/custom-fields/ (one definition or a list;
//     text, long text, integer, decimal, boolean, date, date & time, URL
//     and JSON types). A field's values appear, null until set, in the
//     custom_fields of the object types it is enabled for.
//   - PATCH /api/dcim/devices/ and /api/virtualization/virtual-machines/
//     with a list body ([{"id": N, "custom_fields": {…}}]): every item
//     needs an integer id, ids that do not exist are skipped, and values
//     are checked per field type. The first refusal (an unknown field:
//     {"__all__": ["Unknown field name 'x' in custom field data."]}, a value
//     of the wrong type) answers 400 and changes nothing; otherwise each
//     object's last_updated moves, an "updated" webhook fires per object,
//     and the answer lists the objects in full. Only custom_fields are
//     written.
//   - GET and POST /api/extras/journal-entries/ (one entry or a list) on
//     devices and VMs.
//
// Writes counts every request other than GET and HEAD, so a test can
// assert that a run wrote nothing; CustomFields, JournalEntries and
// Device(id).CustomFields read back what was written.
//
// # Data
//
// The seeded generator spreads devices and VMs over regions, sites,
// locations, racks, roles, platforms, tenants, tags and custom fields, with
// primary IPv4/IPv6, out-of-band and loopback addresses on interfaces, some
// in VRFs. Devices flagged with a [Quirk] carry the awkward cases: unnamed,
// no primary IP, IPv6 only, one address in two VRFs, a subnet's network or
// broadcast address, text over WUG's 150-character limits, unicode names
// and, on request, a custom status choice go-netbox cannot decode
// ([WithCustomStatus]) and a device no client can decode
// ([WithUndecodableDevice]). [Handler.Quirky] finds them.
//
// # Test controls
//
// CreateDevice, UpdateDevice, DeleteDevice, CreateIP, UpdateIP, DeleteIP
// (and the VM forms) change the data and bump last_updated; with
// [WithWebhook] device and VM changes are also sent as NetBox event-rule
// webhooks, signed in X-Hook-Signature, in the body form of the version
// [WithVersion] chooses. FailNext, DropNext, SetLatency and ClearFaults
// control faults; Count and Requests report traffic per [Route].
package netboxtest
