package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"atalaya"
)

// Run history: RecordRun appends every run to the bucket below, keyed by
// source, NUL and a sequence number (8 bytes big-endian), so that the runs
// of one source are a key range, oldest first.
var bucketRunHistory = []byte("run_history")

// MaxRunsPerSource is how many runs of each source the history keeps; the
// oldest are dropped past it.
const MaxRunsPerSource = 2000

// maxRunErrors and maxRunErrorLen bound the errors a run record keeps.
const (
	maxRunErrors   = 5
	maxRunErrorLen = 500
)

// Trigger is what started a run.
type Trigger string

// The triggers a run record names.
const (
	TriggerManual    Trigger = "manual"    // `atalaya crawl`, or the admin API's crawl-now
	TriggerScheduled Trigger = "scheduled" // the source's schedule
	TriggerCatchUp   Trigger = "catch-up"  // at start, for a run missed while the service was down
)

// Outcome sums up a run.
type Outcome string

// The outcomes of a run, from worst to best.
const (
	OutcomeFailed   Outcome = "failed"    // the run ended with an error
	OutcomeBlocked  Outcome = "blocked"   // the site answered with an anti-bot page
	OutcomePartial  Outcome = "partial"   // some releases failed, or the run raised health issues
	OutcomeChanged  Outcome = "changed"   // new or revised releases, nothing failed
	OutcomeNoChange Outcome = "no change" // nothing new, nothing failed
)

// RunRecord is one run in the history.
type RunRecord struct {
	atalaya.CrawlRun
	Trigger Trigger
	// Errors are the first errors of the run, if it failed.
	Errors  []string
	Outcome Outcome
}

// OutcomeOf returns the outcome of r from its counts and errors.
func OutcomeOf(r RunRecord) Outcome {
	switch {
	case len(r.Errors) > 0:
		return OutcomeFailed
	case r.Blocked:
		return OutcomeBlocked
	case r.Failed > 0 || len(r.Issues) > 0:
		return OutcomePartial
	case r.New > 0 || r.Revised > 0:
		return OutcomeChanged
	}
	return OutcomeNoChange
}

// triggerKey is the context key of the trigger RecordRun records.
type triggerKey struct{}

// WithTrigger returns ctx carrying the trigger that RecordRun records for
// runs recorded under it; without one, a run is recorded as manual.
func WithTrigger(ctx context.Context, t Trigger) context.Context {
	return context.WithValue(ctx, triggerKey{}, t)
}

func triggerOf(ctx context.Context) Trigger {
	if t, ok := ctx.Value(triggerKey{}).(Trigger); ok {
		return t
	}
	return TriggerManual
}

// appendRun adds run to the history in tx, dropping the source's oldest
// runs past MaxRunsPerSource.
func appendRun(tx *bolt.Tx, run atalaya.CrawlRun, trigger Trigger) error {
	b, err := tx.CreateBucketIfNotExists(bucketRunHistory)
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	rec := RunRecord{CrawlRun: run, Trigger: trigger}
	rec.Outcome = OutcomeOf(rec)
	if err := putJSON(b, runKey(run.Source, seq), rec); err != nil {
		return err
	}
	return trimRuns(b, run.Source)
}

// trimRuns deletes the oldest runs of src past MaxRunsPerSource.
func trimRuns(b *bolt.Bucket, src atalaya.SourceID) error {
	prefix := runPrefix(src)
	c := b.Cursor()
	var stale [][]byte
	n := 0
	for k, _ := seekLast(c, prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		if n++; n > MaxRunsPerSource {
			stale = append(stale, bytes.Clone(k))
		}
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func runPrefix(src atalaya.SourceID) []byte { return append([]byte(src), 0) }

func runKey(src atalaya.SourceID, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(runPrefix(src), seq)
}

// NoteRunErrors adds errs to the recorded run of src that started at
// started (the newest one with that start), making its outcome failed.
// Errors past the first few are dropped; long ones are cut.
func (a *Archive) NoteRunErrors(ctx context.Context, src atalaya.SourceID, started time.Time, errs ...error) error {
	if err := checkCtx(ctx, "note errors of run of "+string(src)); err != nil {
		return err
	}
	if len(errs) == 0 {
		return nil
	}
	err := a.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRunHistory)
		if b == nil {
			return fmt.Errorf("no run of %s recorded", src)
		}
		prefix := runPrefix(src)
		c := b.Cursor()
		for k, v := seekLast(c, prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			var rec RunRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			if !rec.Started.Equal(started) {
				continue
			}
			for _, e := range errs {
				if e != nil && len(rec.Errors) < maxRunErrors {
					rec.Errors = append(rec.Errors, cut(e.Error(), maxRunErrorLen))
				}
			}
			rec.Outcome = OutcomeOf(rec)
			return putJSON(b, bytes.Clone(k), rec)
		}
		return fmt.Errorf("no run of %s started at %s recorded", src, started.Format(time.RFC3339Nano))
	})
	if err != nil {
		return fmt.Errorf("archive: note errors of run of %s: %v", src, err)
	}
	return nil
}

// seekLast positions c on the last key with prefix, or returns nil.
func seekLast(c *bolt.Cursor, prefix []byte) (k, v []byte) {
	end := append(bytes.Clone(prefix[:len(prefix)-1]), 1) // the first key after every key with prefix
	k, v = c.Seek(end)
	if k == nil {
		return c.Last()
	}
	return c.Prev()
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// RunFilter selects runs for Runs.
type RunFilter struct {
	Source atalaya.SourceID // "" means every source
	Limit  int              // at most this many, newest first; 0 means 100
}

// Runs returns recorded runs, newest first (by start; by end for runs
// without a start).
func (a *Archive) Runs(ctx context.Context, f RunFilter) ([]RunRecord, error) {
	if err := checkCtx(ctx, "runs"); err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []RunRecord
	err := a.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRunHistory)
		if b == nil {
			return nil
		}
		if f.Source != "" {
			return lastRuns(b, f.Source, f.Limit, &out)
		}
		var sources []atalaya.SourceID
		c := b.Cursor()
		for k, _ := c.First(); k != nil; {
			i := bytes.IndexByte(k, 0)
			if i < 0 {
				k, _ = c.Next()
				continue
			}
			sources = append(sources, atalaya.SourceID(k[:i]))
			k, _ = c.Seek(append(bytes.Clone(k[:i]), 1))
		}
		for _, src := range sources {
			if err := lastRuns(b, src, f.Limit, &out); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive: reading runs from %s: %v", a.db.Path(), err)
	}
	sortRuns(out)
	return out[:min(len(out), f.Limit)], nil
}

// lastRuns appends the last n runs of src to out.
func lastRuns(b *bolt.Bucket, src atalaya.SourceID, n int, out *[]RunRecord) error {
	prefix := runPrefix(src)
	c := b.Cursor()
	for k, v := seekLast(c, prefix); k != nil && bytes.HasPrefix(k, prefix) && n > 0; k, v = c.Prev() {
		var rec RunRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("run %x: %v", k, err)
		}
		*out = append(*out, rec)
		n--
	}
	return nil
}

// sortRuns sorts runs newest first.
func sortRuns(runs []RunRecord) {
	at := func(r *RunRecord) time.Time {
		if r.Started.IsZero() {
			return r.Finished
		}
		return r.Started
	}
	slices.SortStableFunc(runs, func(x, y RunRecord) int { return at(&y).Compare(at(&x)) })
}
