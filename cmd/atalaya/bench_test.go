package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestBench(t *testing.T) {
	var out, errb bytes.Buffer
	dir := t.TempDir()
	code := run(context.Background(), []string{"--log-level", "error", "bench", "--n", "300", "--runs", "3", "--dir", dir, "--json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit code %d, stderr %s", code, errb.String())
	}
	var rep benchReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("decoding %q: %v", out.String(), err)
	}
	if rep.Releases != 300 || rep.ReleasesPerSec <= 0 || rep.IndexBytes <= 0 || rep.PeakRSSMB <= 0 {
		t.Errorf("report = %+v", rep)
	}
	var names []string
	for _, s := range rep.Searches {
		names = append(names, s.Name)
		if s.Runs != 3 || s.P99MS < s.P50MS {
			t.Errorf("search %+v", s)
		}
	}
	if got := strings.Join(names, ","); got != "one term,phrase,term+label+dates+facets,query+highlight,all by date" {
		t.Errorf("searches = %s", got)
	}
	if rep.Searches[4].Hits != 300 {
		t.Errorf("all by date found %d releases, want 300", rep.Searches[4].Hits)
	}
}

func TestBenchText(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--log-level", "error", "bench", "--n", "100", "--runs", "2"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit code %d, stderr %s", code, errb.String())
	}
	for _, want := range []string{"indexed 100 synthetic releases", "peak memory", "bytes per release", "all by date"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
