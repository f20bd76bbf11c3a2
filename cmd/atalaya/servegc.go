package main

import (
	"log/slog"
	"runtime/debug"
)

// The collector's settings for serve, unless GOGC or GOMEMLIMIT set them.
// A search allocates a few megabytes and keeps none of it, while the index
// lives in memory-mapped files outside the Go heap: with Go's default
// (GOGC=100) the collector ran every few searches and took a fifth of the
// CPU of a loaded service. At 400 it runs a quarter as often (about 20%
// more searches a second at 8 clients in BenchmarkAPISearch); the soft
// limit keeps the heap from growing past it while a rebuild or a large
// batch runs.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 512 << 20
)

// tuneServeGC sets the collector for serve where the environment (read by
// getenv) does not, and logs what is in force.
func tuneServeGC(log *slog.Logger, getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
	percent := debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	log.Info("garbage collector", "gc_percent", percent, "memory_limit_mib", debug.SetMemoryLimit(-1)>>20)
}
