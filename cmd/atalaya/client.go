package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"atalaya"
	"atalaya/api"
	"atalaya/app"
	"atalaya/archive"
	"atalaya/config"
	"atalaya/index"
)

// A running `atalaya serve` owns the data directory: it holds the archive
// and the index open for writing. Read commands then ask it through its API
// (its address is in <data>/serve.json), and `crawl` asks it to crawl.

// serviceClient talks to the service running on a data directory.
type serviceClient struct {
	base string // http://host:port
	http *http.Client
}

// clientTimeout bounds every request to the service.
const clientTimeout = 60 * time.Second

// runningService returns a client of the service that serve.json in the
// data directory names, or nil when there is none or it does not answer
// (a serve.json left by a killed service).
func (e *env) runningService(ctx context.Context) *serviceClient {
	sf, err := app.ReadServeFile(e.dataDir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			e.logger.Warn("ignoring unreadable serve.json", "error", err)
		}
		return nil
	}
	c := &serviceClient{base: "http://" + sf.Addr, http: &http.Client{Timeout: clientTimeout}}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var h api.HealthResponse
	if err := c.get(ctx, "/healthz", nil, &h); err != nil {
		e.logger.Debug("serve.json names no running service", "addr", sf.Addr, "pid", sf.PID, "error", err)
		return nil
	}
	e.logger.Debug("asking the running service", "addr", sf.Addr)
	return c
}

// get GETs path with q and decodes the JSON answer into v; an error answer
// becomes an error with its message.
func (c *serviceClient) get(ctx context.Context, path string, q url.Values, v any) error {
	return c.getAs(ctx, path, q, "", v)
}

// getAs is get with the admin token, when token is not "".
func (c *serviceClient) getAs(ctx context.Context, path string, q url.Values, token string, v any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.do(req, v)
}

// post POSTs to path with the admin token.
func (c *serviceClient) post(ctx context.Context, path, token string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.do(req, v)
}

func (c *serviceClient) do(req *http.Request, v any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("asking the running service: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("asking the running service: %w", err)
	}
	if resp.StatusCode >= 300 {
		msg := "the running service answered " + resp.Status
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if resp.StatusCode == http.StatusNotFound {
			return &serviceNotFound{msg: msg}
		}
		return errors.New(msg)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("reading the running service's answer to %s: %w", req.URL.Path, err)
	}
	return nil
}

// serviceNotFound is the running service's 404.
type serviceNotFound struct{ msg string }

func (e *serviceNotFound) Error() string { return e.msg }

// queryValues turns search flags into API parameters.
func queryValues(text string, filters map[string][]string) url.Values {
	q := url.Values{}
	if text != "" {
		q.Set("q", text)
	}
	for name, vs := range filters {
		if len(vs) > 0 {
			q.Set(name, strings.Join(vs, ","))
		}
	}
	return q
}

// search runs q through the service's /api/search.
func (c *serviceClient) search(ctx context.Context, q index.Query) (*index.Result, error) {
	v := queryValues(q.Text, map[string][]string{
		"label": q.Labels, "theme": q.Themes, "source": q.Sources, "agency": q.Agencies,
		"country": q.Countries, "language": q.Languages,
	})
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.DateOnly))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.DateOnly))
	}
	if q.Sort != "" {
		v.Set("sort", string(q.Sort))
	}
	if q.After != "" {
		v.Set("after", q.After)
	} else if q.Page > 0 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.Size > 0 {
		v.Set("size", strconv.Itoa(q.Size))
	}
	v.Set("facets", strconv.FormatBool(q.Facets))
	v.Set("highlight", strconv.FormatBool(q.Highlight))
	var r api.SearchResponse
	if err := c.get(ctx, "/api/search", v, &r); err != nil {
		return nil, err
	}
	res := &index.Result{Total: r.Total, Next: r.Next, Took: time.Duration(r.TookMS * float64(time.Millisecond))}
	for _, h := range r.Hits {
		hit := index.Hit{
			ID: atalaya.ID(h.ID), URL: h.URL, Title: h.Title, Agency: h.Agency, Source: atalaya.SourceID(h.Source),
			Country: h.Country, Language: h.Language, Label: h.Label, Themes: h.Themes, Version: h.Version,
			RulesVersion: h.RulesVersion, Score: h.Score, Fragments: h.Fragments,
		}
		if h.Published != nil {
			hit.Published = *h.Published
		}
		if h.IndexedAt != nil {
			hit.IndexedAt = *h.IndexedAt
		}
		res.Hits = append(res.Hits, hit)
	}
	if q.Facets && r.Facets != nil {
		res.Facets = map[string][]index.FacetCount{}
		for name, counts := range r.Facets {
			for _, fc := range counts {
				res.Facets[name] = append(res.Facets[name], index.FacetCount{Value: fc.Value, Count: fc.Count})
			}
		}
	}
	return res, nil
}

// releases yields the indexed releases of the sources named, newest first,
// walking the service's search with cursors. They carry no body.
func (c *serviceClient) releases(ctx context.Context, names []string) iter.Seq2[atalaya.Release, error] {
	return func(yield func(atalaya.Release, error) bool) {
		q := index.Query{Sources: names, Sort: index.SortDate, Size: index.MaxPageSize}
		for {
			res, err := c.search(ctx, q)
			if err != nil {
				yield(atalaya.Release{}, err)
				return
			}
			for _, h := range res.Hits {
				rel := atalaya.Release{ID: h.ID, URL: h.URL, Source: h.Source, Agency: h.Agency, Country: atalaya.Country(h.Country),
					Language: atalaya.Language(h.Language), Title: h.Title, Published: h.Published, Version: h.Version}
				if !yield(rel, nil) {
					return
				}
			}
			if res.Next == "" {
				return
			}
			q.After, q.Sort = res.Next, ""
		}
	}
}

// sourceStatuses reads the service's /api/sources.
func (c *serviceClient) sourceStatuses(ctx context.Context) ([]archive.SourceStatus, error) {
	var r api.SourcesResponse
	if err := c.get(ctx, "/api/sources", nil, &r); err != nil {
		return nil, err
	}
	var out []archive.SourceStatus
	for _, s := range r.Sources {
		st := archive.SourceStatus{Source: atalaya.SourceID(s.ID), Releases: s.Releases}
		if s.LastRun == nil && s.Releases == 0 {
			continue // never crawled
		}
		if lr := s.LastRun; lr != nil {
			st.LastRun = atalaya.CrawlRun{Source: st.Source, Listings: lr.Listings, Items: lr.Items, New: lr.New, Revised: lr.Revised,
				Unchanged: lr.Unchanged, Failed: lr.Failed, Gone: lr.Gone, Blocked: lr.Blocked}
			if lr.Started != nil {
				st.LastRun.Started = *lr.Started
			}
			if lr.Finished != nil {
				st.LastRun.Finished = *lr.Finished
			}
		}
		for _, is := range s.Issues {
			st.Issues = append(st.Issues, atalaya.SourceIssue{Source: st.Source, Kind: atalaya.IssueKind(is.Kind), URL: is.URL,
				Selector: is.Selector, Message: is.Message, At: is.Since})
		}
		out = append(out, st)
	}
	return out, nil
}

// crawlThroughService asks the running service to crawl the sources named
// (all enabled ones when none) now, with the admin token from the
// environment variable that serve.admin_token_env names.
func (e *env) crawlThroughService(ctx context.Context, c *serviceClient, names []string) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	srcs, err := e.selectSources(cfg, names)
	if err != nil {
		return err
	}
	token := adminToken(cfg)
	if token == "" {
		return fmt.Errorf("a service runs on %s and owns the data; to ask it to crawl, set serve.admin_token_env in the configuration and that variable to the service's admin token", e.dataDir)
	}
	var errs []error
	for _, src := range srcs {
		var out map[string]string
		if err := c.post(ctx, "/api/sources/"+url.PathEscape(string(src.ID))+"/crawl", token, &out); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", src.ID, err))
			continue
		}
		fmt.Fprintf(e.stdout, "%s: crawl started by the running service; see 'atalaya runs --source %s'\n", src.ID, src.ID)
	}
	return errors.Join(errs...)
}

// adminToken is the service's admin token: the value of the environment
// variable that serve.admin_token_env names, "" when there is none.
func adminToken(cfg *config.Config) string {
	if cfg.Serve.AdminTokenEnv == "" {
		return ""
	}
	return os.Getenv(cfg.Serve.AdminTokenEnv)
}

// release reads release id, with its full text, from the service's index.
// rulesVersion returns the rules version of release id's indexed verdict,
// "" when the service does not know the release.
func (c *serviceClient) rulesVersion(ctx context.Context, id atalaya.ID) (string, error) {
	var r api.ReleaseResponse
	err := c.get(ctx, "/api/releases/"+url.PathEscape(string(id)), nil, &r)
	var nf *serviceNotFound
	if errors.As(err, &nf) {
		return "", nil
	}
	return r.RulesVersion, err
}

func (c *serviceClient) release(ctx context.Context, id atalaya.ID) (atalaya.Release, error) {
	var r api.ReleaseResponse
	if err := c.get(ctx, "/api/releases/"+url.PathEscape(string(id)), nil, &r); err != nil {
		return atalaya.Release{}, fmt.Errorf("release %s: %w", id, err)
	}
	rel := atalaya.Release{ID: atalaya.ID(r.ID), URL: r.URL, Source: atalaya.SourceID(r.Source), Agency: r.Agency,
		Country: atalaya.Country(r.Country), Language: atalaya.Language(r.Language), Type: r.Type, Title: r.Title,
		Body: r.Body, Version: r.Version}
	if r.Published != nil {
		rel.Published = *r.Published
	}
	return rel, nil
}

// servedError explains a lock error when a service runs on the data
// directory: it owns the data, so commands that write must wait for it to
// stop.
func (e *env) servedError(err error) error {
	c := e.runningService(context.Background())
	if c == nil {
		return err
	}
	return fmt.Errorf("atalaya serve is running on %s (%s) and owns its data; stop it to run this command, or ask it through its API: %w", e.dataDir, c.base, err)
}
