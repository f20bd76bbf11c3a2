package app_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"atalaya/app"
)

// TestFeedLinksOnPublicURL runs the service and asks for its feed with a
// forged Host header: the links start with serve.base_url when it is set,
// else with the address the service listens on, never with the forged host.
func TestFeedLinksOnPublicURL(t *testing.T) {
	for _, base := range []string{"", "https://atalaya.example.org"} {
		t.Run("base "+base, func(t *testing.T) {
			o := offlineOptions(t.TempDir(), nil)
			o.BaseURL = base
			o.Sources[0].Enabled = false // no crawl: only the feed is asked for
			addr, stop := startService(t, o)
			defer stop()
			want := base
			if want == "" {
				want = "http://" + addr
			}
			req, err := http.NewRequest("GET", "http://"+addr+"/feed.atom", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "evil.example"
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || strings.Contains(string(body), "evil.example") || !strings.Contains(string(body), `href="`+want+`/feed.atom"`) {
				t.Errorf("status %d; want links on %s, none on evil.example:\n%s", resp.StatusCode, want, body)
			}
		})
	}
}

// startService runs the service with o until the test stops it; it returns
// the address it listens on and the function that stops it.
func startService(t *testing.T, o app.Options) (addr string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	o.Ready = func(addr string) { ready <- addr }
	go func() { done <- app.Run(ctx, o) }()
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	}
	return addr, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	}
}

// TestPublicURL checks the URL made from the address the service listens
// on: that address, or localhost with its port for every interface.
func TestPublicURL(t *testing.T) {
	for _, tt := range []struct {
		addr     net.Addr
		want     string
		wildcard bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080", false},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "http://[::1]:8080", false},
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 80}, "http://192.0.2.7:80", false},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "http://localhost:8080", true},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9000}, "http://localhost:9000", true},
		{&net.TCPAddr{Port: 8080}, "http://localhost:8080", true},
	} {
		got, wildcard := app.PublicURL(tt.addr)
		if got != tt.want || wildcard != tt.wildcard {
			t.Errorf("PublicURL(%v) = %q, %v; want %q, %v", tt.addr, got, wildcard, tt.want, tt.wildcard)
		}
	}
}
