package classify

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// Codebook writes a human-readable codebook of rs for replication: the
// labels and their definitions, the scoring, and every rule with its
// patterns and examples, plus its coverage and precision when report (from
// [Evaluate]) is not nil. format is "md" or "html".
func Codebook(rs *Rules, report *Report, format string, w io.Writer) error {
	var cb codebookWriter
	switch format {
	case "md", "markdown":
		cb = mdWriter{}
	case "html":
		cb = htmlWriter{}
	default:
		return fmt.Errorf("classify: unknown codebook format %q (want md or html)", format)
	}
	var b strings.Builder
	cb.begin(&b, "Atalaya classification codebook")
	cb.para(&b, fmt.Sprintf("Rules file %s, version %s.", rs.name, rs.version))
	cb.heading(&b, "Labels")
	for _, l := range rs.labels {
		cb.item(&b, string(l.Name), fmt.Sprintf("%s (threshold %s)", l.Description, formatFloat(l.Threshold)))
	}
	cb.item(&b, string(Mixed), "two or more labels reach their thresholds and none outscores the others by the ratio")
	cb.item(&b, string(Neither), "no label reaches its threshold")
	cb.heading(&b, "Scoring")
	cb.para(&b, fmt.Sprintf("A label's score is the sum of the weights of the distinct rules of that label that fired; title matches count × %s. "+
		"A label wins alone when its score is at least %s times every other label over its threshold. "+
		"A release is relevant when its label is not neither or its topic rules score at least %s.",
		formatFloat(rs.scoring.TitleFactor), formatFloat(rs.scoring.Ratio), formatFloat(rs.scoring.Relevance)))
	if report != nil {
		cb.para(&b, fmt.Sprintf("Coverage and precision are measured on %d gold releases (macro-F1 %.3f).", report.Total, report.MacroF1))
	}
	cb.heading(&b, "Rules")
	stats := make(map[string]RuleStats)
	if report != nil {
		for _, st := range report.Rules {
			stats[st.ID] = st
		}
	}
	for i := range rs.rules {
		writeRule(cb, &b, &rs.rules[i], stats, report != nil)
	}
	cb.end(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeRule(cb codebookWriter, b *strings.Builder, r *Rule, stats map[string]RuleStats, measured bool) {
	cb.subheading(b, r.ID)
	target := "label " + string(r.Label)
	if r.Topic != "" {
		target = "topic " + r.Topic
	}
	meta := fmt.Sprintf("%s; theme %s; weight %s; languages %s; fields %s", target, orNone(r.Theme), formatFloat(r.Weight),
		allIfNone(joinLangs(r)), strings.Join(r.Fields, ", "))
	if measured {
		st := stats[r.ID]
		meta += fmt.Sprintf("; coverage %d; precision %.2f", st.Coverage, st.Precision)
	}
	cb.para(b, meta)
	if r.Description != "" {
		cb.para(b, r.Description)
	}
	list := func(name string, xs []string) {
		if len(xs) > 0 {
			cb.item(b, name, strings.Join(xs, " · "))
		}
	}
	list("patterns", r.Patterns)
	list("regex", r.Regex)
	var near []string
	for _, n := range r.Near {
		near = append(near, fmt.Sprintf("%s ~%d~ %s", n.Terms[0], n.Within, n.Terms[1]))
	}
	list("near", near)
	list("followed by a name", r.Named)
	list("unless", r.Unless)
	list("fires on", r.Examples.Fire)
	list("does not fire on", r.Examples.Not)
}

// allIfNone is s, or "all" when s is empty: a rule without languages
// applies to every language.
func allIfNone(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

func joinLangs(r *Rule) string {
	s := make([]string, len(r.Languages))
	for i, l := range r.Languages {
		s[i] = string(l)
	}
	return strings.Join(s, ", ")
}

// codebookWriter renders the codebook's few building blocks.
type codebookWriter interface {
	begin(b *strings.Builder, title string)
	heading(b *strings.Builder, s string)
	subheading(b *strings.Builder, s string)
	para(b *strings.Builder, s string)
	item(b *strings.Builder, name, s string)
	end(b *strings.Builder)
}

type mdWriter struct{}

func (mdWriter) begin(b *strings.Builder, title string) { fmt.Fprintf(b, "# %s\n", title) }
func (mdWriter) heading(b *strings.Builder, s string)   { fmt.Fprintf(b, "\n## %s\n", s) }
func (mdWriter) subheading(b *strings.Builder, s string) {
	fmt.Fprintf(b, "\n### %s\n", s)
}
func (mdWriter) para(b *strings.Builder, s string) { fmt.Fprintf(b, "\n%s\n", s) }
func (mdWriter) item(b *strings.Builder, name, s string) {
	fmt.Fprintf(b, "\n- **%s**: %s", name, s)
}
func (mdWriter) end(b *strings.Builder) { b.WriteString("\n") }

type htmlWriter struct{}

func (htmlWriter) begin(b *strings.Builder, title string) {
	t := html.EscapeString(title)
	fmt.Fprintf(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>%s</title></head>\n<body>\n<h1>%s</h1>\n", t, t)
}
func (htmlWriter) heading(b *strings.Builder, s string) {
	fmt.Fprintf(b, "<h2>%s</h2>\n", html.EscapeString(s))
}
func (htmlWriter) subheading(b *strings.Builder, s string) {
	fmt.Fprintf(b, "<h3 id=\"%s\">%s</h3>\n", html.EscapeString(s), html.EscapeString(s))
}
func (htmlWriter) para(b *strings.Builder, s string) {
	fmt.Fprintf(b, "<p>%s</p>\n", html.EscapeString(s))
}
func (htmlWriter) item(b *strings.Builder, name, s string) {
	fmt.Fprintf(b, "<p><strong>%s</strong>: %s</p>\n", html.EscapeString(name), html.EscapeString(s))
}
func (htmlWriter) end(b *strings.Builder) { b.WriteString("</body>\n</html>\n") }
