package schedule

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func quiet() Options { return Options{Logger: slog.New(slog.DiscardHandler)} }

// wait waits for ch, failing after a generous deadline (a hang, not a
// speed check).
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestAddRefusesBadSpecs(t *testing.T) {
	s := New(quiet())
	run := func(context.Context, Trigger) error { return nil }
	for _, spec := range []string{"@every 0s", "@every -5m", "@every soon", "61 * * * *", "* * *"} {
		if err := s.Add(Job{Name: spec, Spec: spec, Run: run}); err == nil {
			t.Errorf("Add(spec %q): got nil error", spec)
		}
	}
	if err := s.Add(Job{Name: "a", Spec: "TZ=America/Mexico_City */30 * * * *", Run: run}); err != nil {
		t.Errorf("Add with a TZ prefix: %v", err)
	}
	if err := s.Add(Job{Name: "a", Spec: "@hourly", Run: run}); err == nil {
		t.Error("Add of a duplicate name: got nil error")
	}
}

// TestCatchUp checks that a job that never ran, or missed its last
// scheduled time, runs at Start, and one that ran recently does not.
func TestCatchUp(t *testing.T) {
	s := New(quiet())
	ran := make(chan string, 3)
	job := func(name string, last time.Time) Job {
		return Job{Name: name, Group: name, Spec: "@every 1h", Last: last, Run: func(_ context.Context, tr Trigger) error {
			if tr != CatchUp {
				t.Errorf("%s: trigger %s, want catch-up", name, tr)
			}
			ran <- name
			return nil
		}}
	}
	for _, j := range []Job{job("never", time.Time{}), job("missed", time.Now().Add(-3*time.Hour)), job("recent", time.Now().Add(-time.Minute))} {
		if err := s.Add(j); err != nil {
			t.Fatal(err)
		}
	}
	s.Start()
	got := map[string]bool{wait(t, ran, "catch-up run"): true, wait(t, ran, "catch-up run"): true}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !got["never"] || !got["missed"] || len(ran) != 0 {
		t.Errorf("catch-up runs %v (+%d more); want never and missed only", got, len(ran))
	}
}

// TestNoOverlapAndGroups checks that a job never runs twice at once, that
// jobs of one group wait for each other, and that a hanging job does not
// delay a job of another group.
func TestNoOverlapAndGroups(t *testing.T) {
	s := New(quiet())
	release := make(chan struct{})
	hanging := make(chan struct{}, 1)
	var inGroup atomic.Int32
	var maxInGroup atomic.Int32
	other := make(chan struct{}, 1)
	sameHost := func(ctx context.Context, _ Trigger) error {
		n := inGroup.Add(1)
		defer inGroup.Add(-1)
		for {
			m := maxInGroup.Load()
			if n <= m || maxInGroup.CompareAndSwap(m, n) {
				break
			}
		}
		select {
		case hanging <- struct{}{}:
		default:
		}
		<-release
		return nil
	}
	for _, j := range []Job{
		{Name: "a", Group: "host1", Run: sameHost},
		{Name: "b", Group: "host1", Run: sameHost},
		{Name: "c", Group: "host2", Run: func(context.Context, Trigger) error { other <- struct{}{}; return nil }},
	} {
		if err := s.Add(j); err != nil {
			t.Fatal(err)
		}
	}
	s.Start()
	if err := s.RunNow("a"); err != nil {
		t.Fatal(err)
	}
	wait(t, hanging, "job a to start")
	if err := s.RunNow("a"); !errors.Is(err, ErrRunning) {
		t.Errorf("RunNow of a running job: got %v, want ErrRunning", err)
	}
	if err := s.RunNow("b"); err != nil { // waits for a
		t.Fatal(err)
	}
	if err := s.RunNow("c"); err != nil {
		t.Fatal(err)
	}
	wait(t, other, "job c of another group while a hangs")
	if err := s.RunNow("nope"); !errors.Is(err, ErrUnknownJob) {
		t.Errorf("RunNow of an unknown job: got %v", err)
	}
	close(release)
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if maxInGroup.Load() != 1 {
		t.Errorf("%d jobs of one group ran at once; want 1", maxInGroup.Load())
	}
	if err := s.RunNow("a"); !errors.Is(err, ErrStopped) {
		t.Errorf("RunNow after Stop: got %v, want ErrStopped", err)
	}
}

// TestBudgetPanicAndStop checks that a run's context ends at its budget,
// that a panic is recovered and the job runs again, and that Stop cancels
// a run that outlives the grace period.
func TestBudgetPanicAndStop(t *testing.T) {
	s := New(quiet())
	budgetHit := make(chan error, 1)
	var panics atomic.Int32
	panicked := make(chan struct{}, 2)
	stuck := make(chan struct{}, 1)
	var cancelled atomic.Bool
	for _, j := range []Job{
		{Name: "budget", Budget: 50 * time.Millisecond, Run: func(ctx context.Context, _ Trigger) error {
			<-ctx.Done()
			budgetHit <- context.Cause(ctx)
			return ctx.Err()
		}},
		{Name: "panics", Run: func(context.Context, Trigger) error {
			panics.Add(1)
			panicked <- struct{}{}
			panic("boom")
		}},
		{Name: "stuck", Run: func(ctx context.Context, _ Trigger) error {
			stuck <- struct{}{}
			<-ctx.Done()
			cancelled.Store(true)
			return ctx.Err()
		}},
	} {
		if err := s.Add(j); err != nil {
			t.Fatal(err)
		}
	}
	s.Start()
	if err := s.RunNow("budget"); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, budgetHit, "the budget"); err == nil || err.Error() != "run of budget took its whole budget of 50ms" {
		t.Errorf("cause at the budget: %v", err)
	}
	for range 2 {
		for {
			if err := s.RunNow("panics"); err == nil {
				break
			}
			time.Sleep(time.Millisecond) // the previous run is unwinding
		}
		wait(t, panicked, "the panicking job")
	}
	if err := s.RunNow("stuck"); err != nil {
		t.Fatal(err)
	}
	wait(t, stuck, "the stuck job")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no grace at all
	if err := s.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Stop past the grace period: got %v", err)
	}
	if !cancelled.Load() || panics.Load() != 2 {
		t.Errorf("stuck job cancelled %v, panicking job ran %d times; want true, 2", cancelled.Load(), panics.Load())
	}
}

// TestScheduledRun checks that a job runs on its schedule, reported in
// Status with its next time.
func TestScheduledRun(t *testing.T) {
	s := New(quiet())
	ran := make(chan Trigger, 10)
	var once sync.Once
	started := make(chan struct{})
	err := s.Add(Job{Name: "tick", Spec: "@every 1s", Last: time.Now(), Run: func(_ context.Context, tr Trigger) error {
		ran <- tr
		once.Do(func() { close(started) })
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	st := s.Status()
	if len(st) != 1 || st[0].Next.IsZero() || st[0].Spec != "@every 1s" {
		t.Errorf("status = %+v", st)
	}
	if tr := wait(t, ran, "a scheduled run"); tr != Scheduled {
		t.Errorf("trigger %s, want scheduled", tr)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestJitter checks that jitter is fixed per job, under the maximum and
// under a tenth of the interval.
func TestJitter(t *testing.T) {
	hourly, _ := cron.ParseStandard("@hourly")
	every10s, _ := cron.ParseStandard("@every 10s")
	for _, name := range []string{"state", "sre", "fgr"} {
		j := jitter(name, hourly, 30*time.Second)
		if j != jitter(name, hourly, 30*time.Second) || j < 0 || j >= 30*time.Second {
			t.Errorf("jitter of %s hourly = %v", name, j)
		}
		if j := jitter(name, every10s, 30*time.Second); j >= time.Second {
			t.Errorf("jitter of %s every 10s = %v, want under 1s", name, j)
		}
	}
	js := jittered{inner: hourly, offset: 7 * time.Second}
	base := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	if got := js.Next(base); !got.Equal(base.Add(7 * time.Second)) {
		t.Errorf("Next(10:00:00) = %v, want 10:00:07", got)
	}
	if got := js.Next(base.Add(7 * time.Second)); !got.Equal(base.Add(time.Hour + 7*time.Second)) {
		t.Errorf("Next(10:00:07) = %v, want 11:00:07", got)
	}
}

// TestSkippedRunsAreReported checks that a scheduled run skipped because
// the previous one still runs is reported through Options.Skipped (the
// service counts them in its metrics).
func TestSkippedRunsAreReported(t *testing.T) {
	opts := quiet()
	opts.MaxJitter = time.Millisecond
	skipped := make(chan string, 10)
	opts.Skipped = func(job string) { skipped <- job }
	s := New(opts)
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	err := s.Add(Job{Name: "slow", Spec: "@every 1s", Run: func(ctx context.Context, _ Trigger) error {
		select {
		case started <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	wait(t, started, "the first run")
	if job := wait(t, skipped, "a skipped run"); job != "slow" {
		t.Errorf("skipped job %q, want slow", job)
	}
	close(release)
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}
