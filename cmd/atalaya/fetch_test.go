package main

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"atalaya/crawler/browser"
	"atalaya/crawler/browser/browsertest"
	"atalaya/internal/mirror"
)

func TestFetchOffline(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"listing", []string{"fetch", "--offline", "https://www.gob.mx/sre/archivo/prensa"}, 0, []string{
			"source   sre (http, offline mirror)", "status   200 OK", "blocked  no", "listing  3 items",
			"2026-03-05  La SRE y el Departamento de Estado acuerdan ampliar el rastreo de armas de fuego"}},
		{"article", []string{"fetch", "--offline", "--source", "sre", "https://www.gob.mx/sre/prensa/la-sre-y-el-departamento-de-estado-acuerdan-ampliar-el-rastreo-de-armas-de-fuego?idiom=es"}, 0, []string{
			"title    La SRE y el Departamento de Estado acuerdan ampliar el rastreo de armas de fuego",
			"date     2026-03-05 (from the article)", "type     Comunicado", "body     ", "  La Secretaría de Relaciones Exteriores"}},
		{"source guessed from the start URL", []string{"fetch", "--offline", "https://home.treasury.gov/news/press-releases"}, 0, []string{"source   treasury "}},
		{"no source for the host", []string{"fetch", "--offline", "https://example.org/"}, 1, []string{"no source has a start URL on example.org; name one with --source"}},
		{"unknown source", []string{"fetch", "--offline", "--source", "nope", "https://www.gob.mx/"}, 1, []string{"nope"}},
		{"no URL", []string{"fetch"}, 2, []string{"want exactly one URL"}},
		{"relative URL", []string{"fetch", "/sre"}, 2, []string{"want an absolute http(s) URL"}},
		{"offline and browser", []string{"fetch", "--offline", "--browser", "https://www.gob.mx/"}, 2, []string{"cannot be combined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}
}

// TestFetchThroughTheChallenge fetches a listing of a loopback gob.mx copy
// behind a JavaScript challenge: plain HTTP reports the block, --browser
// reads the listing.
func TestFetchThroughTheChallenge(t *testing.T) {
	if _, err := browser.New(browser.Options{}); errors.Is(err, browser.ErrNoBrowser) {
		t.Skipf("skipping: %v (on Debian: apt-get install chromium)", err)
	}
	gobmx := mirror.Handler(mirror.Options{})
	site := browsertest.NewSite(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Host = mirror.HostGobMX
		gobmx.ServeHTTP(w, r)
	}), nil)
	defer site.Close()
	listing := site.URL + "/sre/archivo/prensa"

	code, out, errOut := runCmd(t, "fetch", "--source", "sre", listing)
	if code != 0 || !strings.Contains(out, `blocked  yes: anti-bot page (marker "Challenge Validation")`) {
		t.Errorf("plain HTTP: exit %d, want the block reported:\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, "fetch", "--source", "sre", "--browser", listing)
	for _, w := range []string{"blocked  no", "listing  3 items", "(browser, ", "2026-02-20  México concede la extradición"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("--browser: exit %d, output lacks %q:\n%s%s", code, w, out, errOut)
		}
	}
	if got := site.Challenges(); got != 2 {
		t.Errorf("challenges served: %d, want 2 (one per fetch)", got)
	}
}
