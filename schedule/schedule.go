// Package schedule runs named jobs on cron specs (robfig/cron): each job on
// its own schedule with a small deterministic jitter, never two runs of one
// job at once, jobs of one group one at a time and of different groups in
// parallel, a catch-up run at start for a job that never ran or missed a
// run, a time budget per run, panics recovered, and a graceful Stop.
//
// Jobs are plain functions; the package knows nothing of sources or
// crawls.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// Errors returned by RunNow and Add.
var (
	// ErrUnknownJob is returned for a job name that was never added.
	ErrUnknownJob = errors.New("schedule: no such job")
	// ErrRunning is returned by RunNow while the job runs.
	ErrRunning = errors.New("schedule: job is already running")
	// ErrStopped is returned by RunNow after Stop.
	ErrStopped = errors.New("schedule: scheduler is stopping")
)

// Trigger is what started a run.
type Trigger string

// The triggers of runs.
const (
	Scheduled Trigger = "scheduled"
	CatchUp   Trigger = "catch-up"
	Manual    Trigger = "manual"
)

// Job is one named job.
type Job struct {
	Name string
	// Group names jobs that must not run at the same time (the sources of
	// one host); a run waits for the group's running job. "" is a group of
	// its own.
	Group string
	// Spec is a cron spec (5 fields, or a descriptor such as @hourly or
	// @every 30m, with an optional TZ= prefix); "" runs the job only when
	// asked (RunNow).
	Spec string
	// Last is when the job last ran: zero for never. With a Spec, a job
	// that never ran, or whose next run after Last is past, runs once at
	// Start.
	Last time.Time
	// Budget bounds each run: its context ends after it. 0: no bound.
	Budget time.Duration
	// Run does the work. Its context ends at the budget, or when Stop's
	// grace period ends.
	Run func(ctx context.Context, trigger Trigger) error
}

// Options configure a Scheduler.
type Options struct {
	Logger *slog.Logger // nil: slog.Default()
	// MaxJitter bounds the delay added to every scheduled time of a job:
	// the job's own fixed share of it, at most a tenth of its interval.
	// 0 means 30 s.
	MaxJitter time.Duration
	// Location is the time zone of specs without TZ=; nil means time.Local.
	Location *time.Location
	// Skipped, if set, is told of every run skipped because the job's
	// previous run is still running.
	Skipped func(job string)
}

// Status is the state of one job.
type Status struct {
	Name    string
	Spec    string
	Next    time.Time // zero when the job has no spec or the scheduler is not started
	Running bool
	// LastStart is the start of the job's last run through this scheduler,
	// else Job.Last.
	LastStart time.Time
}

// Scheduler runs jobs. Its methods are safe for concurrent use.
type Scheduler struct {
	log       *slog.Logger
	maxJitter time.Duration
	skipped   func(job string)
	cron      *cron.Cron
	parser    cron.Parser

	jobCtx    context.Context // ends when Stop's grace period ends
	cancelJob context.CancelFunc
	runs      sync.WaitGroup

	mu       sync.Mutex
	jobs     map[string]*entry
	groups   map[string]chan struct{} // one token per group
	started  bool
	stopping bool
}

type entry struct {
	job     Job
	sched   cron.Schedule // nil without a spec
	id      cron.EntryID
	running atomic.Bool
	last    atomic.Pointer[time.Time]
}

// New returns a Scheduler with no jobs.
func New(opts Options) *Scheduler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxJitter <= 0 {
		opts.MaxJitter = 30 * time.Second
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{
		log:       opts.Logger,
		maxJitter: opts.MaxJitter,
		skipped:   opts.Skipped,
		cron:      cron.New(cron.WithLocation(opts.Location)),
		parser:    cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor),
		jobCtx:    ctx,
		cancelJob: cancel,
		jobs:      map[string]*entry{},
		groups:    map[string]chan struct{}{},
	}
}

// Add adds a job. It returns an error for a duplicate name, a spec that does
// not parse or an interval of zero or less.
func (s *Scheduler) Add(j Job) error {
	if j.Name == "" || j.Run == nil {
		return fmt.Errorf("schedule: job %q needs a name and a function", j.Name)
	}
	e := &entry{job: j}
	e.last.Store(&j.Last)
	if j.Spec != "" {
		sched, err := s.parse(j.Spec)
		if err != nil {
			return fmt.Errorf("schedule: job %s: %w", j.Name, err)
		}
		e.sched = jittered{inner: sched, offset: jitter(j.Name, sched, s.maxJitter)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.jobs[j.Name]; dup {
		return fmt.Errorf("schedule: job %s added twice", j.Name)
	}
	if s.groups[j.Group] == nil {
		s.groups[j.Group] = make(chan struct{}, 1)
	}
	if e.sched != nil {
		e.id = s.cron.Schedule(e.sched, cron.FuncJob(func() { s.launch(e, Scheduled) }))
	}
	s.jobs[j.Name] = e
	return nil
}

// parse parses spec, refusing @every intervals of zero or less (cron would
// round them up to a second).
func (s *Scheduler) parse(spec string) (cron.Schedule, error) {
	body := spec
	if strings.HasPrefix(body, "TZ=") || strings.HasPrefix(body, "CRON_TZ=") {
		if i := strings.IndexByte(body, ' '); i > 0 {
			body = strings.TrimSpace(body[i:])
		}
	}
	if d, ok := strings.CutPrefix(body, "@every "); ok {
		every, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil {
			return nil, fmt.Errorf("spec %q: %v", spec, err)
		}
		if every <= 0 {
			return nil, fmt.Errorf("spec %q: the interval must be positive", spec)
		}
	}
	sched, err := s.parser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("spec %q does not parse: %v", spec, err)
	}
	return sched, nil
}

// jitter returns the fixed delay of the job name: a share of maxJitter,
// at most a tenth of the interval between two runs of sched.
func jitter(name string, sched cron.Schedule, maxJitter time.Duration) time.Duration {
	first := sched.Next(time.Now())
	interval := sched.Next(first).Sub(first)
	limit := min(maxJitter, interval/10)
	if limit <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	return time.Duration(h.Sum64() % uint64(limit))
}

// jittered is a schedule shifted by a fixed offset.
type jittered struct {
	inner  cron.Schedule
	offset time.Duration
}

// Next returns the next time after t.
func (j jittered) Next(t time.Time) time.Time {
	return j.inner.Next(t.Add(-j.offset)).Add(j.offset)
}

// Start starts the schedules, and a catch-up run of every job with a spec
// that never ran or missed its last scheduled time.
func (s *Scheduler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopping {
		return
	}
	s.started = true
	now := time.Now()
	for _, e := range s.sortedJobs() {
		if e.sched == nil {
			continue
		}
		last := *e.last.Load()
		if last.IsZero() || !e.sched.Next(last).After(now) {
			s.log.Info("catch-up run", "job", e.job.Name, "last_run", last)
			s.launchLocked(e, CatchUp)
		}
	}
	s.cron.Start()
}

func (s *Scheduler) sortedJobs() []*entry {
	out := make([]*entry, 0, len(s.jobs))
	for _, e := range s.jobs {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *entry) int { return strings.Compare(a.job.Name, b.job.Name) })
	return out
}

// RunNow starts a run of the job now, in the background. It returns
// ErrRunning if the job is running, ErrUnknownJob or ErrStopped.
func (s *Scheduler) RunNow(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.jobs[name]
	if e == nil {
		return fmt.Errorf("%w: %s", ErrUnknownJob, name)
	}
	if s.stopping {
		return ErrStopped
	}
	if e.running.Load() {
		return fmt.Errorf("%w: %s", ErrRunning, name)
	}
	s.launchLocked(e, Manual)
	return nil
}

func (s *Scheduler) launch(e *entry, t Trigger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.launchLocked(e, t)
}

// launchLocked starts a run of e unless it runs already or the scheduler
// stops. The caller holds s.mu.
func (s *Scheduler) launchLocked(e *entry, t Trigger) {
	if s.stopping {
		return
	}
	if !e.running.CompareAndSwap(false, true) {
		s.log.Warn("run skipped: the previous one is still running", "job", e.job.Name, "trigger", t)
		if s.skipped != nil {
			s.skipped(e.job.Name)
		}
		return
	}
	token := s.groups[e.job.Group]
	s.runs.Go(func() {
		defer e.running.Store(false)
		select {
		case token <- struct{}{}:
			defer func() { <-token }()
		case <-s.jobCtx.Done():
			return
		}
		s.runJob(e, t)
	})
}

// runJob runs e once within its budget, recovering a panic.
func (s *Scheduler) runJob(e *entry, t Trigger) {
	ctx := s.jobCtx
	if e.job.Budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, e.job.Budget, fmt.Errorf("run of %s took its whole budget of %s", e.job.Name, e.job.Budget))
		defer cancel()
	}
	start := time.Now()
	e.last.Store(&start)
	s.log.Info("run started", "job", e.job.Name, "trigger", t)
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return e.job.Run(ctx, t)
	}()
	if err != nil {
		s.log.Error("run failed", "job", e.job.Name, "trigger", t, "duration", time.Since(start), "error", err)
		return
	}
	s.log.Info("run finished", "job", e.job.Name, "trigger", t, "duration", time.Since(start))
}

// Status returns the state of every job, by name.
func (s *Scheduler) Status() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Status
	for _, e := range s.sortedJobs() {
		st := Status{Name: e.job.Name, Spec: e.job.Spec, Running: e.running.Load(), LastStart: *e.last.Load()}
		if e.sched != nil && s.started && !s.stopping {
			st.Next = s.cron.Entry(e.id).Next
		}
		out = append(out, st)
	}
	return out
}

// Stop stops starting runs and waits for the running ones until ctx is
// done; then it cancels their contexts and waits for them to return. It
// returns ctx's error if the runs had to be cancelled.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	<-s.cron.Stop().Done() // cron's own goroutines only launch runs
	done := make(chan struct{})
	go func() {
		s.runs.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancelJob()
		return nil
	case <-ctx.Done():
		s.log.Warn("cancelling running jobs: the grace period is over")
		s.cancelJob()
		<-done
		return fmt.Errorf("schedule: stop: %w", ctx.Err())
	}
}
