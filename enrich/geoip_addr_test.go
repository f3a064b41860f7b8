package enrich

import (
	"net/netip"
	"testing"

	"github.com/trailwatch/trailwatch/schemas"
)

// addrCase is a sourceIPAddress or flow address value and what
// ParsePublicAddr makes of it.
type addrCase struct {
	name   string
	in     string
	want   string // the address to look up; "" when there is none
	public bool
}

// addrCases is the table of TestParsePublicAddr; it also seeds the fuzz
// tests and feeds the benchmark.
func addrCases() []addrCase {
	return []addrCase{
		{"ipv4", "8.8.8.8", "8.8.8.8", true},
		{"ipv6", "2001:4860:4860::8888", "2001:4860:4860::8888", true},
		{"ipv6 upper case", "2001:4860:4860::8A88", "2001:4860:4860::8a88", true},
		{"ipv4 mapped", "::ffff:8.8.8.8", "8.8.8.8", true},
		{"ipv4 mapped hex", "::ffff:808:808", "8.8.8.8", true},
		{"nat64", "64:ff9b::8.8.8.8", "8.8.8.8", true},
		{"nat64 private", "64:ff9b::10.0.0.1", "", false},
		{"nat64 local-use prefix", "64:ff9b:1::808:808", "", false},
		{"teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:0:4136:e378:8000:63bf:3fff:fdd2", true},
		{"service name", "s3.amazonaws.com", "", false},
		{"service name of hex letters", "ec2.amazonaws.com", "", false},
		{"AWS Internal", "AWS Internal", "", false},
		{"hex word", "deadbeef", "", false},
		{"empty", "", "", false},
		{"zone", "fe80::1%eth0", "", false},
		{"port", "8.8.8.8:443", "", false},
		{"leading zero", "08.8.8.8", "", false},
		{"too long", "2001:4860:4860:0000:0000:0000:0000:8888:1234:5678", "", false},
		{"private 10", "10.1.2.3", "", false},
		{"private 172", "172.31.255.1", "", false},
		{"private 192", "192.168.0.1", "", false},
		{"loopback", "127.0.0.1", "", false},
		{"loopback ipv6", "::1", "", false},
		{"unspecified", "0.0.0.0", "", false},
		{"this network", "0.1.2.3", "", false},
		{"link local", "169.254.169.254", "", false},
		{"cgnat", "100.64.0.1", "", false},
		{"below cgnat", "100.63.255.255", "100.63.255.255", true},
		{"above cgnat", "100.128.0.0", "100.128.0.0", true},
		{"ietf", "192.0.0.8", "", false},
		{"test-net-1", "192.0.2.1", "", false},
		{"test-net-2", "198.51.100.7", "", false},
		{"test-net-3", "203.0.113.9", "", false},
		{"benchmarking", "198.19.0.1", "", false},
		{"multicast", "224.0.0.251", "", false},
		{"reserved", "240.0.0.1", "", false},
		{"broadcast", "255.255.255.255", "", false},
		{"ula", "fd00::1", "", false},
		{"link local ipv6", "fe80::1", "", false},
		{"site local ipv6", "fec0::1", "", false},
		{"multicast ipv6", "ff02::1", "", false},
		{"documentation ipv6", "2001:db8::1", "", false},
		{"documentation 3fff", "3fff:fff::1", "", false},
		{"benchmarking ipv6", "2001:2::1", "", false},
		{"discard ipv6", "100::1", "", false},
		{"ipv4 compatible", "::8.8.8.8", "", false},
	}
}

func TestParsePublicAddr(t *testing.T) {
	for _, tc := range addrCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParsePublicAddr(tc.in)
			if ok != tc.public {
				t.Fatalf("ParsePublicAddr(%q) ok = %v, want %v", tc.in, ok, tc.public)
			}
			if ok && got.String() != tc.want {
				t.Errorf("ParsePublicAddr(%q) = %s, want %s", tc.in, got, tc.want)
			}
			if n := testing.AllocsPerRun(10, func() { ParsePublicAddr(tc.in) }); n != 0 && (tc.public || !maybeAddr(tc.in)) {
				t.Errorf("ParsePublicAddr(%q) allocates %.0f times", tc.in, n)
			}
		})
	}
}

func BenchmarkParsePublicAddr(b *testing.B) {
	for _, tc := range addrCases() {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ParsePublicAddr(tc.in)
			}
		})
	}
}

// FuzzParsePublicAddr checks ParsePublicAddr against netip: it accepts
// exactly the zone-free addresses netip parses, returns only public
// addresses, and never an IPv4-mapped one.
func FuzzParsePublicAddr(f *testing.F) {
	for _, tc := range addrCases() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParsePublicAddr(s)
		ref, err := netip.ParseAddr(s)
		if err != nil || ref.Zone() != "" {
			if ok {
				t.Fatalf("ParsePublicAddr(%q) = %s, true; netip says %v", s, got, err)
			}
			return
		}
		if !ok {
			if got.IsValid() {
				t.Fatalf("ParsePublicAddr(%q) = %s, false: want the zero Addr", s, got)
			}
			return
		}
		if !IsPublic(got) || got.Is4In6() || !got.IsGlobalUnicast() || got.IsPrivate() || got.IsLoopback() {
			t.Fatalf("ParsePublicAddr(%q) = %s: not public", s, got)
		}
		if ref.Unmap() != got && !(ref.Is6() && got.Is4()) {
			t.Fatalf("ParsePublicAddr(%q) = %s, netip parses %s", s, got, ref)
		}
	})
}

// FuzzGeoLookupString feeds arbitrary strings through the whole lookup
// against both synthetic database sets: no panic, no error, and nothing
// found for what is not a public address.
func FuzzGeoLookupString(f *testing.F) {
	for _, tc := range addrCases() {
		f.Add(tc.in)
	}
	for _, cases := range syntheticCases() {
		for _, tc := range cases {
			f.Add(tc.addr)
		}
	}
	geos := syntheticGeos(f)
	f.Fuzz(func(t *testing.T, s string) {
		_, public := ParsePublicAddr(s)
		for _, geo := range geos {
			var g schemas.Geo
			if err := geo.LookupString(&g, s); err != nil {
				t.Fatalf("LookupString(%q): %v", s, err)
			}
			if !public && g != (schemas.Geo{}) {
				t.Fatalf("LookupString(%q) = %+v for a non-public address", s, g)
			}
		}
	})
}
