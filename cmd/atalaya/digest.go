package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"atalaya"
	"atalaya/api"
	"atalaya/app"
	"atalaya/archive"
	"atalaya/config"
	"atalaya/digest"
	"atalaya/index"
)

const digestHelp = `Build and send the email digests of the configuration (section "digests").

Subcommands:
  list [--json]                 every digest: schedule, recipients, last send,
                                releases sent, failed attempts since, pending message
  preview NAME [--html FILE]    print the next message of digest NAME (subject and
                                plain text) without sending it or moving its
                                watermark; --html writes its HTML part to FILE
                                (a new file)
  send NAME [--json]            deliver digest NAME now: to the smtp server of the
                                configuration, else as an .eml file in <data>/outbox

Every key is documented in the README, section "Digests".`

// Compile-time checks that the wiring fits the digest package.
var (
	_ digest.Searcher  = (*index.Index)(nil)
	_ digest.Transport = (*digest.SMTP)(nil)
	_ digest.Transport = (*digest.Outbox)(nil)
	_ digest.Health    = archiveHealth{}
)

// runDigest runs "atalaya digest <subcommand>".
func runDigest(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, "Usage: atalaya digest <subcommand> [arguments]\n\n"+digestHelp)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	subs := map[string]func(context.Context, *env, []string) error{
		"list": digestList, "preview": digestPreview, "send": digestSend,
	}
	sub, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "atalaya digest: unknown subcommand %q\n\n%s\n", args[0], digestHelp)
		return errUsage
	}
	return sub(ctx, e, args[1:])
}

// digestWiring is what the digest subcommands open; close closes it all.
type digestWiring struct {
	sender  *digest.Sender
	closers []func() error
}

func (w *digestWiring) close() error {
	var errs []error
	for i := len(w.closers) - 1; i >= 0; i-- {
		errs = append(errs, w.closers[i]())
	}
	return errors.Join(errs...)
}

// digestStorePath is where the digests' store lives.
func (e *env) digestStorePath() string { return filepath.Join(e.dataDir, "digest.db") }

// openDigests opens the store, and with withIndex the index and the
// archive, and builds the sender of cfg's digests.
func (e *env) openDigests(cfg *config.Config, withIndex bool) (w *digestWiring, err error) {
	w = &digestWiring{}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	store, err := digest.OpenStore(e.digestStorePath(), 5*time.Second)
	if err != nil {
		return nil, err
	}
	w.closers = append(w.closers, store.Close)
	opts, err := e.digestOptions(cfg, store)
	if err != nil {
		return nil, err
	}
	if withIndex {
		if _, err := os.Stat(e.indexDir()); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no index in %s yet; run `atalaya crawl` or `atalaya reindex` first", e.dataDir)
		}
		idx, err := e.openIndex()
		if err != nil {
			return nil, err
		}
		w.closers = append(w.closers, idx.Close)
		opts.Index = idx
		if arch, err := e.openExistingArchive(); err != nil {
			e.logger.Warn("digest: no source health: the archive does not open", "error", err)
		} else {
			w.closers = append(w.closers, arch.Close)
			opts.Health = archiveHealth{arch: arch, sources: cfg.Sources}
		}
	} else {
		opts.Index = noIndex{}
	}
	if w.sender, err = digest.New(opts); err != nil {
		return nil, err
	}
	return w, nil
}

// digestOptions returns the sender options of cfg's digests on store:
// definitions, transport and sender address; the caller adds the index
// and the sources' health.
func (e *env) digestOptions(cfg *config.Config, store *digest.Store) (digest.Options, error) {
	opts := digest.Options{Store: store, Logger: e.logger, Retries: 2, RetryBackoff: 2 * time.Second}
	for _, dg := range cfg.Digests {
		def, err := digestDefinition(dg)
		if err != nil {
			return opts, err
		}
		opts.Digests = append(opts.Digests, def)
	}
	var err error
	opts.Transport, opts.From, err = e.digestTransport(cfg)
	return opts, err
}

// digestDefinition turns a configured digest into the digest package's
// definition, reading its template files.
func digestDefinition(dg config.Digest) (digest.Definition, error) {
	def := digest.Definition{
		Name: dg.Name, Schedule: dg.Schedule, To: dg.To, Query: dg.Query, SendEmpty: dg.SendEmpty,
		BaseURL: dg.BaseURL, MaxReleases: dg.MaxReleases,
	}
	for _, t := range []struct {
		path string
		dst  *string
	}{{dg.Templates.Subject, &def.Templates.Subject}, {dg.Templates.Text, &def.Templates.Text}, {dg.Templates.HTML, &def.Templates.HTML}} {
		if t.path == "" {
			continue
		}
		data, err := os.ReadFile(t.path)
		if err != nil {
			return def, fmt.Errorf("digest %s: template: %w", dg.Name, err)
		}
		*t.dst = string(data)
	}
	return def, nil
}

// digestTransport returns the SMTP transport of the configuration, or the
// outbox directory when there is no smtp section, and the sender address.
func (e *env) digestTransport(cfg *config.Config) (digest.Transport, string, error) {
	s := cfg.SMTP
	if s.Host == "" {
		return &digest.Outbox{Dir: filepath.Join(e.dataDir, "outbox")}, "Atalaya <atalaya@localhost>", nil
	}
	t := &digest.SMTP{Host: s.Host, Port: s.Port, TLS: s.TLS, Username: s.Username, Timeout: s.Timeout}
	if s.PasswordEnv != "" {
		t.Password = os.Getenv(s.PasswordEnv)
		if t.Password == "" {
			return nil, "", fmt.Errorf("smtp.password_env: the environment variable %s is empty or not set; set it to the SMTP password", s.PasswordEnv)
		}
	}
	return t, s.From, nil
}

// noIndex is the index of commands that only read the store.
type noIndex struct{}

func (noIndex) Search(context.Context, index.Query) (*index.Result, error) {
	return nil, errors.New("digest: no index opened")
}

func (noIndex) Get(context.Context, atalaya.ID) (index.Document, error) {
	return index.Document{}, errors.New("digest: no index opened")
}

// archiveHealth adapts the archive's source status to digest.Health, for
// the enabled sources of the configuration.
type archiveHealth struct {
	arch    *archive.Archive
	sources []config.Source
}

// SourceHealth implements digest.Health.
func (h archiveHealth) SourceHealth(ctx context.Context) ([]digest.SourceHealth, error) {
	statuses, err := h.arch.Sources(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]archive.SourceStatus{}
	for _, st := range statuses {
		byID[string(st.Source)] = st
	}
	var out []digest.SourceHealth
	for _, src := range h.sources {
		if !src.Enabled {
			continue
		}
		st := byID[src.Name]
		out = append(out, digest.SourceHealth{
			Source: atalaya.SourceID(src.Name), Agency: src.Agency, Country: src.Country,
			LastRun: st.LastRun.Finished, Issues: st.Issues,
		})
	}
	return out, nil
}

func digestList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "digest list", "digest list [--json]")
	asJSON := fs.Bool("json", false, "print the digests as JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	out, err := e.digestStatuses(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"digests": out})
	}
	if len(out) == 0 {
		fmt.Fprintln(e.stdout, "no digests configured; add a digests section to the configuration (README, section Digests)")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSCHEDULE\tTO\tLAST SENT\tMESSAGES\tRELEASES\tFAILURES\tPENDING")
	for _, d := range out {
		last := "never"
		if !d.LastSent.IsZero() {
			last = d.LastSent.Local().Format(time.DateTime)
		}
		schedule := d.Schedule
		if schedule == "" {
			schedule = "(on demand)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d\t%t\n", d.Name, schedule, len(d.To), last, d.Messages, d.Releases, d.Failures, d.Pending)
	}
	return tw.Flush()
}

func digestPreview(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "digest preview", "digest preview NAME [--html FILE]")
	htmlFile := fs.String("html", "", "write the HTML part to this new `file`")
	name, w, err := e.openNamedDigest(fs, args)
	if err != nil {
		return err
	}
	defer w.close()
	m, err := w.sender.Preview(ctx, name)
	if err != nil {
		return err
	}
	if *htmlFile != "" {
		if err := writeNewFile(*htmlFile, []byte(m.HTML)); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "To: %s\nSubject: %s\n\n%s", strings.Join(m.To, ", "), m.Subject, m.Text)
	return nil
}

func digestSend(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "digest send", "digest send NAME [--json]")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	name, w, err := e.openNamedDigest(fs, args)
	if err != nil {
		return err
	}
	defer w.close()
	rep, runErr := w.sender.Run(ctx, name)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printDigestReport(e, rep)
	}
	return runErr
}

func printDigestReport(e *env, rep digest.Report) {
	if rep.Redelivered != "" {
		fmt.Fprintf(e.stdout, "%s: delivered again <%s>, left pending by an earlier run\n", rep.Digest, rep.Redelivered)
	}
	switch {
	case rep.Skipped:
		fmt.Fprintf(e.stdout, "%s: nothing new; no message sent\n", rep.Digest)
	case rep.Delivered:
		fmt.Fprintf(e.stdout, "%s: delivered <%s>: %d releases, %d corrections, %d waiting for the next digest\n",
			rep.Digest, rep.MessageID, rep.Releases, rep.Corrections, rep.Waiting)
	}
}

// openNamedDigest parses a subcommand's flags and its one argument, the
// digest name, and opens the digests with the index.
func (e *env) openNamedDigest(fs *flag.FlagSet, args []string) (string, *digestWiring, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return "", nil, err
	}
	if len(pos) != 1 {
		return "", nil, badUsage(fs, "want one digest name, got %d arguments", len(pos))
	}
	w, err := e.openConfiguredDigests(true)
	return pos[0], w, err
}

// openConfiguredDigests loads the configuration and opens its digests.
func (e *env) openConfiguredDigests(withIndex bool) (*digestWiring, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	return e.openDigests(cfg, withIndex)
}

// digestStatuses returns the state of every configured digest: from the
// running service, which holds digest.db, if there is one (with the
// recipients masked unless the admin token is set), else from the store.
func (e *env) digestStatuses(ctx context.Context) ([]api.DigestDTO, error) {
	if c := e.runningService(ctx); c != nil {
		cfg, err := e.loadConfig()
		if err != nil {
			return nil, err
		}
		var r api.DigestsResponse
		if err := c.getAs(ctx, "/api/digests", nil, adminToken(cfg), &r); err != nil {
			return nil, err
		}
		for i := range r.Digests {
			r.Digests[i].NextRun = nil // as without a service: the scheduler's, not the store's
		}
		return append([]api.DigestDTO{}, r.Digests...), nil
	}
	w, err := e.openConfiguredDigests(false)
	if err != nil {
		return nil, err
	}
	defer w.close()
	statuses, err := w.sender.Statuses()
	if err != nil {
		return nil, err
	}
	out := []api.DigestDTO{}
	for _, st := range statuses {
		out = append(out, app.DigestDTO(st, time.Time{}))
	}
	return out, nil
}

// checkDigestQueries checks the query of every digest of cfg with the
// index's parser and prints each problem, as config check does.
func checkDigestQueries(e *env, path string, cfg *config.Config) error {
	probs := config.CheckDigestQueries(cfg, configName(path), func(q string) error {
		_, err := index.Parse(q)
		return err
	})
	for _, p := range probs {
		fmt.Fprintln(e.stdout, p)
	}
	if len(probs) > 0 {
		return fmt.Errorf("%d problems in the digest queries of %s", len(probs), configName(path))
	}
	return nil
}
