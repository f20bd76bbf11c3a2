package classify

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"atalaya"
)

// benchReleases returns the dev gold releases if present, else synthetic
// text made of common English and Spanish words.
func benchReleases(b *testing.B) []atalaya.Release {
	if f, err := os.Open("../../shared/gold/dev.jsonl"); err == nil {
		defer f.Close()
		gold, err := ReadGold(f)
		if err != nil {
			b.Fatal(err)
		}
		rels := make([]atalaya.Release, len(gold))
		for i, g := range gold {
			rels[i] = g.Release()
		}
		return rels
	}
	body := strings.Repeat("The department announced today that the program will support communities. "+
		"La Secretaría informó que el programa apoyará a las comunidades del estado. ", 20)
	return []atalaya.Release{{Title: "Announcement", Body: body, Language: atalaya.English}}
}

func benchClassify(b *testing.B, rs *Rules, rels []atalaya.Release) {
	size := 0
	for _, r := range rels {
		size += len(r.Title) + len(r.Body)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range rels {
			rs.Classify(r)
		}
	}
}

// BenchmarkClassify measures throughput with the default rules.
func BenchmarkClassify(b *testing.B) {
	benchClassify(b, Default(), benchReleases(b))
}

// syntheticRules generates n rules of two to three words each, with
// wildcards, unless phrases and near clauses, over a vocabulary that
// overlaps the benchmark text.
func syntheticRules(n int) string {
	vocab := []string{"program", "support", "communit*", "department", "announced", "secretaria", "estado",
		"apoyara", "comunidades", "today", "informo", "the", "el", "la", "cartel", "prevencion", "arrest*"}
	var b strings.Builder
	b.WriteString("labels:\n  - {name: kingpin, threshold: 3}\n  - {name: root_cause, threshold: 3}\ntopics: [drugs]\nrules:\n")
	for i := range n {
		label := "kingpin"
		if i%2 == 1 {
			label = "root_cause"
		}
		w1, w2, w3 := vocab[i%len(vocab)], vocab[(i/len(vocab))%len(vocab)], fmt.Sprintf("word%d", i)
		fmt.Fprintf(&b, "  - id: r%d\n    label: %s\n    patterns: [%q, %q]\n", i, label, w1+" "+w3, w3+" "+w2+" "+w1)
		if i%5 == 0 {
			fmt.Fprintf(&b, "    unless: [%q]\n", "unless"+w3)
		}
		if i%7 == 0 {
			fmt.Fprintf(&b, "    near: [{terms: [%q, %q], within: 4}]\n", w3, "near"+w3)
		}
	}
	return b.String()
}

// BenchmarkClassifyRules shows how the cost per byte grows with the number
// of rules.
func BenchmarkClassifyRules(b *testing.B) {
	rels := benchReleases(b)
	for _, n := range []int{50, 200, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rs, err := Parse(strings.NewReader(syntheticRules(n)), "synthetic.yaml")
			if err != nil {
				b.Fatal(err)
			}
			benchClassify(b, rs, rels)
		})
	}
}
