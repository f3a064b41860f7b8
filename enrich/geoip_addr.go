package enrich

import (
	"encoding/binary"
	"net/netip"
)

// ParsePublicAddr parses s, a CloudTrail sourceIPAddress or a flow log
// address, and reports whether it is a public address worth a GeoIP lookup.
//
// It returns the zero Addr and false, without allocating, for what is not an address at all
// (sourceIPAddress is often a service name such as "s3.amazonaws.com" or
// "AWS Internal"), for addresses with a zone, and for addresses that no
// GeoIP database locates (see [IsPublic]). IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d) and NAT64 addresses of the well-known prefix
// (64:ff9b::a.b.c.d, which AWS DNS64 hands to IPv6-only subnets) are
// returned as the IPv4 address they carry.
func ParsePublicAddr(s string) (netip.Addr, bool) {
	if !maybeAddr(s) {
		return netip.Addr{}, false
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	addr = unwrapV4(addr)
	if !IsPublic(addr) {
		return netip.Addr{}, false
	}
	return addr, true
}

// maybeAddr reports whether s could be an IP address without a zone: a
// cheap scan that keeps service names away from netip.ParseAddr, whose
// error allocates.
func maybeAddr(s string) bool {
	// The longest textual address without a zone is a full IPv6 address
	// with an embedded IPv4 one: 45 bytes.
	if len(s) < 2 || len(s) > 45 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', c == '.', c == ':',
			'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// unwrapV4 returns the IPv4 address inside an IPv4-mapped or NAT64
// well-known-prefix address, and any other address unchanged.
func unwrapV4(addr netip.Addr) netip.Addr {
	if addr.Is4In6() {
		return addr.Unmap()
	}
	if addr.Is6() {
		b := addr.As16()
		// 64:ff9b::/96, the NAT64 well-known prefix (RFC 6052).
		if b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b &&
			binary.BigEndian.Uint64(b[4:12]) == 0 {
			return netip.AddrFrom4([4]byte(b[12:]))
		}
	}
	return addr
}

// IsPublic reports whether addr is a globally routed unicast address, the
// only kind a GeoIP database can place. It is false for the invalid
// address, unspecified, loopback, link-local, multicast, private (RFC 1918,
// fc00::/7), shared (100.64.0.0/10), documentation, benchmarking and other
// IANA-reserved ranges, and for addresses with a zone.
func IsPublic(addr netip.Addr) bool {
	if !addr.IsGlobalUnicast() || addr.IsPrivate() || addr.Zone() != "" {
		return false
	}
	if addr.Is4() {
		b := addr.As4()
		v := binary.BigEndian.Uint32(b[:])
		// The IPv4 special-purpose ranges (IANA registry) that netip's
		// predicates above do not already cover.
		switch {
		case v&0xff000000 == 0x00000000, // 0.0.0.0/8 "this network"
			v&0xffc00000 == 0x64400000, // 100.64.0.0/10 shared address space (CGNAT)
			v&0xffffff00 == 0xc0000000, // 192.0.0.0/24 IETF protocol assignments
			v&0xffffff00 == 0xc0000200, // 192.0.2.0/24 TEST-NET-1
			v&0xfffe0000 == 0xc6120000, // 198.18.0.0/15 benchmarking
			v&0xffffff00 == 0xc6336400, // 198.51.100.0/24 TEST-NET-2
			v&0xffffff00 == 0xcb007100, // 203.0.113.0/24 TEST-NET-3
			v&0xf0000000 == 0xf0000000: // 240.0.0.0/4 reserved, and broadcast
			return false
		}
		return true
	}
	if addr.Is4In6() {
		return IsPublic(addr.Unmap())
	}
	b := addr.As16()
	switch {
	case b[0] == 0: // ::/8 reserved by IETF (IPv4-compatible, NAT64, discard ...)
		return false
	case b[0] == 0x01 && b[1] == 0 && b[2] == 0 && b[3] == 0 &&
		b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 0: // 100::/64 discard
		return false
	case b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8: // 2001:db8::/32 documentation
		return false
	case b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0x02 && b[4] == 0 && b[5] == 0: // 2001:2::/48 benchmarking
		return false
	case b[0] == 0x3f && b[1] == 0xff && b[2]&0xf0 == 0: // 3fff::/20 documentation (RFC 9637)
		return false
	case b[0] == 0xfe && b[1]&0xc0 == 0xc0: // fec0::/10 deprecated site-local
		return false
	}
	return true
}
