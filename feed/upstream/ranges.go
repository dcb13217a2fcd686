package upstream

import "net/netip"

// nonPublic are the address blocks an upstream fetch never dials without
// allow_private: every block of the IANA IPv4 and IPv6 Special-Purpose
// Address Registries (RFC 6890 and its updates; registries as of 2026)
// that is not globally reachable, plus the blocks that wrap an IPv4
// address inside IPv6 (NAT64, 6to4, Teredo, IPv4-compatible), which could
// carry a private one, and the deprecated site-local block. The few
// globally reachable anycast addresses inside a refused block (192.0.0.9,
// 2001:1::1) are refused with it: no feed is served from them.
//
// IPv6 outside 2000::/3, the only block IANA allocates for global
// unicast, is refused as a whole (publicAddr), so the reserved space
// needs no entries here. IPv4-mapped addresses are judged by the IPv4
// address they carry.
var nonPublic = prefixes(
	// IPv4 Special-Purpose Address Registry.
	"0.0.0.0/8",          // "this network" (RFC 791)
	"10.0.0.0/8",         // private-use (RFC 1918)
	"100.64.0.0/10",      // shared address space, carrier-grade NAT (RFC 6598)
	"127.0.0.0/8",        // loopback (RFC 1122)
	"169.254.0.0/16",     // link local, cloud metadata (RFC 3927)
	"172.16.0.0/12",      // private-use (RFC 1918)
	"192.0.0.0/24",       // IETF protocol assignments (RFC 6890)
	"192.0.2.0/24",       // documentation, TEST-NET-1 (RFC 5737)
	"192.88.99.0/24",     // 6to4 relay anycast, deprecated (RFC 7526)
	"192.168.0.0/16",     // private-use (RFC 1918)
	"198.18.0.0/15",      // benchmarking (RFC 2544)
	"198.51.100.0/24",    // documentation, TEST-NET-2 (RFC 5737)
	"203.0.113.0/24",     // documentation, TEST-NET-3 (RFC 5737)
	"240.0.0.0/4",        // reserved (RFC 1112)
	"255.255.255.255/32", // limited broadcast (RFC 919)
	"224.0.0.0/4",        // multicast (IPv4 Multicast Address Space Registry)

	// IPv6 Special-Purpose Address Registry, inside 2000::/3.
	"2001::/23",     // IETF protocol assignments, Teredo 2001::/32 in it (RFC 2928, 4380)
	"2001:db8::/32", // documentation (RFC 3849)
	"2002::/16",     // 6to4, wraps an IPv4 address (RFC 3056)
	"3fff::/20",     // documentation (RFC 9637)
	// Outside 2000::/3, listed so that the reason is on record.
	"::/96",          // IPv4-compatible, deprecated (RFC 4291), with :: and ::1
	"::1/128",        // loopback
	"64:ff9b::/96",   // IPv4/IPv6 translation, NAT64 wraps any IPv4 (RFC 6052)
	"64:ff9b:1::/48", // local-use IPv4/IPv6 translation (RFC 8215)
	"100::/64",       // discard-only (RFC 6666)
	"5f00::/16",      // SRv6 SIDs (RFC 9602)
	"fc00::/7",       // unique local (RFC 4193)
	"fe80::/10",      // link-local unicast (RFC 4291)
	"fec0::/10",      // site-local, deprecated (RFC 3879)
	"ff00::/8",       // multicast (RFC 4291)
)

// globalUnicast is the IPv6 block IANA allocates for global unicast.
var globalUnicast = netip.MustParsePrefix("2000::/3")

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// publicAddr reports whether ip may be fetched without allow_private: a
// valid address in none of the non-public blocks, and for IPv6 inside
// global unicast.
func publicAddr(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() && !globalUnicast.Contains(ip) {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}
