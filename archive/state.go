package archive

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"atalaya"
)

// SourceStatus is the health of one source as the archive knows it.
type SourceStatus struct {
	Source   atalaya.SourceID
	LastRun  atalaya.CrawlRun // zero when the source was never crawled
	Releases int              // releases archived from the source
	// Issues are the issues still open: reported by the last run. At is when
	// each was first reported in the current unbroken series of runs.
	Issues []atalaya.SourceIssue
}

// validators are the HTTP cache validators of a listing page.
type validators struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// Known reports whether a release was archived from url (its canonical URL
// or the URL its page was fetched from).
func (a *Archive) Known(ctx context.Context, url string) (bool, error) {
	if err := checkCtx(ctx, "known "+url); err != nil {
		return false, err
	}
	id, err := a.idOf(url)
	return id != "", err
}

// Validators returns the ETag and Last-Modified recorded for url by
// SetValidators, or empty strings.
func (a *Archive) Validators(ctx context.Context, url string) (etag, lastModified string, err error) {
	if err := checkCtx(ctx, "validators of "+url); err != nil {
		return "", "", err
	}
	var v validators
	err = a.db.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketValidators).Get([]byte(url))
		if data == nil {
			return nil
		}
		return json.Unmarshal(data, &v)
	})
	if err != nil {
		return "", "", fmt.Errorf("archive: validators of %s: %v", url, err)
	}
	return v.ETag, v.LastModified, nil
}

// SetValidators records the ETag and Last-Modified of url for the next
// conditional request; both empty forgets them.
func (a *Archive) SetValidators(ctx context.Context, url, etag, lastModified string) error {
	if err := checkCtx(ctx, "set validators of "+url); err != nil {
		return err
	}
	err := a.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketValidators)
		if etag == "" && lastModified == "" {
			return b.Delete([]byte(url))
		}
		return putJSON(b, []byte(url), validators{ETag: etag, LastModified: lastModified})
	})
	if err != nil {
		return fmt.Errorf("archive: set validators of %s: %v", url, err)
	}
	return nil
}

// RecordRun records run as the last run of its source, appends it to the
// run history (Runs) with the trigger ctx carries (WithTrigger), and updates the
// source's open issues: an issue stays open while runs keep reporting the
// same kind, URL and selector, keeping the time it was first reported, and closes at
// the first run that does not report it.
func (a *Archive) RecordRun(ctx context.Context, run atalaya.CrawlRun) error {
	if err := checkCtx(ctx, "record run of "+string(run.Source)); err != nil {
		return err
	}
	if run.Source == "" {
		return fmt.Errorf("archive: record run: run has no source")
	}
	err := a.db.Update(func(tx *bolt.Tx) error {
		issues := tx.Bucket(bucketIssues)
		var open []atalaya.SourceIssue
		if data := issues.Get([]byte(run.Source)); data != nil {
			if err := json.Unmarshal(data, &open); err != nil {
				return err
			}
		}
		if err := putJSON(issues, []byte(run.Source), mergeIssues(open, run.Issues)); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketRuns), []byte(run.Source), run); err != nil {
			return err
		}
		return appendRun(tx, run, triggerOf(ctx))
	})
	if err != nil {
		return fmt.Errorf("archive: record run of %s: %v", run.Source, err)
	}
	return nil
}

// mergeIssues returns the issues open after a run reported reported, given
// those open before: one per kind, URL and selector reported, first seen
// at the earliest time it has been open. The selector tells apart issues of
// one page or of the whole run (fill rates of title, date and body have no
// URL).
func mergeIssues(open, reported []atalaya.SourceIssue) []atalaya.SourceIssue {
	type key struct {
		kind     atalaya.IssueKind
		url      string
		selector string
	}
	since := make(map[key]atalaya.SourceIssue, len(open))
	for _, is := range open {
		since[key{is.Kind, is.URL, is.Selector}] = is
	}
	seen := make(map[key]bool, len(reported))
	var merged []atalaya.SourceIssue
	for _, is := range reported {
		k := key{is.Kind, is.URL, is.Selector}
		if seen[k] {
			continue
		}
		seen[k] = true
		if old, ok := since[k]; ok && !old.At.IsZero() && old.At.Before(is.At) {
			is.At = old.At
		}
		merged = append(merged, is)
	}
	return merged
}

// Sources returns the status of every source that has a recorded run or
// archived releases, sorted by source.
func (a *Archive) Sources(ctx context.Context) ([]SourceStatus, error) {
	if err := checkCtx(ctx, "sources"); err != nil {
		return nil, err
	}
	byID := make(map[atalaya.SourceID]*SourceStatus)
	get := func(src []byte) *SourceStatus {
		id := atalaya.SourceID(src)
		if byID[id] == nil {
			byID[id] = &SourceStatus{Source: id}
		}
		return byID[id]
	}
	err := a.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
			return json.Unmarshal(v, &get(k).LastRun)
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketIssues).ForEach(func(k, v []byte) error {
			return json.Unmarshal(v, &get(k).Issues)
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketCounts).ForEach(func(k, v []byte) error {
			if len(v) == 8 {
				get(k).Releases = int(binary.BigEndian.Uint64(v))
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("archive: reading source status from %s: %v", a.db.Path(), err)
	}
	out := make([]SourceStatus, 0, len(byID))
	for _, st := range byID {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(x, y SourceStatus) int { return cmp.Compare(x.Source, y.Source) })
	return out, nil
}

// WalkComplete reports whether the last walk of the listing that starts at
// startURL reached its end; false for a listing never walked.
func (a *Archive) WalkComplete(ctx context.Context, startURL string) (bool, error) {
	if err := checkCtx(ctx, "walk state of "+startURL); err != nil {
		return false, err
	}
	var complete bool
	err := a.db.View(func(tx *bolt.Tx) error {
		complete = tx.Bucket(bucketWalks).Get([]byte(startURL)) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("archive: walk state of %s: %v", startURL, err)
	}
	return complete, nil
}

// SetWalkComplete records whether the walk of the listing at startURL
// reached its end.
func (a *Archive) SetWalkComplete(ctx context.Context, startURL string, complete bool) error {
	if err := checkCtx(ctx, "set walk state of "+startURL); err != nil {
		return err
	}
	err := a.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWalks)
		if !complete {
			return b.Delete([]byte(startURL))
		}
		return b.Put([]byte(startURL), []byte("1"))
	})
	if err != nil {
		return fmt.Errorf("archive: set walk state of %s: %v", startURL, err)
	}
	return nil
}

// LastRun returns the last recorded run of a source; a zero run when the
// source was never crawled.
func (a *Archive) LastRun(ctx context.Context, src atalaya.SourceID) (atalaya.CrawlRun, error) {
	var run atalaya.CrawlRun
	if err := checkCtx(ctx, "last run of "+string(src)); err != nil {
		return run, err
	}
	err := a.db.View(func(tx *bolt.Tx) error {
		if data := tx.Bucket(bucketRuns).Get([]byte(src)); data != nil {
			return json.Unmarshal(data, &run)
		}
		return nil
	})
	if err != nil {
		return run, fmt.Errorf("archive: last run of %s: %v", src, err)
	}
	return run, nil
}

// Gone reports whether the article at url was recorded by SetGone as gone
// (it answered 404 or 410), and when it last did.
func (a *Archive) Gone(ctx context.Context, url string) (at time.Time, gone bool, err error) {
	if err := checkCtx(ctx, "gone state of "+url); err != nil {
		return time.Time{}, false, err
	}
	err = a.db.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketGone).Get([]byte(url))
		if data == nil {
			return nil
		}
		gone = true
		return at.UnmarshalText(data)
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("archive: gone state of %s: %v", url, err)
	}
	return at, gone, nil
}

// SetGone records that the article at url answered 404 or 410 at time at;
// a zero at forgets it.
func (a *Archive) SetGone(ctx context.Context, url string, at time.Time) error {
	if err := checkCtx(ctx, "set gone state of "+url); err != nil {
		return err
	}
	err := a.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketGone)
		if at.IsZero() {
			return b.Delete([]byte(url))
		}
		data, err := at.UTC().MarshalText()
		if err != nil {
			return err
		}
		return b.Put([]byte(url), data)
	})
	if err != nil {
		return fmt.Errorf("archive: set gone state of %s: %v", url, err)
	}
	return nil
}
