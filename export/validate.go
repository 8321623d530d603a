package export

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"go4.org/netipx"
)

// parseAddress parses NetBox address text: an address with its prefix
// length ("192.0.2.10/24", "2001:db8::10/64") or a bare address, which gets
// a full-length prefix. Surrounding spaces are ignored. A zoned address
// ("fe80::1%eth0/64") is an error.
func parseAddress(text string) (netip.Prefix, error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return netip.Prefix{}, errors.New("address is empty")
	}
	if strings.Contains(s, "%") {
		return netip.Prefix{}, fmt.Errorf("address %q has an IPv6 zone, which WUG cannot use", text)
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("address %q does not parse: %w", text, err)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("address %q does not parse: %w", text, err)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// validateIP parses NetBox address text (see parseAddress) and judges it for
// monitoring: see validatePrefix.
func validateIP(text string) verdict {
	p, err := parseAddress(text)
	if err != nil {
		var v verdict
		code := codeUnparseable
		if strings.Contains(text, "%") {
			code = codeZoned
		}
		v.Error(code, err.Error()+".")
		return v
	}
	return validatePrefix(p)
}

// validatePrefix judges a host address with its NetBox prefix length for
// monitoring by WUG. (A netip.Prefix never carries a zone.)
//
// Errors (not exportable): an invalid prefix, the unspecified
// address, 0.0.0.0/8, loopback, multicast, the limited broadcast address,
// the network or broadcast address of its own IPv4 subnet (not for /31 and
// /32), IPv6 link-local.
//
// Warnings: IPv4 link-local, reserved blocks, documentation and
// benchmarking ranges, shared address space, public addresses, IPv4-mapped
// and transition (6to4, Teredo, NAT64) IPv6 addresses, deprecated IPv6
// site-local addresses, and the subnet-router anycast address of an IPv6
// subnet.
func validatePrefix(p netip.Prefix) verdict {
	var v verdict
	a := p.Addr()
	if !p.IsValid() {
		v.Error(codeUnparseable, "The address is missing or not a valid IP address with prefix length.")
		return v
	}
	if a.Is4In6() {
		v.Warn(codeIPv4Mapped, fmt.Sprintf("%s is an IPv4-mapped IPv6 address; record %s in NetBox instead.", a, a.Unmap()))
		bits := p.Bits() - 96
		if bits < 0 {
			bits = 32 // the prefix says nothing about the IPv4 subnet
		}
		p = netip.PrefixFrom(a.Unmap(), bits)
		a = p.Addr()
	}
	if a.Is4() {
		validate4(&v, p.Bits(), a)
	} else {
		validate6(&v, p.Bits(), a)
	}
	return v
}

// special is a special-purpose block and what it means for monitoring.
type special struct {
	prefix netip.Prefix
	code   string
	err    bool   // an error rather than a warning
	what   string // completes "<addr> is ..."
}

func mustPrefixes(specs ...special) []special {
	for i := range specs {
		if !specs[i].prefix.IsValid() {
			panic("export: bad special-purpose prefix")
		}
	}
	return specs
}

// IANA IPv4 and IPv6 special-purpose address registries (RFC 6890 and
// successors), most specific first within a family where they overlap.
var (
	specials4 = mustPrefixes(
		special{netip.MustParsePrefix("0.0.0.0/8"), codeThisNetwork, true, `in 0.0.0.0/8 ("this network"), which is never a destination`},
		special{netip.MustParsePrefix("127.0.0.0/8"), codeLoopback, true, "a loopback address; WUG would poll itself"},
		special{netip.MustParsePrefix("224.0.0.0/4"), codeMulticast, true, "a multicast address, not a device"},
		special{netip.MustParsePrefix("169.254.0.0/16"), codeIPv4LinkLocal, false, "an IPv4 link-local address; WUG can reach it only from the same link"},
		special{netip.MustParsePrefix("100.64.0.0/10"), codeSharedAddressSpace, false, "in the shared address space 100.64.0.0/10 (carrier-grade NAT); make sure WUG is on the same side of the NAT"},
		special{netip.MustParsePrefix("192.0.2.0/24"), codeDocumentation, false, "in 192.0.2.0/24, reserved for documentation (TEST-NET-1)"},
		special{netip.MustParsePrefix("198.51.100.0/24"), codeDocumentation, false, "in 198.51.100.0/24, reserved for documentation (TEST-NET-2)"},
		special{netip.MustParsePrefix("203.0.113.0/24"), codeDocumentation, false, "in 203.0.113.0/24, reserved for documentation (TEST-NET-3)"},
		special{netip.MustParsePrefix("198.18.0.0/15"), codeBenchmarking, false, "in 198.18.0.0/15, reserved for network benchmarking"},
		special{netip.MustParsePrefix("192.0.0.0/24"), codeReserved, false, "in 192.0.0.0/24, reserved for IETF protocol assignments"},
		special{netip.MustParsePrefix("192.88.99.0/24"), codeReserved, false, "in 192.88.99.0/24, the deprecated 6to4 relay anycast block"},
		special{netip.MustParsePrefix("240.0.0.0/4"), codeReserved, false, "in 240.0.0.0/4, reserved for future use"},
	)
	private4 = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
	}

	specials6 = mustPrefixes(
		special{netip.MustParsePrefix("fe80::/10"), codeIPv6LinkLocal, true, "an IPv6 link-local address; it needs an interface zone and WUG cannot reach it"},
		special{netip.MustParsePrefix("ff00::/8"), codeMulticast, true, "a multicast address, not a device"},
		special{netip.MustParsePrefix("fec0::/10"), codeIPv6SiteLocal, false, "a deprecated IPv6 site-local address (fec0::/10)"},
		special{netip.MustParsePrefix("2001:db8::/32"), codeDocumentation, false, "in 2001:db8::/32, reserved for documentation"},
		special{netip.MustParsePrefix("3fff::/20"), codeDocumentation, false, "in 3fff::/20, reserved for documentation"},
		special{netip.MustParsePrefix("2001:2::/48"), codeBenchmarking, false, "in 2001:2::/48, reserved for network benchmarking"},
		special{netip.MustParsePrefix("2001::/32"), codeIPv6Transition, false, "a Teredo tunnel address (2001::/32); it changes with the client's NAT mapping"},
		special{netip.MustParsePrefix("2002::/16"), codeIPv6Transition, false, "a 6to4 address (2002::/16); 6to4 is deprecated and its relays are unreliable"},
		special{netip.MustParsePrefix("64:ff9b::/96"), codeIPv6Transition, false, "a NAT64 address (64:ff9b::/96); WUG will reach the IPv4 host behind the translator"},
		special{netip.MustParsePrefix("64:ff9b:1::/48"), codeIPv6Transition, false, "a local-use NAT64 address (64:ff9b:1::/48); WUG will reach the IPv4 host behind the translator"},
		special{netip.MustParsePrefix("100::/64"), codeReserved, false, "in 100::/64, the discard-only block"},
		special{netip.MustParsePrefix("2001::/23"), codeReserved, false, "in 2001::/23, reserved for IETF protocol assignments"},
	)
	ula6     = netip.MustParsePrefix("fc00::/7")
	global6  = netip.MustParsePrefix("2000::/3")
	limited4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

func validate4(v *verdict, bits int, a netip.Addr) {
	switch {
	case a.IsUnspecified():
		v.Error(codeUnspecified, fmt.Sprintf("%s is the unspecified address, not a device.", a))
		return
	case a == limited4:
		v.Error(codeLimitedBroadcast, fmt.Sprintf("%s is the limited broadcast address, not a device.", a))
		return
	}
	if s, ok := lookupSpecial(specials4, a); ok {
		addSpecial(v, s, a)
		if s.err {
			return
		}
	} else if !inAny(private4, a) {
		v.Warn(codePublic, fmt.Sprintf("%s is a public address; make sure WUG can reach it.", a))
	}
	if bits < 31 {
		p := netip.PrefixFrom(a, bits).Masked()
		switch a {
		case p.Addr():
			v.Error(codeNetworkAddress, fmt.Sprintf("%s is the network address of its subnet %s, not a host.", a, p))
		case netipx.PrefixLastIP(p):
			v.Error(codeBroadcastAddress, fmt.Sprintf("%s is the broadcast address of its subnet %s, not a host.", a, p))
		}
	}
}

func validate6(v *verdict, bits int, a netip.Addr) {
	switch {
	case a.IsUnspecified():
		v.Error(codeUnspecified, fmt.Sprintf("%s is the unspecified address, not a device.", a))
		return
	case a.IsLoopback():
		v.Error(codeLoopback, fmt.Sprintf("%s is the loopback address; WUG would poll itself.", a))
		return
	}
	if s, ok := lookupSpecial(specials6, a); ok {
		addSpecial(v, s, a)
		if s.err {
			return
		}
	} else if ula6.Contains(a) {
		// Unique local addresses are the IPv6 private space: fine.
	} else if global6.Contains(a) {
		v.Warn(codePublic, fmt.Sprintf("%s is a public address; make sure WUG can reach it.", a))
	} else {
		v.Warn(codeReserved, fmt.Sprintf("%s is outside the IPv6 global unicast and unique local space, in a block reserved by the IETF.", a))
	}
	if bits < 127 {
		if p := netip.PrefixFrom(a, bits).Masked(); a == p.Addr() {
			v.Warn(codeSubnetAnycast, fmt.Sprintf("%s is the subnet-router anycast address of %s; any router on the subnet may answer.", a, p))
		}
	}
}

func lookupSpecial(list []special, a netip.Addr) (special, bool) {
	for _, s := range list {
		if s.prefix.Contains(a) {
			return s, true
		}
	}
	return special{}, false
}

// addSpecial adds the finding a special-purpose block gives a.
func addSpecial(v *verdict, s special, a netip.Addr) {
	msg := fmt.Sprintf("%s is %s.", a, s.what)
	if s.err {
		v.Error(s.code, msg)
	} else {
		v.Warn(s.code, msg)
	}
}

func inAny(list []netip.Prefix, a netip.Addr) bool {
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
