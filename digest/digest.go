package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"atalaya"
	"atalaya/index"
)

// Searcher finds indexed releases; *index.Index is one.
type Searcher interface {
	Search(ctx context.Context, q index.Query) (*index.Result, error)
	Get(ctx context.Context, id atalaya.ID) (index.Document, error)
}

// Health reports the state of every configured source, for the coverage
// section; cmd adapts the archive's source status to it.
type Health interface {
	SourceHealth(ctx context.Context) ([]SourceHealth, error)
}

// SourceHealth is one source as the crawler last saw it.
type SourceHealth struct {
	Source  atalaya.SourceID
	Agency  string // "Secretaría de Relaciones Exteriores"
	Country string // "US" or "MX"
	// LastRun is when the source was last crawled; zero if never.
	LastRun time.Time
	// Issues are the health issues still open.
	Issues []atalaya.SourceIssue
}

// Transport delivers a rendered message: to an SMTP server ([SMTP]) or to
// a directory ([Outbox]). Deliver returns nil only once the message is
// accepted (250 after DATA, or the file written and synced), and otherwise
// a *DeliveryError.
type Transport interface {
	Deliver(ctx context.Context, env Envelope) error
}

// Definition is one digest, as configured.
type Definition struct {
	Name      string
	Schedule  string // cron spec; empty: sent only on demand
	To        []string
	Query     string // search query language; empty matches every release
	SendEmpty bool   // send a "nothing new" message when nothing matched
	BaseURL   string // the web UI: release pages are BaseURL/releases/{id}
	// MaxReleases bounds the new releases listed in one message; the
	// others wait for the next message. 0 means 200.
	MaxReleases int
	// Templates replace the embedded ones where set.
	Templates Templates
}

// Options configure a Sender.
type Options struct {
	Digests   []Definition
	Index     Searcher
	Health    Health // nil: the coverage section says the sources' health is unknown
	Store     *Store
	Transport Transport
	// From is the sender address of every message.
	From   string
	Logger *slog.Logger // nil means slog.Default()
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Location is the time zone of dates in messages; nil means time.Local.
	Location *time.Location
	// Retries is how many times a run retries a temporary delivery
	// failure, waiting RetryBackoff, then twice as long each time.
	Retries      int
	RetryBackoff time.Duration
	// MaxScan bounds the releases one search of a run collects; 0 means
	// 100,000.
	MaxScan int
}

// Sender builds and delivers digests, exactly once each release per
// digest; see the package documentation. Its methods are safe for
// concurrent use; a run of a digest already running fails with
// ErrRunning.
type Sender struct {
	opts      Options
	defs      map[string]Definition
	renderers map[string]*renderer
	log       *slog.Logger

	mu      sync.Mutex
	running map[string]bool
}

// Report is the outcome of one run of a digest.
type Report struct {
	Digest string `json:"digest"`
	// Redelivered is the Message-ID of a message a crash or an unanswered
	// DATA left pending, delivered again first; empty if none.
	Redelivered string `json:"redelivered,omitempty"`
	MessageID   string `json:"message_id,omitempty"`
	Releases    int    `json:"releases"`    // new releases in the message
	Corrections int    `json:"corrections"` // releases sent before and revised since
	Waiting     int    `json:"waiting"`     // matching releases left for the next message
	// Skipped reports that nothing new matched and send_empty is off: no
	// message was sent.
	Skipped   bool `json:"skipped"`
	Delivered bool `json:"delivered"`
	Attempts  int  `json:"attempts"`
}

// Status is a digest's definition and delivery state, for `digest list`
// and the API.
type Status struct {
	Definition
	State
	Pending bool // a message is waiting to be delivered again
}

// Errors of Run.
var (
	// ErrUnknownDigest is returned for a digest name not in the configuration.
	ErrUnknownDigest = errors.New("digest: no such digest")
	// ErrRunning is returned when a run of the digest is under way.
	ErrRunning = errors.New("digest: this digest is being sent already")
)

// New checks opts and parses every digest's templates.
func New(opts Options) (*Sender, error) {
	if opts.Index == nil || opts.Store == nil || opts.Transport == nil {
		return nil, errors.New("digest: New needs an index, a store and a transport")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 2 * time.Second
	}
	s := &Sender{opts: opts, defs: map[string]Definition{}, renderers: map[string]*renderer{}, log: opts.Logger, running: map[string]bool{}}
	for _, d := range opts.Digests {
		if d.MaxReleases <= 0 {
			d.MaxReleases = 200
		}
		r, err := newRenderer(d.Templates)
		if err != nil {
			return nil, fmt.Errorf("digest %s: %w", d.Name, err)
		}
		s.defs[d.Name], s.renderers[d.Name] = d, r
	}
	return s, nil
}

// Definitions returns the digests in configuration order.
func (s *Sender) Definitions() []Definition {
	out := make([]Definition, 0, len(s.opts.Digests))
	for _, d := range s.opts.Digests {
		out = append(out, s.defs[d.Name])
	}
	return out
}

func (s *Sender) definition(name string) (Definition, error) {
	d, ok := s.defs[name]
	if !ok {
		return Definition{}, fmt.Errorf("%w %q", ErrUnknownDigest, name)
	}
	return d, nil
}

// Statuses returns every digest's definition and delivery state.
func (s *Sender) Statuses() ([]Status, error) {
	var out []Status
	for _, d := range s.Definitions() {
		st, p, err := s.opts.Store.State(d.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, Status{Definition: d, State: st, Pending: p != nil && !p.Certain})
	}
	return out, nil
}

// Preview returns the next message of digest name without delivering it
// or changing the store: the pending message a crash or an unanswered
// DATA left, which the next run delivers first, or else a new one.
func (s *Sender) Preview(ctx context.Context, name string) (*Message, error) {
	d, err := s.definition(name)
	if err != nil {
		return nil, err
	}
	st, pending, err := s.opts.Store.State(name)
	if err != nil {
		return nil, err
	}
	if pending != nil && !pending.Certain {
		return &pending.Message, nil
	}
	return s.build(ctx, d, st)
}

// Run delivers digest name: first a message a crash or an unanswered DATA
// left pending (with its Message-ID, so mail clients can recognise the
// copy), then a message with every matching release indexed since the
// last delivery and not sent yet. A failure is recorded in the store and
// returned; the watermark stays, and the next run delivers.
func (s *Sender) Run(ctx context.Context, name string) (Report, error) {
	rep := Report{Digest: name}
	d, err := s.definition(name)
	if err != nil {
		return rep, err
	}
	if !s.start(name) {
		return rep, fmt.Errorf("%w: %s", ErrRunning, name)
	}
	defer s.finish(name)
	st, pending, err := s.opts.Store.State(name)
	if err != nil {
		return rep, err
	}
	if pending != nil && !pending.Certain {
		rep.Redelivered = pending.Message.MessageID
		n, err := s.deliver(ctx, d, pending.Message)
		rep.Attempts += n
		if err != nil {
			return rep, err
		}
		if st, _, err = s.opts.Store.State(name); err != nil {
			return rep, err
		}
	}
	m, err := s.build(ctx, d, st)
	if err != nil {
		return rep, err
	}
	rep.MessageID, rep.Releases, rep.Corrections, rep.Waiting = m.MessageID, m.Count(), len(m.Corrections), m.Waiting
	if m.Empty() && !d.SendEmpty {
		rep.Skipped = true
		s.log.Info("digest: nothing new", "digest", name)
		return rep, s.opts.Store.advance(name, m.Watermark)
	}
	if err := s.opts.Store.begin(name, *m); err != nil {
		return rep, err
	}
	n, err := s.deliver(ctx, d, *m)
	rep.Attempts += n
	if err != nil {
		return rep, err
	}
	rep.Delivered = true
	return rep, nil
}

// start marks digest name as running; false if it was already.
func (s *Sender) start(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[name] {
		return false
	}
	s.running[name] = true
	return true
}

func (s *Sender) finish(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.running, name)
}

// deliver sends m, retrying temporary failures with backoff, and records
// every attempt. It returns the number of attempts.
func (s *Sender) deliver(ctx context.Context, d Definition, m Message) (int, error) {
	wait := s.opts.RetryBackoff
	for attempt := 1; ; attempt++ {
		env, err := s.envelope(d, m)
		if err != nil {
			return attempt, err
		}
		err = s.opts.Transport.Deliver(ctx, env)
		now := s.opts.Now()
		if err == nil {
			if err := s.opts.Store.delivered(d.Name, m, now); err != nil {
				return attempt, fmt.Errorf("digest %s: message %s was delivered but recording it failed (the next run delivers it again, with the same Message-ID): %w", d.Name, m.MessageID, err)
			}
			s.log.Info("digest: delivered", "digest", d.Name, "message_id", m.MessageID, "releases", m.Count(), "attempt", attempt)
			return attempt, nil
		}
		de := asDeliveryError(err)
		if rerr := s.opts.Store.failed(d.Name, m, now, de.Reason, de, de.Certain); rerr != nil {
			return attempt, errors.Join(de, rerr)
		}
		if !de.Temporary || attempt > s.opts.Retries {
			return attempt, fmt.Errorf("digest %s: %w", d.Name, de)
		}
		s.log.Warn("digest: delivery failed; retrying", "digest", d.Name, "message_id", m.MessageID, "attempt", attempt,
			"reason", de.Reason, "retry_in", wait, "error", de.Err)
		select {
		case <-ctx.Done():
			return attempt, fmt.Errorf("digest %s: %w (stopped before retrying: %v)", d.Name, de, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
}
