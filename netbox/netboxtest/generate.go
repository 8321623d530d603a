package netboxtest

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Generated objects are stamped from this instant on, well before any
// mutation a test makes with the real clock.
var (
	genEpoch    = time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)
	siteCreated = genEpoch.Add(-24 * time.Hour).UnixMicro()
)

var (
	regionNames = []struct{ name, slug string }{
		{"Europe", "europe"}, {"North America", "north-america"}, {"Asia Pacific", "asia-pacific"},
		{"South America", "south-america"}, {"Africa", "africa"}}
	cities = []struct {
		code   string
		region int64
	}{{"ams", 1}, {"nyc", 2}, {"sin", 3}, {"fra", 1}, {"sfo", 2}, {"syd", 3}, {"lon", 1}, {"gru", 4},
		{"jnb", 5}, {"chi", 2}, {"tyo", 3}, {"par", 1}, {"tor", 2}, {"hkg", 3}, {"scl", 4}, {"mad", 1},
		{"dal", 2}, {"nbo", 5}, {"zrh", 1}, {"cai", 5}}
	roleDefs = []struct{ name, slug, color string }{
		{"Core Router", "core-router", "f44336"}, {"Edge Router", "edge-router", "e91e63"},
		{"Distribution Switch", "distribution-switch", "9c27b0"}, {"Access Switch", "access-switch", "3f51b5"},
		{"Firewall", "firewall", "ff5722"}, {"Load Balancer", "load-balancer", "009688"},
		{"Server", "server", "607d8b"}, {"Wireless AP", "wireless-ap", "8bc34a"},
		{"Console Server", "console-server", "795548"}, {"PDU", "pdu", "9e9e9e"}}
	manufacturerDefs = []struct{ name, slug string }{
		{"Cisco", "cisco"}, {"Juniper", "juniper"}, {"Arista", "arista"}, {"Palo Alto Networks", "palo-alto"},
		{"Dell", "dell"}, {"Ubiquiti", "ubiquiti"}, {"Opengear", "opengear"}, {"APC", "apc"}}
	// Device types per role index: model, slug, manufacturer id, airflow.
	deviceTypeDefs = []struct {
		model, slug  string
		manufacturer int64
		airflow      string
		role         int
	}{
		{"ASR1001-X", "asr1001-x", 1, "front-to-rear", 0}, {"MX204", "mx204", 2, "front-to-rear", 1},
		{"Nexus 9336C-FX2", "n9k-c9336c-fx2", 1, "front-to-rear", 2}, {"Catalyst 9300-48P", "c9300-48p", 1, "", 3},
		{"PA-3220", "pa-3220", 4, "front-to-rear", 4}, {"7280R3", "dcs-7280r3", 3, "rear-to-front", 5},
		{"PowerEdge R650", "poweredge-r650", 5, "front-to-rear", 6}, {"UniFi U6 Pro", "u6-pro", 6, "passive", 7},
		{"CM8100", "cm8100", 7, "", 8}, {"AP8941", "ap8941", 8, "passive", 9},
		{"EX4300-48T", "ex4300-48t", 2, "", 3}, {"7050SX3-48YC8", "dcs-7050sx3-48yc8", 3, "front-to-rear", 2},
	}
	platformDefs = []struct {
		name, slug   string
		manufacturer int64
	}{{"Cisco IOS-XE", "cisco-ios-xe", 1}, {"Cisco NX-OS", "cisco-nxos", 1}, {"Junos", "junos", 2},
		{"Arista EOS", "eos", 3}, {"PAN-OS", "panos", 4}, {"Ubuntu Linux", "ubuntu", 0}, {"Windows Server", "windows", 0}}
	tenantDefs = []struct{ name, slug string }{
		{"Acme Corp", "acme"}, {"Globex", "globex"}, {"Initech", "initech"}, {"Umbrella", "umbrella"},
		{"Hooli", "hooli"}, {"Stark Industries", "stark"}}
	tagDefs = []struct {
		name, slug, color string
		chance            float64
	}{{"monitored", "monitored", "4caf50", 0.7}, {"critical", "critical", "f44336", 0.15},
		{"pci", "pci", "ff9800", 0.1}, {"lab", "lab", "9e9e9e", 0.05}, {"backup", "backup", "2196f3", 0.3},
		{"no-monitoring", "no-monitoring", "000000", 0.05}, {"snmp-v3", "snmp-v3", "673ab7", 0.4}}
	vrfDefs = []struct{ name, rd string }{{"mgmt", "65000:1"}, {"red", "65000:10"}, {"blue", "65000:20"}}
	cfDefs  = []cfDef{{name: "snmp_location", typ: cfText}, {name: "ssh_port", typ: cfInteger},
		{name: "decom_date", typ: cfDate}, {name: "monitoring_profile", typ: cfSelect},
		{name: "warranty_expired", typ: cfBoolean}}
	statusWeights = []struct {
		value  string
		weight int
	}{{"active", 80}, {"planned", 5}, {"staged", 3}, {"offline", 4}, {"failed", 2}, {"inventory", 3}, {"decommissioning", 3}}
	vmStatusWeights = []struct {
		value  string
		weight int
	}{{"active", 85}, {"paused", 5}, {"offline", 5}, {"planned", 3}, {"staged", 2}}
)

const (
	vrfMgmt, vrfRed, vrfBlue = 1, 2, 3
	longSiteName             = "Amsterdam Science Park Data Centre Campus Building Three Floor Two Meet-Me Room Suite 2.17 Cage C-07"
)

// gen carries the generator's state.
type gen struct {
	h    *Handler
	r    *rand.Rand
	ipID int64
	ifID int64
}

// generate fills h with the catalog and h.cfg.devices devices and
// h.cfg.vms virtual machines, deterministically from h.cfg.seed.
func generate(h *Handler) {
	g := &gen{h: h, r: rand.New(rand.NewPCG(h.cfg.seed, 0x6e6574626f78))}
	n, m := h.cfg.devices, h.cfg.vms
	h.devices.reserve(n)
	h.vms.reserve(m)
	h.ips.reserve(2*n + m)
	h.ifaces.reserve(2*n + m)
	g.catalog()
	g.devices(h.cfg.devices)
	g.vms(h.cfg.vms)
}

func (g *gen) catalog() {
	c := &g.h.cat
	n := g.h.cfg.devices + g.h.cfg.vms
	add := func(list *[]catEntry, name, slug string, parent int64, extra string) int64 {
		id := int64(len(*list) + 1)
		*list = append(*list, catEntry{id: id, name: name, slug: slug, parent: parent, extra: extra})
		return id
	}
	for _, r := range regionNames {
		add(&c.regions, r.name, r.slug, 0, "")
	}
	nSites := min(max(n/500, 4), 200)
	for i := range nSites {
		city := cities[i%len(cities)]
		name := fmt.Sprintf("%s%d", strings.ToUpper(city.code), i/len(cities)+1)
		site := add(&c.sites, name, strings.ToLower(name), city.region, "")
		for _, hall := range []string{"A", "B"} {
			loc := add(&c.locations, "Hall "+hall, strings.ToLower(name)+"-hall-"+strings.ToLower(hall), site, "")
			for r := 1; r <= 8; r++ {
				rack := fmt.Sprintf("%s-%s-R%02d", name, hall, r)
				add(&c.racks, rack, strings.ToLower(rack), loc, "")
			}
		}
		if i%4 == 0 {
			add(&c.clusters, "cl-"+strings.ToLower(name), "cl-"+strings.ToLower(name), site, "")
		}
	}
	add(&c.sites, longSiteName, "ams-science-park-dc3", 1, "")
	for _, r := range roleDefs {
		add(&c.roles, r.name, r.slug, 0, r.color)
	}
	for _, m := range manufacturerDefs {
		add(&c.manufacturers, m.name, m.slug, 0, "")
	}
	for _, d := range deviceTypeDefs {
		add(&c.deviceTypes, d.model, d.slug, d.manufacturer, d.airflow)
	}
	for _, p := range platformDefs {
		add(&c.platforms, p.name, p.slug, p.manufacturer, "")
	}
	for _, t := range tenantDefs {
		add(&c.tenants, t.name, t.slug, 0, "")
	}
	for _, t := range tagDefs {
		add(&c.tags, t.name, t.slug, 0, t.color)
	}
	for _, v := range vrfDefs {
		add(&c.vrfs, v.name, v.name, 0, v.rd)
	}
	g.h.cfs = slices.Clone(cfDefs)
	for i := range g.h.cfs {
		g.h.cfs[i].id, g.h.cfs[i].objects, g.h.cfs[i].uiEditable = int64(i+1), otDevice|otVM, "yes"
	}
}

func (g *gen) pick(weights []struct {
	value  string
	weight int
}) string {
	total := 0
	for _, w := range weights {
		total += w.weight
	}
	n := g.r.IntN(total)
	for _, w := range weights {
		if n < w.weight {
			return w.value
		}
		n -= w.weight
	}
	return weights[0].value
}

func (g *gen) serial() string {
	const chars = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	b := make([]byte, 12)
	for i := range b {
		b[i] = chars[g.r.IntN(len(chars))]
	}
	return string(b)
}

func (g *gen) newIface(owner kind, ownerID int64, name, typ string, mgmt bool, stamp int64) int64 {
	g.ifID++
	g.h.ifaces.add(&iface{id: g.ifID, owner: owner, ownerID: ownerID, name: name, typ: typ, mgmtOnly: mgmt,
		created: stamp, updated: stamp})
	return g.ifID
}

func (g *gen) newIP(p netip.Prefix, vrf int64, ifaceID int64, owner kind, ownerID int64, role, dns string, stamp int64) int64 {
	g.ipID++
	g.h.ips.add(&ipAddr{id: g.ipID, prefix: p, vrf: vrf, status: "active", role: role, dnsName: dns,
		owner: owner, ownerID: ownerID, iface: ifaceID, created: stamp, updated: stamp})
	return g.ipID
}

// quirkPlan assigns each awkward case to distinct device indexes.
func (g *gen) quirkPlan(n int) map[int]Quirk {
	plan := map[int]Quirk{}
	if n < 10 {
		return plan
	}
	per := max(1, n/2000)
	perm := g.r.Perm(n)
	next := 0
	take := func() int { i := perm[next]; next++; return i }
	if g.h.cfg.undecodable {
		plan[take()] = QuirkUndecodable
	}
	if g.h.cfg.custom {
		plan[take()] = QuirkCustomStatus
	}
	for _, q := range []Quirk{QuirkUnnamed, QuirkNoPrimaryIP, QuirkIPv6Only, QuirkNetworkAddress,
		QuirkBroadcastAddress, QuirkLongName, QuirkUnicodeName} {
		for range per {
			plan[take()] = q
		}
	}
	for range per {
		if next+2 > n {
			break
		}
		plan[take()] = QuirkSameAddressTwoVRFs
		plan[take()] = QuirkSameAddressTwoVRFs
	}
	return plan
}

func ip4(a, b, c, d int, bits int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a), byte(b), byte(c), byte(d)}), bits)
}

func (g *gen) devices(n int) {
	h := g.h
	c := &h.cat
	quirks := g.quirkPlan(n)
	normalSites := len(c.sites) - 1 // the last site is the long-name one
	dupPair, netK, bcK := 0, 0, 0
	for i := range n {
		id := int64(i + 1)
		q := quirks[i]
		created := genEpoch.Add(time.Duration(i) * 37 * time.Second).UnixMicro()
		updated := created + g.r.Int64N(int64(300*24*time.Hour/time.Microsecond))
		dtIdx := g.r.IntN(len(deviceTypeDefs))
		dt := deviceTypeDefs[dtIdx]
		o := &object{id: id, site: int64(g.r.IntN(normalSites) + 1), role: int64(dt.role + 1),
			devType: int64(dtIdx + 1), status: "active", serial: g.serial(), created: created, updated: updated, quirks: q}
		if g.r.IntN(10) < 9 {
			o.location = (o.site-1)*2 + int64(g.r.IntN(2)) + 1
			if g.r.IntN(5) < 4 {
				o.rack = (o.location-1)*8 + int64(g.r.IntN(8)) + 1
				o.position = float64(g.r.IntN(42) + 1)
			}
		}
		o.status = g.pick(statusWeights)
		if g.r.IntN(10) < 7 {
			o.tenant = int64(g.r.IntN(len(tenantDefs)) + 1)
		}
		for pi, p := range platformDefs {
			if p.manufacturer == dt.manufacturer && g.r.IntN(10) < 9 {
				o.platform = int64(pi + 1)
				break
			}
		}
		if g.r.IntN(10) < 7 {
			o.assetTag = fmt.Sprintf("AT-%06d", id)
		}
		for ti, t := range tagDefs {
			if g.r.Float64() < t.chance {
				o.tags = append(o.tags, int64(ti+1))
			}
		}
		site := get(c.sites, o.site)
		role := roleDefs[dt.role]
		o.name = fmt.Sprintf("%s-%s-%05d", site.slug, role.slug, id)
		var snmpLoc any
		if loc := get(c.locations, o.location); loc != nil {
			snmpLoc = site.name + " " + loc.name
		}
		var sshPort any
		if g.r.IntN(3) > 0 {
			sshPort = int64([]int{22, 22, 2222}[g.r.IntN(3)])
		}
		var decom any
		if o.status == "decommissioning" {
			decom = "2026-06-30"
		}
		profile := any([]string{"standard", "standard", "critical"}[g.r.IntN(3)])
		if g.r.IntN(5) == 0 {
			profile = nil
		}
		o.cf = []any{snmpLoc, sshPort, decom, profile, g.r.IntN(4) == 0}

		switch q {
		case QuirkUnnamed:
			o.name = ""
			if id%2 == 0 {
				o.assetTag = ""
			}
		case QuirkLongName:
			o.site = int64(len(c.sites))
			o.location, o.rack, o.position = 0, 0, 0
			o.name = padTo(fmt.Sprintf("ams-science-park-dc3-core-aggregation-router-%05d", id), 64, "-long")
			o.description = padTo("Core aggregation router for the science park campus, building three, "+
				"floor two, meet-me room 2.17, cage C; carries transit, peering and campus uplinks; owned by network engineering", 200, " (long)")
			o.cf[0] = padTo(longSiteName+" / row 7 / rack C-07 / units 38-40 / contact the on-site NOC before any change", 300, " / see runbook")
		case QuirkUnicodeName:
			o.name = fmt.Sprintf("zürich-kern-Ø%d-東京-%05d", id%10, id)
			o.description = "Schaltschrank Süd, Lötzinnstraße"
		case QuirkCustomStatus:
			o.status = customStatus
		}

		// Interfaces and addresses.
		mname := manufacturerDefs[dt.manufacturer-1].slug
		primaryName, loName := "eth0", "lo0"
		switch mname {
		case "cisco":
			primaryName, loName = "GigabitEthernet0/0/0", "Loopback0"
		case "juniper":
			primaryName = "ge-0/0/0"
		case "arista":
			primaryName, loName = "Ethernet1", "Loopback0"
		}
		subnet := i / 250
		host := i%250 + 2
		dns := ""
		if o.name != "" && q != QuirkUnicodeName {
			dns = o.name + ".example.net"
		}
		if q == QuirkLongName {
			dns = longDNSName(id)
		}
		pif := g.newIface(kindDevice, id, primaryName, "1000base-t", false, created)
		v4 := ip4(10, subnet>>8, subnet&255, host, 24)
		vrf := int64(0)
		switch q {
		case QuirkSameAddressTwoVRFs:
			k := dupPair / 2
			v4 = ip4(10, 99, k/250, k%250+2, 24)
			vrf = int64(vrfRed + dupPair%2)
			dupPair++
		case QuirkNetworkAddress:
			v4 = ip4(10, 98, netK%256, 0, 24)
			netK++
		case QuirkBroadcastAddress:
			v4 = ip4(10, 97, bcK%256, 255, 24)
			bcK++
		}
		if q != QuirkIPv6Only {
			ipid := g.newIP(v4, vrf, pif, kindDevice, id, "", dns, created)
			if q != QuirkNoPrimaryIP {
				o.ip4 = ipid
			}
			h.ips.byID[ipid].malformed = q == QuirkUndecodable
		}
		if q == QuirkIPv6Only || (q != QuirkNoPrimaryIP && g.r.IntN(100) < 35) {
			v6 := netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, byte(subnet >> 8), byte(subnet),
				0, 0, 0, 0, 0, 0, byte(host >> 8), byte(host)}), 64)
			o.ip6 = g.newIP(v6, 0, pif, kindDevice, id, "", dns, created)
		}
		if q != QuirkIPv6Only && g.r.IntN(2) == 0 {
			mif := g.newIface(kindDevice, id, "mgmt0", "1000base-t", true, created)
			o.oob = g.newIP(ip4(172, 16+subnet>>8, subnet&255, host, 24), vrfMgmt, mif, kindDevice, id, "", "", created)
		}
		if q != QuirkIPv6Only && g.r.IntN(4) == 0 {
			lif := g.newIface(kindDevice, id, loName, "virtual", false, created)
			g.newIP(ip4(10, 128+i>>16, (i>>8)&255, i&255, 32), 0, lif, kindDevice, id, "loopback", "", created)
		}
		h.devices.add(o)
	}
}

func (g *gen) vms(n int) {
	h := g.h
	c := &h.cat
	for j := range n {
		id := int64(j + 1)
		created := genEpoch.Add(time.Duration(j) * 53 * time.Second).UnixMicro()
		updated := created + g.r.Int64N(int64(300*24*time.Hour/time.Microsecond))
		cl := get(c.clusters, int64(g.r.IntN(len(c.clusters))+1))
		o := &object{id: id, cluster: cl.id, site: cl.parent, role: 7, status: g.pick(vmStatusWeights),
			platform: int64(6 + g.r.IntN(2)), vcpus: float64(int(2) << g.r.IntN(3)),
			memory: int64(4096 << g.r.IntN(3)), disk: int64(40960 << g.r.IntN(3)), created: created, updated: updated}
		o.name = fmt.Sprintf("vm-%s-%05d", strings.TrimPrefix(cl.name, "cl-"), id)
		if g.r.IntN(10) < 6 {
			o.tenant = int64(g.r.IntN(len(tenantDefs)) + 1)
		}
		for ti, t := range tagDefs {
			if g.r.Float64() < t.chance {
				o.tags = append(o.tags, int64(ti+1))
			}
		}
		o.cf = []any{nil, int64(22), nil, "standard", false}
		subnet, host := j/250, j%250+2
		vif := g.newIface(kindVM, id, "eth0", "virtual", false, created)
		ipid := g.newIP(ip4(10, 64+subnet>>8, subnet&255, host, 24), 0, vif, kindVM, id, "", o.name+".vm.example.net", created)
		if g.r.IntN(20) > 0 {
			o.ip4 = ipid
		}
		h.vms.add(o)
	}
}

// padTo cuts s to exactly n bytes or pads it with repeats of filler (all
// ASCII).
func padTo(s string, n int, filler string) string {
	for len(s) < n {
		s += filler
	}
	return s[:n]
}

// longDNSName is a valid 194-character DNS name (labels up to 60).
func longDNSName(id int64) string {
	label := func(word string) string { return padTo(fmt.Sprintf("%s-%05d", word, id), 60, "-long") }
	return label("core-aggregation") + "." + label("science-park-campus") + "." + label("building-three") + ".example.net"
}
