package browser

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// limitTestSize is the size limit of TestSizeLimit's transport.
const limitTestSize = 64 << 10

// hugePages serves pages around limitTestSize: documents whose script
// builds a DOM over it (in ASCII, and in characters of three UTF-8 bytes
// that are fewer than limitTestSize in JavaScript's count), non-HTML bodies
// over it sent with a Content-Length, without one, and gzipped (a
// Content-Length far under the limit), and pages under it.
func hugePages() http.Handler {
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, script string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>t</title></head><body><p id=\"x\">static</p><script>%s</script></body></html>", script)
	}
	mux.HandleFunc("GET /dom/ascii", func(w http.ResponseWriter, r *http.Request) {
		page(w, `document.getElementById("x").textContent = "a".repeat(5 * 1024 * 1024);`)
	})
	mux.HandleFunc("GET /dom/euro", func(w http.ResponseWriter, r *http.Request) {
		page(w, `document.getElementById("x").textContent = "\u20ac".repeat(40000);`)
	})
	mux.HandleFunc("GET /dom/small", func(w http.ResponseWriter, r *http.Request) {
		page(w, `document.getElementById("x").textContent = "b".repeat(60000);`)
	})
	big := bytes.Repeat([]byte("{\"k\": 1}\n"), 8<<20/9) // about 8 MB
	mux.HandleFunc("GET /body/length.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(big)))
		w.Write(big)
	})
	mux.HandleFunc("GET /body/chunked.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i < len(big); i += 32 << 10 {
			if _, err := w.Write(big[i:min(i+32<<10, len(big))]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(big)
	zw.Close()
	mux.HandleFunc("GET /body/gzip.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(zipped.Len()))
		w.Write(zipped.Bytes())
	})
	mux.HandleFunc("GET /body/small.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(big[:60000])
		w.(http.Flusher).Flush()
		w.Write(big[60000:limitTestSize])
	})
	return mux
}

func TestSizeLimit(t *testing.T) {
	site := httptest.NewServer(hugePages())
	t.Cleanup(site.Close)
	b := newTestBrowser(t, Options{})
	client := &http.Client{Transport: newTestTransport(t, b, TransportOptions{MaxBodySize: limitTestSize})}
	over := []struct {
		name, path string
		wantText   string // besides the limit
	}{
		{"DOM built by a script", "/dom/ascii", "the rendered DOM is at least 524"},
		{"DOM over the limit in UTF-8 only", "/dom/euro", "the rendered DOM is at least 120"},
		{"non-HTML body with its Content-Length", "/body/length.json", "the response is 8388" + "603 bytes (Content-Length)"},
		{"non-HTML body without a Content-Length", "/body/chunked.json", "went past it while being read"},
		{"gzipped non-HTML body", "/body/gzip.json", "went past it while being read"},
	}
	for _, tt := range over {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Get(site.URL + tt.path)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("GET %s: status %d, %d bytes; want ErrTooLarge", tt.path, resp.StatusCode, resp.ContentLength)
			}
			limit := fmt.Sprintf("size limit of %d bytes", limitTestSize)
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), limit) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("GET %s: %v; want ErrTooLarge naming the %s and saying %q", tt.path, err, limit, tt.wantText)
			}
			var sized interface{ TooLarge() bool }
			if !errors.As(err, &sized) || !sized.TooLarge() {
				t.Errorf("GET %s: the error has no TooLarge method for the crawler: %#v", tt.path, err)
			}
		})
	}
	under := []struct {
		name, path string
		wantBytes  int // exact body size, or 0 for a rendered page
	}{
		{"DOM under the limit", "/dom/small", 0},
		{"non-HTML body of exactly the limit", "/body/small.json", limitTestSize},
	}
	for _, tt := range under {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, client, site.URL+tt.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d", tt.path, resp.StatusCode)
			}
			switch {
			case tt.wantBytes > 0 && len(body) != tt.wantBytes:
				t.Errorf("GET %s: %d bytes, want %d", tt.path, len(body), tt.wantBytes)
			case tt.wantBytes == 0 && !strings.Contains(body, strings.Repeat("b", 60000)):
				t.Errorf("GET %s: the rendered DOM lacks the script's text (%d bytes)", tt.path, len(body))
			}
		})
	}
}
