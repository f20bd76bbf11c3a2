// Package synth generates synthetic press releases for benchmarks and load
// tests: deterministic for a seed, in English and Spanish, from the sources
// Atalaya crawls, with bodies of 1 to 8 KB (about 4 KB on average) written
// from a vocabulary of drug policy, sanctions, extradition, prevention, arms
// trafficking and diplomacy.
//
// Every text is assembled from templates written for this package; nothing
// is taken from real releases. Each release comes with the label and themes
// its topics suggest, as plain strings, so that this package depends on
// nothing but the root vocabulary.
package synth

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"atalaya"
)

// Synthetic is one generated release with the verdict its topics suggest.
type Synthetic struct {
	Release atalaya.Release
	Label   string   // "kingpin", "root_cause", "mixed" or "neither"
	Themes  []string // sorted, distinct
}

// Sources are the sources releases are attributed to, as configured in
// Atalaya.
var Sources = []atalaya.Source{
	{ID: "state", Agency: "U.S. Department of State", Country: atalaya.US, Language: atalaya.English},
	{ID: "treasury", Agency: "U.S. Department of the Treasury", Country: atalaya.US, Language: atalaya.English},
	{ID: "ofac", Agency: "Office of Foreign Assets Control", Country: atalaya.US, Language: atalaya.English},
	{ID: "sre", Agency: "Secretaría de Relaciones Exteriores", Country: atalaya.MX, Language: atalaya.Spanish},
	{ID: "presidencia", Agency: "Presidencia de la República", Country: atalaya.MX, Language: atalaya.Spanish},
	{ID: "sspc", Agency: "Secretaría de Seguridad y Protección Ciudadana", Country: atalaya.MX, Language: atalaya.Spanish},
	{ID: "fgr", Agency: "Fiscalía General de la República", Country: atalaya.MX, Language: atalaya.Spanish},
	{ID: "salud", Agency: "Secretaría de Salud", Country: atalaya.MX, Language: atalaya.Spanish},
}

// Host is the reserved domain (RFC 2606) of every synthetic release's URL,
// so that synthetic releases can never be mistaken for crawled ones.
const Host = "example.org"

// IsSynthetic reports whether url is the URL of a synthetic release.
func IsSynthetic(url string) bool {
	return strings.HasPrefix(url, "https://"+Host+"/")
}

// Time zones of the sources, fixed so that no time zone database is needed.
var (
	eastern = time.FixedZone("EST", -5*3600)
	central = time.FixedZone("CST", -6*3600)
)

var (
	firstDay = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	numDays  = int(time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC).Sub(firstDay).Hours()/24) + 1
)

// Releases returns n synthetic releases generated from seed. The same n and
// seed always give the same releases, and a smaller n gives a prefix of a
// larger one.
func Releases(n int, seed int64) iter.Seq[Synthetic] {
	return func(yield func(Synthetic) bool) {
		g := &generator{rng: rand.New(rand.NewPCG(uint64(seed), 0x61746c79))}
		for i := range n {
			if !yield(g.release(i)) {
				return
			}
		}
	}
}

type generator struct {
	rng *rand.Rand
	b   strings.Builder
}

func (g *generator) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *generator) release(i int) Synthetic {
	src := Sources[g.rng.IntN(len(Sources))]
	lang := langs[src.Language]
	tz := eastern
	if src.Country == atalaya.MX {
		tz = central
	}
	d := firstDay.AddDate(0, 0, g.rng.IntN(numDays))
	published := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, tz)

	main := topics[g.rng.IntN(len(topics))]
	picked := []*topic{main}
	if g.rng.IntN(3) == 0 {
		if second := topics[g.rng.IntN(len(topics))]; second != main {
			picked = append(picked, second)
		}
	}
	title := contractions.Replace(g.fill(lang, g.pick(main.titles[src.Language])))
	// Triangular between 1 and 8 KB, mean 4.5 KB.
	target := 1000 + int((g.rng.Float64()+g.rng.Float64())/2*7000)
	body := g.body(lang, src.Language, picked, target)

	slug := strconv.Itoa(i) + "-" + slugify(title)
	url := "https://" + Host + "/" + string(src.ID) + "/" + slug
	label, themes := verdictOf(picked)
	return Synthetic{
		Release: atalaya.Release{
			ID:           atalaya.NewID(url),
			URL:          url,
			Source:       src.ID,
			Agency:       src.Agency,
			Country:      src.Country,
			Language:     src.Language,
			Type:         lang.releaseType,
			Title:        title,
			Published:    published,
			PublishedRaw: lang.date(published),
			DateOrigin:   atalaya.DateFromArticle,
			Body:         body,
			FetchedAt:    published.Add(30 * time.Hour),
			Hash:         atalaya.ContentHash(title, published, body),
			Version:      1,
		},
		Label:  label,
		Themes: themes,
	}
}

// body writes paragraphs of three to six sentences, mostly from the picked
// topics and some general ones, until it reaches about target bytes.
func (g *generator) body(lang *language, l atalaya.Language, picked []*topic, target int) string {
	g.b.Reset()
	g.b.Grow(target + 512)
	for g.b.Len() < target {
		if g.b.Len() > 0 {
			g.b.WriteString("\n\n")
		}
		for k, count := 0, 3+g.rng.IntN(4); k < count; k++ {
			var tmpl string
			if g.rng.IntN(4) == 0 {
				tmpl = g.pick(lang.general)
			} else {
				tmpl = g.pick(picked[g.rng.IntN(len(picked))].sentences[l])
			}
			if k > 0 {
				g.b.WriteByte(' ')
			}
			g.b.WriteString(g.fill(lang, tmpl))
		}
	}
	return contractions.Replace(g.b.String())
}

// fill replaces each {slot} in tmpl with a word from the language's list.
func (g *generator) fill(lang *language, tmpl string) string {
	var out strings.Builder
	out.Grow(len(tmpl) + 32)
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			out.WriteString(tmpl)
			return out.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		out.WriteString(tmpl[:i])
		slot := tmpl[i+1 : i+j]
		if slot == "n" {
			out.WriteString(strconv.Itoa(2 + g.rng.IntN(60)))
		} else {
			out.WriteString(g.pick(lang.slots[slot]))
		}
		tmpl = tmpl[i+j+1:]
	}
}

// contractions joins Spanish prepositions with the article "el", which
// templates ending in "de" or "a" followed by a slot starting with "el"
// would otherwise leave apart.
var contractions = strings.NewReplacer(" de el ", " del ", " a el ", " al ")

// unaccent spells accented letters without accents, for URLs.
var unaccent = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n")

// verdictOf returns the label and themes the topics suggest.
func verdictOf(picked []*topic) (string, []string) {
	var enforcement, rootCause bool
	var themes []string
	for _, t := range picked {
		enforcement = enforcement || t.kind == kingpin
		rootCause = rootCause || t.kind == rootCauseKind
		if t.theme != "" {
			themes = append(themes, t.theme)
		}
	}
	if len(themes) == 2 && themes[0] > themes[1] {
		themes[0], themes[1] = themes[1], themes[0]
	}
	switch {
	case enforcement && rootCause:
		return "mixed", themes
	case enforcement:
		return "kingpin", themes
	case rootCause:
		return "root_cause", themes
	}
	return "neither", themes
}

func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range unaccent.Replace(strings.ToLower(s)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

var monthsES = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
	"septiembre", "octubre", "noviembre", "diciembre"}

func dateEN(t time.Time) string { return t.Format("January 2, 2006") }
func dateES(t time.Time) string {
	return fmt.Sprintf("%d de %s de %d", t.Day(), monthsES[t.Month()-1], t.Year())
}
