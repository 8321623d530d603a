package storetest

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/wugsync/wugsync/store"
)

// base is the time the generated records' timestamps count from.
var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Record returns the i-th record of a deterministic fleet for connection
// conn. Records with different i have different keys (for i below 2^24);
// statuses, reasons, VRFs, object kinds and the optional fields vary with i,
// and every field a status implies is set: a record with a WUG device
// carries what was written to it, and every third of those was adopted.
// CreatedAt and UpdatedAt are zero, for the store to set.
func Record(conn string, i int) store.Record {
	// Statuses cycle independently of VRFs, so every VRF holds every status.
	st := store.Statuses[(i/len(vrfs))%len(store.Statuses)]
	r := store.Record{
		Key:        store.Key{Connection: conn, VRF: vrfs[i%len(vrfs)], Address: Address(i)},
		ObjectKind: store.ObjectDevice,
		ObjectID:   int64(i/2 + 1),
		ObjectName: "dev-" + strconv.Itoa(i/2+1),
		Status:     st,
		Reason:     reasons[i%len(reasons)],
		Attempts:   i % 4,
		// A stable stand-in for a hash of the device template.
		Fingerprint: strconv.FormatUint(uint64(i)*0x9e3779b97f4a7c15, 16),
	}
	if i%5 == 4 {
		r.ObjectKind = store.ObjectVirtualMachine
		r.ObjectName = "vm-" + strconv.Itoa(i/2+1)
	}
	at := base.Add(time.Duration(i) * time.Second)
	switch st {
	case store.StatusExported:
		r.WUGDeviceID = strconv.Itoa(1000 + i)
		r.ExportedAt = at
	case store.StatusScanTriggered:
		r.ScanID = "scan-" + strconv.Itoa(i)
		r.ScanState = "Running"
		r.ScanTriggeredAt = at
	case store.StatusScanCompleted:
		r.ScanID = "scan-" + strconv.Itoa(i)
		r.ScanState = "Completed"
		r.ScanDiscovered = i%2 == 0
		if r.ScanDiscovered {
			r.WUGDeviceID = strconv.Itoa(1000 + i)
		}
		r.ScanTriggeredAt = at
		r.ScanCompletedAt = at.Add(90 * time.Second)
	case store.StatusError:
		r.LastError = "wug: apply template: 500 Internal Server Error"
	case store.StatusRemoved:
		r.WUGDeviceID = strconv.Itoa(1000 + i)
		r.ExportedAt = at
	}
	if r.WUGDeviceID != "" {
		r.Adopted = i%3 == 0
		r.Written = store.Written{
			GroupPath:   "My Network/NetBox/site-" + strconv.Itoa(i%7),
			Attributes:  map[string]string{"NetBox.Site": "site-" + strconv.Itoa(i%7), "NetBox.ID": strconv.Itoa(i/2 + 1)},
			OSRole:      []string{"", "Linux", "Cisco IOS"}[i%3],
			Maintenance: i%11 == 0,
		}
		if !r.Adopted {
			r.Written.DisplayName = r.ObjectName
			r.Written.Note = "managed by wugsync"
		}
	}
	return r
}

var (
	vrfs    = []string{"", "", "blue", "red"}
	reasons = []store.Reason{store.ReasonNewDevice, store.ReasonIPChanged, store.ReasonMetadataUpdate, store.ReasonBulk, store.ReasonManual}
)

// Address returns the i-th address of the generated fleet: every tenth an
// IPv6 address in 2001:db8::/32, the others IPv4 addresses in 10.0.0.0/8.
func Address(i int) netip.Addr {
	if i%10 == 9 {
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
		for j := 0; j < 8; j++ {
			b[15-j] = byte(uint64(i) >> (8 * j))
		}
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// Records returns records 0 to n-1 of Record(conn, i).
func Records(conn string, n int) []store.Record {
	out := make([]store.Record, n)
	for i := range out {
		out[i] = Record(conn, i)
	}
	return out
}
