package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"atalaya/api"
	"atalaya/app"
	"atalaya/classify"
	"atalaya/config"
	"atalaya/crawler"
	"atalaya/internal/mirror"
)

// TestScheduledRunOfUnchangedMirror runs the service in process against
// the mirror with one source on a short schedule: after the catch-up run,
// a scheduled run of the unchanged site is recorded as "no change", raises
// no health issue, and requests its listing only conditionally (checked in
// the mirror's request log).
func TestScheduledRunOfUnchangedMirror(t *testing.T) {
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	all, err := crawlerSources(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mirror.Start(mirror.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var sre app.Source
	for _, s := range all {
		if s.ID == "sre" {
			sre = app.Source{Source: s, Schedule: "@every 2s", Enabled: true}
		}
	}
	sre.Politeness.Delay, sre.Politeness.MaxCrawlDelay = 0, time.Millisecond
	listing, err := url.Parse(sre.StartURLs[0])
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{
			DataDir: t.TempDir(), Listen: "127.0.0.1:0", Sources: []app.Source{sre}, MaxJitter: time.Millisecond,
			Crawl:  crawler.Options{UserAgent: cfg.UserAgent, Transport: m.Transport(), AllowPrivateNetworks: true, Logger: quiet},
			Rules:  func() (*classify.Rules, error) { return classify.Default(), nil },
			Logger: quiet, Ready: func(addr string) { ready <- addr },
		})
	}()
	addr := <-ready
	var scheduled *api.RunDTO
	eventually(t, "a scheduled run of sre", func() bool {
		resp, err := http.Get("http://" + addr + "/api/runs?source=sre")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r api.RunsResponse
		json.NewDecoder(resp.Body).Decode(&r)
		for i, run := range r.Runs {
			if run.Trigger == "scheduled" && run.Finished != nil {
				scheduled = &r.Runs[i]
				return true
			}
		}
		return false
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if scheduled.Outcome != "no change" || len(scheduled.Issues) > 0 || scheduled.New+scheduled.Revised+scheduled.Failed > 0 {
		t.Errorf("scheduled run of the unchanged mirror: %+v", *scheduled)
	}
	listings := 0
	for _, r := range m.Requests() {
		if r.Host != listing.Hostname() || r.Path != listing.Path || r.Time.Before(*scheduled.Started) || r.Time.After(*scheduled.Finished) {
			continue
		}
		listings++
		if r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Modified-Since") == "" {
			t.Errorf("unconditional listing request in the scheduled run: %s?%s", r.Path, r.Query)
		}
	}
	if listings == 0 {
		t.Error("the scheduled run requested no listing page")
	}
}
