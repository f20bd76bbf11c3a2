package archive

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"atalaya"
)

// TestRunHistory records runs of two sources with several triggers and
// outcomes and reads them back, newest first, filtered and limited.
func TestRunHistory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openTest(t, dir, Options{})
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	runs := []struct {
		ctx  context.Context
		run  atalaya.CrawlRun
		want Outcome
	}{
		{WithTrigger(ctx, TriggerCatchUp), atalaya.CrawlRun{Source: "sre", Started: at(0), New: 3}, OutcomeChanged},
		{ctx, atalaya.CrawlRun{Source: "state", Started: at(1), Unchanged: 5}, OutcomeNoChange},
		{WithTrigger(ctx, TriggerScheduled), atalaya.CrawlRun{Source: "sre", Started: at(2)}, OutcomeNoChange},
		{WithTrigger(ctx, TriggerScheduled), atalaya.CrawlRun{Source: "sre", Started: at(3), New: 1, Failed: 1}, OutcomePartial},
		{WithTrigger(ctx, TriggerScheduled), atalaya.CrawlRun{Source: "state", Started: at(4), Blocked: true}, OutcomeBlocked},
	}
	for _, r := range runs {
		if err := a.RecordRun(r.ctx, r.run); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.NoteRunErrors(ctx, "sre", at(2), errors.New("listing https://sre.test/: connection refused"), nil); err != nil {
		t.Fatal(err)
	}
	if err := a.NoteRunErrors(ctx, "sre", at(9), errors.New("x")); err == nil {
		t.Error("NoteRunErrors for a run never recorded: got nil error")
	}
	got, err := a.Runs(ctx, RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, r := range got {
		summary = append(summary, string(r.Source)+" "+r.Started.Sub(t0).String()+" "+string(r.Trigger)+" "+string(r.Outcome))
	}
	want := []string{
		"state 4m0s scheduled blocked",
		"sre 3m0s scheduled partial",
		"sre 2m0s scheduled failed",
		"state 1m0s manual no change",
		"sre 0s catch-up changed",
	}
	if strings.Join(summary, "\n") != strings.Join(want, "\n") {
		t.Errorf("runs:\n%s\nwant:\n%s", strings.Join(summary, "\n"), strings.Join(want, "\n"))
	}
	if e := got[2].Errors; len(e) != 1 || !strings.Contains(e[0], "connection refused") {
		t.Errorf("errors of the failed run = %q", e)
	}
	only, err := a.Runs(ctx, RunFilter{Source: "sre", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(only) != 2 || only[0].Started != at(3) || only[1].Started != at(2) {
		t.Errorf("last two runs of sre = %+v", only)
	}
	// The history survives reopening.
	a.Close()
	b := openTest(t, dir, Options{})
	again, err := b.Runs(ctx, RunFilter{})
	if err != nil || len(again) != len(runs) {
		t.Errorf("after reopening: %d runs, %v; want %d", len(again), err, len(runs))
	}
}

// TestRunHistoryTrimmed checks that the history keeps the last
// MaxRunsPerSource runs of each source, and other sources' runs untouched.
func TestRunHistoryTrimmed(t *testing.T) {
	ctx := context.Background()
	a := openTest(t, t.TempDir(), Options{})
	if err := a.RecordRun(ctx, atalaya.CrawlRun{Source: "fgr", Started: t0}); err != nil {
		t.Fatal(err)
	}
	err := a.db.Update(func(tx *bolt.Tx) error {
		for i := range MaxRunsPerSource + 7 {
			if err := appendRun(tx, atalaya.CrawlRun{Source: "sre", Started: t0.Add(time.Duration(i) * time.Second)}, TriggerScheduled); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sre, err := a.Runs(ctx, RunFilter{Source: "sre", Limit: 3 * MaxRunsPerSource})
	if err != nil {
		t.Fatal(err)
	}
	if len(sre) != MaxRunsPerSource || !sre[len(sre)-1].Started.Equal(t0.Add(7*time.Second)) {
		t.Errorf("kept %d runs of sre, oldest %v; want %d, the oldest 7 dropped", len(sre), sre[len(sre)-1].Started, MaxRunsPerSource)
	}
	if fgr, err := a.Runs(ctx, RunFilter{Source: "fgr"}); err != nil || len(fgr) != 1 {
		t.Errorf("runs of fgr = %d, %v; want 1", len(fgr), err)
	}
}
