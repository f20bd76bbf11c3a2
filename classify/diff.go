package classify

import (
	"iter"

	"atalaya"
)

// Change is a release whose label differs between two rule sets.
type Change struct {
	ID    atalaya.ID `json:"id"`
	Title string     `json:"title"`
	Old   Label      `json:"old"`
	New   Label      `json:"new"`
}

// DiffReport lists the releases whose label changes between two rule sets,
// with a count per transition ("kingpin → neither").
type DiffReport struct {
	Total       int            `json:"total"`
	Changed     []Change       `json:"changed"`
	Transitions map[string]int `json:"transitions"`
}

// Diff classifies every release under old and new rules and reports the
// releases whose label changes.
func Diff(old, new *Rules, releases iter.Seq[atalaya.Release]) DiffReport {
	rep := DiffReport{Transitions: make(map[string]int)}
	for rel := range releases {
		rep.Total++
		a, b := old.Classify(rel).Label, new.Classify(rel).Label
		if a == b {
			continue
		}
		rep.Changed = append(rep.Changed, Change{ID: rel.ID, Title: rel.Title, Old: a, New: b})
		rep.Transitions[string(a)+" → "+string(b)]++
	}
	return rep
}

// GoldReleases yields the gold releases as releases to classify.
func GoldReleases(gold []GoldRelease) iter.Seq[atalaya.Release] {
	return func(yield func(atalaya.Release) bool) {
		for _, g := range gold {
			if !yield(g.Release()) {
				return
			}
		}
	}
}
