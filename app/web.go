package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"atalaya"
	"atalaya/archive"
	"atalaya/web"
)

// apiRoutes are the paths the API serves; the web UI serves the rest.
var apiRoutes = []string{"/api/", "/feed.atom", "/healthz", "/metrics"}

// withUI serves the web UI beside the API handler h, on the same address.
func (s *service) withUI(h http.Handler) http.Handler {
	catalog := make([]atalaya.Source, 0, len(s.opts.Sources))
	for _, src := range s.opts.Sources {
		catalog = append(catalog, atalaya.Source{ID: src.ID, Agency: src.Agency, Country: src.Country, Language: src.Language})
	}
	ui := web.New(web.Deps{
		Index: s.idx, Archive: uiArchive{s.arch}, Catalog: catalog, Sources: uiSources{s}, Digests: uiDigests{s}, Crawler: uiCrawler{s},
		AdminToken: s.opts.AdminToken, Rules: s.rules.Load, Gold: s.opts.Gold, Logger: s.log,
	})
	mux := http.NewServeMux()
	for _, route := range apiRoutes {
		mux.Handle(route, h)
	}
	mux.Handle("/", ui)
	return mux
}

// uiArchive gives the archive to the UI, translating its not-found error.
type uiArchive struct{ arch *archive.Archive }

func (a uiArchive) Page(ctx context.Context, id atalaya.ID, version int) (atalaya.Page, error) {
	p, err := a.arch.Page(ctx, id, version)
	return p, uiNotFound(err)
}

func (a uiArchive) Versions(ctx context.Context, id atalaya.ID) ([]atalaya.Release, error) {
	v, err := a.arch.Versions(ctx, id)
	return v, uiNotFound(err)
}

// uiNotFound makes the archive's not-found error the UI's.
func uiNotFound(err error) error {
	if errors.Is(err, archive.ErrNotFound) {
		return fmt.Errorf("%w: %v", web.ErrNotFound, err)
	}
	return err
}

// uiRunsPerSource is how many recent runs the sources page lists per source.
const uiRunsPerSource = 10

// uiSources reports each configured source with its schedule, archive
// status and recent runs.
type uiSources struct{ s *service }

func (u uiSources) Sources(ctx context.Context) ([]web.SourceStatus, error) {
	statuses, err := u.s.arch.Sources(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[atalaya.SourceID]archive.SourceStatus{}
	for _, st := range statuses {
		byID[st.Source] = st
	}
	next := map[string]sourceSchedule{}
	for _, st := range u.s.sched.Status() {
		next[st.Name] = sourceSchedule{st.Spec, st.Next}
	}
	out := make([]web.SourceStatus, 0, len(u.s.opts.Sources))
	for _, src := range u.s.opts.Sources {
		st := byID[src.ID]
		v := web.SourceStatus{
			Source:   atalaya.Source{ID: src.ID, Agency: src.Agency, Country: src.Country, Language: src.Language},
			Schedule: next[string(src.ID)].spec, NextRun: next[string(src.ID)].next,
			Releases: st.Releases, LastRun: st.LastRun, Issues: st.Issues,
		}
		if !src.Enabled && src.Schedule != "" {
			v.Schedule = src.Schedule + " (disabled)"
		}
		runs, err := u.s.arch.Runs(ctx, archive.RunFilter{Source: src.ID, Limit: uiRunsPerSource})
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			v.Runs = append(v.Runs, web.Run{CrawlRun: r.CrawlRun, Trigger: string(r.Trigger), Outcome: string(r.Outcome), Errors: r.Errors})
		}
		out = append(out, v)
	}
	return out, nil
}

// sourceSchedule is a source's cron spec and next run.
type sourceSchedule struct {
	spec string
	next time.Time
}

// uiCrawler starts crawls for the UI's crawl-now button.
type uiCrawler struct{ s *service }

func (c uiCrawler) CrawlNow(_ context.Context, src atalaya.SourceID) error { return c.s.CrawlNow(src) }
