package classify

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for people: per-label scores, the confusion
// matrix, relevance accuracy, per-rule statistics, dead rules, gaps and
// every misclassified release with its evidence.
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d releases, rules version %s\n\n", rep.Total, rep.RulesVersion)
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "label\tprecision\trecall\tf1\tsupport\tpredicted")
	for _, l := range append(slices.Clone(rep.MacroLabels), Mixed) {
		st := rep.PerLabel[l]
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t%d\n", l, st.Precision, st.Recall, st.F1, st.Support, st.Predicted)
	}
	tw.Flush()
	fmt.Fprintf(&b, "\nmacro-F1 over %s: %.3f (mixed reported apart)\n", joinLabels(rep.MacroLabels), rep.MacroF1)
	fmt.Fprintf(&b, "relevance accuracy: %.3f\n", rep.RelevanceAccuracy)
	writeGroups(&b, "language", rep.PerLanguage)
	writeGroups(&b, "country", rep.PerCountry)
	rep.writeConfusion(&b)
	rep.writeRules(&b)
	rep.writeErrors(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeGroups writes one line of figures per language or country.
func writeGroups(b *strings.Builder, what string, groups map[string]GroupStats) {
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		g := groups[k]
		fmt.Fprintf(b, "  %s %s: macro-F1 %.3f, relevance accuracy %.3f (%d releases)\n", what, k, g.MacroF1, g.RelevanceAccuracy, g.Total)
	}
}

func joinLabels(ls []Label) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = string(l)
	}
	return strings.Join(s, ", ")
}

func (rep *Report) writeConfusion(b *strings.Builder) {
	labels := append(slices.Clone(rep.MacroLabels), Mixed)
	fmt.Fprintf(b, "\nconfusion (rows: gold, columns: predicted)\n")
	tw := tabwriter.NewWriter(b, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%s\t\n", strings.Join(strings.Split(joinLabels(labels), ", "), "\t"))
	for _, g := range labels {
		fmt.Fprintf(tw, "%s\t", g)
		for _, p := range labels {
			fmt.Fprintf(tw, "%d\t", rep.Confusion[g][p])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

func (rep *Report) writeRules(b *strings.Builder) {
	fmt.Fprintf(b, "\nrules (coverage = releases fired on; precision = share with the rule's label, or relevant for topics)\n")
	tw := tabwriter.NewWriter(b, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "rule\tlabel/topic\tcoverage\tprecision\tconflicts")
	for _, st := range rep.Rules {
		target := string(st.Label)
		if st.Topic != "" {
			target = "topic:" + st.Topic
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%s\n", st.ID, target, st.Coverage, st.Precision, formatCounts(st.Conflicts))
	}
	tw.Flush()
	fmt.Fprintf(b, "\ndead rules (no hits): %s\n", orNone(strings.Join(rep.DeadRules, ", ")))
	fmt.Fprintf(b, "relevant releases no label rule fired on: %d\n", len(rep.Gaps))
	for _, g := range rep.Gaps {
		fmt.Fprintf(b, "  %s: %s\n    %s\n    relevant because %s, but no label rule fired\n", g.ID, g.Title, orNone(g.URL), g.Reason)
	}
}

func (rep *Report) writeErrors(b *strings.Builder) {
	fmt.Fprintf(b, "\nmisclassified: %d\n", len(rep.Errors))
	for _, e := range rep.Errors {
		fmt.Fprintf(b, "\n%s: gold %s, got %s (%s)\n  %s\n", e.ID, e.Gold, e.Got, formatScores(e.Scores), e.Title)
		for _, ev := range e.Evidence {
			fmt.Fprintf(b, "  + %s %s [%s %d:%d] %q\n", ev.Rule, orNone(string(ev.Label)+ev.Topic), ev.Field, ev.Start, ev.End, ev.Match)
		}
		for _, nm := range e.NearMisses {
			fmt.Fprintf(b, "  - %s %s %s\n", orNone(nm.Rule+string(nm.Label)), formatFloat(nm.Score), nm.Reason)
		}
	}
}

func formatCounts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// formatScores writes label scores in a stable order.
func formatScores(m map[Label]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%s", k, formatFloat(m[k])))
	}
	return strings.Join(parts, " ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
