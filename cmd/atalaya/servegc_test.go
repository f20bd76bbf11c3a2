package main

import (
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
)

// tuneServeGC sets what the environment leaves unset, and only that.
func TestTuneServeGC(t *testing.T) {
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })
	quiet := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		env                    map[string]string
		wantPercent, wantLimit int64
	}{
		{map[string]string{}, serveGCPercent, serveMemoryLimit},
		{map[string]string{"GOGC": "50"}, 100, serveMemoryLimit},
		{map[string]string{"GOMEMLIMIT": "1GiB"}, serveGCPercent, math.MaxInt64},
		{map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, 100, math.MaxInt64},
	} {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
		tuneServeGC(quiet, func(k string) string { return c.env[k] })
		if got := int64(debug.SetGCPercent(100)); got != c.wantPercent {
			t.Errorf("env %v: GC percent %d, want %d", c.env, got, c.wantPercent)
		}
		if got := debug.SetMemoryLimit(math.MaxInt64); got != c.wantLimit {
			t.Errorf("env %v: memory limit %d, want %d", c.env, got, c.wantLimit)
		}
	}
}
