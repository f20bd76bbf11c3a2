package app

import (
	"testing"
	"time"

	"atalaya/crawler"
)

// TestRunBudget checks that a source's own run budget wins over the
// service's.
func TestRunBudget(t *testing.T) {
	for _, tc := range []struct {
		name            string
		source, service time.Duration
		want            time.Duration
	}{
		{"source's own", 2 * time.Hour, 30 * time.Minute, 2 * time.Hour},
		{"shorter source's own", 5 * time.Minute, 30 * time.Minute, 5 * time.Minute},
		{"service's", 0, 30 * time.Minute, 30 * time.Minute},
		{"none", 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := crawler.Source{RunBudget: tc.source}
			if got := runBudget(src, tc.service); got != tc.want {
				t.Errorf("runBudget(%v, %v) = %v, want %v", tc.source, tc.service, got, tc.want)
			}
		})
	}
}
