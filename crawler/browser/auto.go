package browser

import (
	"net/http"
	"sync/atomic"
)

// Auto is the transport of a source fetched with "fetch: auto": requests
// go over plain HTTP until the crawler detects a block and calls Switch,
// and through the browser for the rest of the run. The browser starts only
// if Switch is called. It is safe for concurrent use.
type Auto struct {
	plain, browser http.RoundTripper
	switched       atomic.Bool
}

// NewAuto returns a transport that starts with plain and moves to browser
// on Switch.
func NewAuto(plain, browser http.RoundTripper) *Auto {
	return &Auto{plain: plain, browser: browser}
}

// RoundTrip sends req over the current transport.
func (a *Auto) RoundTrip(req *http.Request) (*http.Response, error) {
	if a.switched.Load() {
		return a.browser.RoundTrip(req)
	}
	return a.plain.RoundTrip(req)
}

// Switch moves every later request to the browser. It reports whether this
// call made the switch, so that the caller logs and records it once.
func (a *Auto) Switch() bool { return a.switched.CompareAndSwap(false, true) }

// Switched reports whether requests go through the browser.
func (a *Auto) Switched() bool { return a.switched.Load() }
