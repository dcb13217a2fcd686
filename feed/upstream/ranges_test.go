package upstream

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

// The guard is tested by its decision and by the dialer's Control hook
// called as the dialer calls it, never by connecting to these addresses.
var guardTable = []struct {
	addr   string
	public bool
}{
	{"93.184.216.34", true}, {"8.8.8.8", true}, {"1.1.1.1", true},
	{"192.31.196.1", true}, // AS112, globally reachable
	{"100.63.255.255", true}, {"100.128.0.0", true}, {"198.17.255.255", true}, {"198.20.0.0", true},
	{"223.255.255.255", true},
	{"2606:4700::1", true}, {"2a00:1450:4001::1", true},
	{"::ffff:93.184.216.34", true}, // mapped: judged by the IPv4 inside

	{"0.0.0.0", false}, {"0.1.2.3", false},
	{"10.1.2.3", false}, {"100.64.0.1", false}, {"100.127.255.254", false},
	{"127.0.0.1", false}, {"127.255.255.254", false},
	{"169.254.169.254", false}, {"172.16.0.1", false}, {"172.31.255.255", false},
	{"192.0.0.1", false}, {"192.0.0.170", false}, {"192.0.2.1", false},
	{"192.88.99.1", false}, {"192.168.1.1", false},
	{"198.18.0.1", false}, {"198.19.255.255", false},
	{"198.51.100.7", false}, {"203.0.113.9", false},
	{"224.0.0.1", false}, {"239.255.255.250", false},
	{"240.0.0.1", false}, {"255.255.255.254", false}, {"255.255.255.255", false},

	{"::", false}, {"::1", false},
	{"::10.0.0.1", false}, {"::8.8.8.8", false}, // IPv4-compatible
	{"::ffff:127.0.0.1", false}, {"::ffff:10.0.0.1", false}, {"::ffff:169.254.169.254", false}, {"::ffff:100.64.0.1", false},
	{"64:ff9b::a00:1", false}, {"64:ff9b::808:808", false}, {"64:ff9b:1::1", false},
	{"100::1", false},
	{"2001::1", false}, {"2001:0:4136:e378:8000:63bf:f5ff:fffe", false}, // Teredo
	{"2001:db8::1", false}, {"2002:a00:1::1", false}, {"2002:808:808::1", false},
	{"3fff::1", false}, {"5f00::1", false},
	{"fc00::1", false}, {"fd12:3456:789a::1", false},
	{"fe80::1", false}, {"fe80::1%eth0", false}, {"fec0::1", false},
	{"ff02::1", false}, {"ff0e::1", false},
	{"4000::1", false}, // outside global unicast
}

func TestGuard_AddressTable(t *testing.T) {
	control := guard(publicAddr)
	for _, tt := range guardTable {
		ip := netip.MustParseAddr(tt.addr)
		if got := publicAddr(ip); got != tt.public {
			t.Errorf("publicAddr(%s) = %v, want %v", tt.addr, got, tt.public)
		}
		for _, network := range []string{"tcp", "tcp4", "tcp6"} {
			err := control(network, netip.AddrPortFrom(ip, 443).String(), nil)
			if tt.public && err != nil {
				t.Errorf("Control(%s, %s) = %v, want allowed", network, tt.addr, err)
			}
			if !tt.public && !errors.Is(err, ErrPrivateAddress) {
				t.Errorf("Control(%s, %s) = %v, want ErrPrivateAddress", network, tt.addr, err)
			}
		}
	}
	if err := control("tcp", "not-an-address", nil); err == nil {
		t.Error("Control accepted an address it could not read")
	}
}

// Every block of the registry list refuses its first and last address,
// so that a typo in a prefix shows.
func TestGuard_EveryBlockRefusesItsEnds(t *testing.T) {
	for _, p := range nonPublic {
		first := p.Masked().Addr()
		last := first
		for i := p.Bits(); i < first.BitLen(); i++ {
			b := last.AsSlice()
			b[i/8] |= 1 << (7 - i%8)
			last, _ = netip.AddrFromSlice(b)
		}
		for _, ip := range []netip.Addr{first, last} {
			if publicAddr(ip) {
				t.Errorf("%s of %s is taken as public", ip, p)
			}
		}
	}
}

// A DNS answer is judged, not the name: localhost resolves to loopback
// and is refused at the guard before any request.
func TestFetch_NameResolvingToLoopbackIsRefused(t *testing.T) {
	e := newUpstreamEnv(t)
	e.serveBody("application/rss+xml", upRSS())
	src := e.source()
	src.AllowPrivate = false
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(e.srv.URL, "http://"))
	src.URL = "http://localhost:" + port + "/feed"
	if res := e.fetch(t, src); !errors.Is(res.Err, ErrPrivateAddress) || e.requests() != 0 {
		t.Fatalf("localhost fetch = %+v, %d requests", res, e.requests())
	}
}

// A redirect's target is judged when it is dialled. The guard here allows
// 127.0.0.1 only; the first server redirects to a second on ::1, which
// must get no request.
func TestFetch_RedirectTargetIsJudged(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	var second atomic.Int32
	target := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		second.Add(1)
		fmt.Fprint(w, upRSS())
	}))
	target.Listener.Close()
	target.Listener = ln
	target.Start()
	t.Cleanup(target.Close)

	e := newUpstreamEnv(t)
	e.f.allow = func(ip netip.Addr) bool { return ip == netip.MustParseAddr("127.0.0.1") }
	e.serve(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/feed", http.StatusFound)
	})
	src := e.source()
	src.AllowPrivate = false
	res := e.fetch(t, src)
	if !errors.Is(res.Err, ErrPrivateAddress) || e.requests() != 1 || second.Load() != 0 {
		t.Fatalf("redirect to %s: %+v; %d requests to the first server, %d to the target", target.URL, res, e.requests(), second.Load())
	}
}
