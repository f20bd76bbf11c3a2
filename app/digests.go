package app

import (
	"context"
	"fmt"
	"time"

	"atalaya/api"
	"atalaya/digest"
	"atalaya/schedule"
	"atalaya/web"
)

// digestBudget bounds one run of a digest: building it, and delivering it
// with the sender's retries.
const digestBudget = 15 * time.Minute

// digestJobPrefix starts the scheduler's job name of each digest; source
// names cannot hold a colon, so the two never meet.
const digestJobPrefix = "digest:"

// scheduleDigests adds a job per digest: a digest with a schedule is sent
// on it, and once at start when its last send is older than its interval
// (or it was never sent).
func (s *service) scheduleDigests() error {
	if s.digests == nil {
		return nil
	}
	statuses, err := s.digests.Statuses()
	if err != nil {
		return err
	}
	for _, st := range statuses {
		name := digestJobPrefix + st.Name
		job := schedule.Job{Name: name, Group: name, Spec: st.Schedule, Last: st.LastSent, Budget: digestBudget, Run: s.digestJob(st.Name)}
		if err := s.sched.Add(job); err != nil {
			return fmt.Errorf("serve: digest %s: %w", st.Name, err)
		}
	}
	return nil
}

// digestJob returns the job that runs digest name once; the scheduler logs
// its failures, and the sender records them with the digest.
func (s *service) digestJob(name string) func(context.Context, schedule.Trigger) error {
	return func(ctx context.Context, _ schedule.Trigger) error {
		rep, err := s.digests.Run(ctx, name)
		if err != nil {
			return fmt.Errorf("digest %s: %w", name, err)
		}
		s.log.Info("digest run", "digest", name, "delivered", rep.Delivered, "skipped", rep.Skipped,
			"releases", rep.Releases, "corrections", rep.Corrections, "waiting", rep.Waiting, "message_id", rep.MessageID)
		return nil
	}
}

// digestStatuses returns every digest's state with its next run.
func (s *service) digestStatuses() ([]api.DigestDTO, error) {
	if s.digests == nil {
		return nil, nil
	}
	statuses, err := s.digests.Statuses()
	if err != nil {
		return nil, err
	}
	next := map[string]time.Time{}
	for _, st := range s.sched.Status() {
		next[st.Name] = st.Next
	}
	out := make([]api.DigestDTO, len(statuses))
	for i, st := range statuses {
		out[i] = DigestDTO(st, next[digestJobPrefix+st.Name])
	}
	return out, nil
}

// DigestDTO is a digest's status as the API and `digest list --json`
// report it; next is its next scheduled run, zero if none.
func DigestDTO(st digest.Status, next time.Time) api.DigestDTO {
	d := api.DigestDTO{
		Name: st.Name, Schedule: st.Schedule, To: st.To, Query: st.Query, LastSent: st.LastSent, Watermark: st.Watermark,
		Messages: st.Messages, Releases: st.Releases, LastCount: st.LastCount, Failures: st.Failures, LastError: st.LastError,
		Pending: st.Pending,
	}
	if !next.IsZero() {
		d.NextRun = &next
	}
	return d
}

// apiDigests gives the digests' status to the API.
type apiDigests struct{ s *service }

func (a apiDigests) Digests(context.Context) ([]api.DigestDTO, error) { return a.s.digestStatuses() }

// uiDigests gives the digests' status to the sources page.
type uiDigests struct{ s *service }

func (u uiDigests) Digests(context.Context) ([]web.DigestStatus, error) {
	statuses, err := u.s.digestStatuses()
	if err != nil {
		return nil, err
	}
	out := make([]web.DigestStatus, len(statuses))
	for i, d := range statuses {
		out[i] = web.DigestStatus{Name: d.Name, Schedule: d.Schedule, LastSent: d.LastSent, Messages: d.Messages,
			Releases: d.Releases, LastCount: d.LastCount, LastError: d.LastError}
		if d.NextRun != nil {
			out[i].NextRun = *d.NextRun
		}
	}
	return out, nil
}
