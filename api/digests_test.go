package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"atalaya/api"
)

// digestRecipients are the recipients of the fixture's digest.
var digestRecipients = []string{"Juana Pérez <juana@example.org>", "ops@agency.gob.mx", "ñandú@example.mx", "x@y"}

// TestDigestRecipientsMasked checks that /api/digests shows the recipients
// in full only to a request with the admin token, and masked, and said to
// be, to every other.
func TestDigestRecipientsMasked(t *testing.T) {
	f := newFixture(t, "s3cret", &fakeAdmin{})
	masked := []string{"j…@example.org", "o…@agency.gob.mx", "ñ…@example.mx", "x…@y"}
	for _, tt := range []struct {
		name       string
		header     http.Header
		want       []string
		wantMasked bool
	}{
		{"no token", nil, masked, true},
		{"wrong token", http.Header{"Authorization": {"Bearer nope"}}, masked, true},
		{"not a bearer token", http.Header{"Authorization": {"s3cret"}}, masked, true},
		{"admin token", http.Header{"Authorization": {"Bearer s3cret"}}, digestRecipients, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do(t, "GET", "/api/digests", tt.header, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var got api.DigestsResponse
			if err := json.Unmarshal(body, &got); err != nil || len(got.Digests) != 1 {
				t.Fatalf("answer %s: %v", body, err)
			}
			d := got.Digests[0]
			if !slices.Equal(d.To, tt.want) || d.ToMasked != tt.wantMasked {
				t.Errorf("to = %q, to_masked = %v; want %q, %v", d.To, d.ToMasked, tt.want, tt.wantMasked)
			}
			if tt.wantMasked && (strings.Contains(string(body), "juana") || strings.Contains(string(body), "Pérez")) {
				t.Errorf("a masked answer holds the address or name:\n%s", body)
			}
		})
	}
}

// TestDigestRecipientsNoToken checks that without a configured admin token
// no request sees the recipients, whatever it sends.
func TestDigestRecipientsNoToken(t *testing.T) {
	f := newFixture(t, "", &fakeAdmin{})
	for _, h := range []http.Header{nil, {"Authorization": {"Bearer "}}} {
		_, body := f.do(t, "GET", "/api/digests", h, nil)
		var got api.DigestsResponse
		if err := json.Unmarshal(body, &got); err != nil || len(got.Digests) != 1 || !got.Digests[0].ToMasked {
			t.Errorf("with %v: %s", h, body)
		}
	}
}
