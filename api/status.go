package api

import (
	"errors"
	"net/http"

	"atalaya"
	"atalaya/archive"
	"atalaya/internal/httpx"
	"atalaya/schedule"
)

// maxRuns bounds the runs /api/runs lists.
const maxRuns = 1000

func (h *handler) sources(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Query()) > 0 {
		h.fail(w, r, badParam("/api/sources takes no parameters"))
		return
	}
	statuses, err := h.Archive.Sources(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	byID := map[atalaya.SourceID]archive.SourceStatus{}
	for _, st := range statuses {
		byID[st.Source] = st
	}
	sched := map[string]schedule.Status{}
	if h.Scheduler != nil {
		for _, st := range h.Scheduler.Status() {
			sched[st.Name] = st
		}
	}
	out := SourcesResponse{Sources: []SourceDTO{}}
	for _, src := range h.Sources {
		st := byID[src.ID]
		d := SourceDTO{
			ID: string(src.ID), Agency: src.Agency, Country: string(src.Country), Language: string(src.Language),
			Enabled: src.Enabled, Schedule: src.Schedule, Releases: st.Releases, Issues: issueDTOs(st.Issues),
		}
		if s, ok := sched[string(src.ID)]; ok {
			d.NextRun, d.Running = OptionalTime(s.Next), s.Running
		}
		if !st.LastRun.Finished.IsZero() || !st.LastRun.Started.IsZero() {
			run := RunDTOOf(archive.RunRecord{CrawlRun: st.LastRun})
			d.LastRun = &run
		}
		out.Sources = append(out.Sources, d)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (h *handler) runs(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if err := onlyParams(v, "source", "limit"); err != nil {
		h.fail(w, r, err)
		return
	}
	limit, err := intParam(v, "limit", 100)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if limit < 1 || limit > maxRuns {
		h.fail(w, r, badParam("limit=%d: want 1 to %d", limit, maxRuns))
		return
	}
	src := atalaya.SourceID(v.Get("source"))
	if src != "" && !h.knownSource(src) {
		h.fail(w, r, badParam("unknown source %q", src))
		return
	}
	runs, err := h.Archive.Runs(r.Context(), archive.RunFilter{Source: src, Limit: limit})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := RunsResponse{Runs: make([]RunDTO, 0, len(runs))}
	for _, run := range runs {
		out.Runs = append(out.Runs, RunDTOOf(run))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// digests lists the digests. Their recipients are shown in full only to a
// request with the admin token; to others they are masked (to_masked).
func (h *handler) digests(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Query()) > 0 {
		h.fail(w, r, badParam("/api/digests takes no parameters"))
		return
	}
	out := DigestsResponse{Digests: []DigestDTO{}}
	if h.Digests != nil {
		digests, err := h.Digests.Digests(r.Context())
		if err != nil {
			h.fail(w, r, err)
			return
		}
		out.Digests = append(out.Digests, digests...)
	}
	if !h.hasAdminToken(r) {
		for i := range out.Digests {
			out.Digests[i] = maskRecipients(out.Digests[i])
		}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (h *handler) knownSource(id atalaya.SourceID) bool {
	for _, s := range h.Sources {
		if s.ID == id {
			return true
		}
	}
	return false
}

// health answers 200 when the index and the archive answer, else 503.
func (h *handler) health(w http.ResponseWriter, r *http.Request) {
	out := HealthResponse{Status: "ok"}
	if n, err := h.Index.Count(); err != nil {
		out.Index.Error = err.Error()
	} else {
		out.Index = Health{OK: true, Releases: int(n)}
	}
	if n, err := h.Archive.Count(r.Context()); err != nil {
		out.Archive.Error = err.Error()
	} else {
		out.Archive = Health{OK: true, Releases: n}
	}
	status := http.StatusOK
	if !out.Index.OK || !out.Archive.OK {
		out.Status, status = "degraded", http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, status, out)
}

func (h *handler) crawlNow(w http.ResponseWriter, r *http.Request) {
	src := atalaya.SourceID(r.PathValue("name"))
	err := h.Admin.CrawlNow(src)
	switch {
	case errors.Is(err, schedule.ErrUnknownJob):
		httpx.Error(w, http.StatusNotFound, httpx.ErrorBody{Error: "no source " + string(src) + " in the configuration"})
	case errors.Is(err, schedule.ErrRunning):
		httpx.Error(w, http.StatusConflict, httpx.ErrorBody{Error: "a crawl of " + string(src) + " is running already"})
	case errors.Is(err, schedule.ErrStopped):
		httpx.Error(w, http.StatusServiceUnavailable, httpx.ErrorBody{Error: "the service is stopping"})
	case err != nil:
		h.fail(w, r, err)
	default:
		httpx.WriteJSON(w, http.StatusAccepted, map[string]string{"status": "started", "source": string(src)})
	}
}

func (h *handler) reloadRules(w http.ResponseWriter, r *http.Request) {
	version, err := h.Admin.ReloadRules(r.Context())
	if err != nil {
		httpx.Error(w, http.StatusUnprocessableEntity, httpx.ErrorBody{Error: "the rules were not reloaded, the old ones stay: " + err.Error()})
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "reloaded", "rules_version": version})
}
