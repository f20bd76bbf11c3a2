//go:build ignore

// Gen writes the mirror's pages under site/ (or -out) and their expected values to
// site/expected.json, from the release texts in gen/releases.txt and the
// page templates in gen/*.tmpl. Run it with "go generate" in this directory.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"log"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"atalaya"
	"atalaya/internal/mirror"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	out := flag.String("out", "site", "directory to write the sites and expected.json to")
	flag.Parse()
	recs, err := readRecords("gen/releases.txt")
	if err != nil {
		log.Fatal(err)
	}
	tmpl, err := template.ParseGlob("gen/*.tmpl")
	if err != nil {
		log.Fatal(err)
	}
	g := &generator{tmpl: tmpl, files: map[string]string{}, manifest: &mirror.Manifest{}}
	g.state(bySource(recs, "state"))
	g.treasury(bySource(recs, "treasury"))
	g.ofac(bySource(recs, "ofac"), bySource(recs, "treasury"))
	for _, agency := range agencies {
		g.gobmx(agency, bySource(recs, agency.slug))
	}
	if g.err != nil {
		log.Fatal(g.err)
	}
	if err := g.write(*out); err != nil {
		log.Fatal(err)
	}
}

// record is one entry of releases.txt: a source, header fields and body
// paragraphs (HTML fragments).
type record struct {
	source string
	line   int
	fields map[string][]string
	paras  []string
}

func (r *record) get(k string) string {
	if v := r.fields[k]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

func (r *record) flag(k string) bool { return r.get(k) == "true" }

func (r *record) page() int {
	n, err := strconv.Atoi(r.get("page"))
	if err != nil {
		return 1
	}
	return n
}

// readRecords parses releases.txt. A record starts with "### source",
// followed by "key: value" lines, a blank line, and paragraphs separated
// by blank lines. Lines starting with ";;" are comments. In values and
// paragraphs, {nbsp} and {zwsp} stand for U+00A0 and U+200B.
func readRecords(name string) ([]*record, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	special := strings.NewReplacer("{nbsp}", "\u00a0", "{zwsp}", "\u200b")
	var recs []*record
	var cur *record
	var para []string
	inHeader := false
	flush := func() {
		if cur != nil && len(para) > 0 {
			cur.paras = append(cur.paras, special.Replace(strings.Join(para, " ")))
		}
		para = nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t")
		switch {
		case strings.HasPrefix(line, ";;"):
			continue
		case strings.HasPrefix(line, "### "):
			flush()
			cur = &record{source: strings.TrimSpace(line[4:]), line: n, fields: map[string][]string{}}
			recs = append(recs, cur)
			inHeader = true
		case cur == nil:
			if line != "" {
				return nil, fmt.Errorf("%s:%d: text before the first record", name, n)
			}
		case inHeader && line == "":
			inHeader = false
		case inHeader:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("%s:%d: want key: value, got %q", name, n, line)
			}
			k = strings.TrimSpace(k)
			cur.fields[k] = append(cur.fields[k], special.Replace(strings.TrimSpace(v)))
		case line == "":
			flush()
		default:
			para = append(para, strings.TrimSpace(line))
		}
	}
	flush()
	return recs, sc.Err()
}

func bySource(recs []*record, source string) []*record {
	var out []*record
	for _, r := range recs {
		if r.source == source {
			out = append(out, r)
		}
	}
	return out
}

type generator struct {
	tmpl     *template.Template
	files    map[string]string // file name under site/ → content
	manifest *mirror.Manifest
	err      error
}

func (g *generator) fail(r *record, format string, args ...any) {
	if g.err == nil {
		g.err = fmt.Errorf("releases.txt:%d: %s", r.line, fmt.Sprintf(format, args...))
	}
}

func (g *generator) render(file, name string, data any) string {
	var b bytes.Buffer
	if err := g.tmpl.ExecuteTemplate(&b, name, data); err != nil && g.err == nil {
		g.err = fmt.Errorf("%s: %w", file, err)
	}
	s := b.String()
	if file != "" {
		g.files[file] = s
	}
	return s
}

// write replaces the host directories under dir with the generated files
// and writes expected.json.
func (g *generator) write(dir string) error {
	for _, host := range []string{mirror.HostState, mirror.HostTreasury, mirror.HostOFAC, mirror.HostGobMX} {
		if err := os.RemoveAll(filepath.Join(dir, host)); err != nil {
			return err
		}
	}
	for name, content := range g.files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(g.manifest, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "expected.json"), append(data, '\n'), 0o644)
}

// fileFor names the file serving host, path and query: "index.html" for
// paths ending in "/", and "__query" before the extension.
func fileFor(host, p, query, ext string) string {
	if strings.HasSuffix(p, "/") {
		return host + p + "index" + ext
	}
	if query != "" {
		p += "__" + query
	}
	return host + p + ext
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// blockHTML returns a paragraph as HTML: fragments that start with a tag
// are used as they are, others are wrapped in <p>.
func blockHTML(p string) string {
	if strings.HasPrefix(p, "<") {
		return p
	}
	return "<p>" + p + "</p>"
}

// text returns the normalised text of an HTML fragment. Tags are dropped
// without adding space, as inline tags need ("<strong>WASHINGTON</strong>—Today").
func text(fragment string) string {
	return atalaya.NormalizeSpace(html.UnescapeString(tagRE.ReplaceAllString(fragment, "")))
}

func body(r *record) (htmlParas []string, plain string) {
	var texts []string
	for _, p := range r.paras {
		htmlParas = append(htmlParas, blockHTML(p))
		texts = append(texts, text(p))
	}
	return htmlParas, strings.Join(texts, "\n\n")
}

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		log.Fatal(err)
	}
	return loc
}

var (
	newYork    = mustLoad("America/New_York")
	mexicoCity = mustLoad("America/Mexico_City")
)

// usTime parses a record's UTC instant.
func (g *generator) usTime(r *record) time.Time {
	t, err := time.Parse(time.RFC3339, r.get("time"))
	if err != nil {
		g.fail(r, "time: %v", err)
	}
	return t
}

func usDateText(t time.Time) string { return t.In(newYork).Format("January 2, 2006") }
func usISO(t time.Time) string      { return t.In(newYork).Format("2006-01-02") }

type pageNumber struct {
	N       int
	Href    string
	Rel     string
	Current bool
}

// ---------------------------------------------------------------- state.gov

type stateItem struct {
	Type, Href, Title, Speaker, DateText string
}

type link struct {
	Href, Name, Title, DateText, Datetime string
}

func (g *generator) state(recs []*record) {
	const host = mirror.HostState
	listURL := func(n int) string {
		if n == 1 {
			return "/press-releases/"
		}
		return fmt.Sprintf("/press-releases/page/%d/", n)
	}
	pages := 0
	for _, r := range recs {
		pages = max(pages, r.page())
	}
	var articles []*record
	for _, r := range recs {
		if !r.flag("missing") && !r.flag("disallowed") {
			articles = append(articles, r)
		}
	}
	total := len(recs)
	for n := 1; n <= pages; n++ {
		data := struct {
			Path, Prev, Next string
			Total            int
			Items            []stateItem
			Numbers          []pageNumber
		}{Path: listURL(n), Total: total}
		listing := mirror.Listing{Source: "state", URL: "https://" + host + listURL(n)}
		for _, r := range recs {
			if r.page() != n {
				continue
			}
			t := g.usTime(r)
			abs := "https://" + host + r.get("path")
			data.Items = append(data.Items, stateItem{Type: r.get("type"), Href: abs, Title: r.get("title"), Speaker: r.get("speaker"), DateText: usDateText(t)})
			item := mirror.ListingItem{URL: abs, Title: text(r.get("title")), Date: usISO(t), Type: r.get("type"), Status: 200}
			if r.flag("missing") || r.flag("disallowed") {
				item.Status = 404
			}
			item.Disallowed = r.flag("disallowed")
			listing.Items = append(listing.Items, item)
		}
		for i := 1; i <= pages; i++ {
			data.Numbers = append(data.Numbers, pageNumber{N: i, Href: listURL(i), Current: i == n})
		}
		if n > 1 {
			data.Prev = listURL(n - 1)
		}
		if n < pages {
			data.Next = listURL(n + 1)
			listing.Next = "https://" + host + listURL(n+1)
		}
		g.render(fileFor(host, listURL(n), "", ".html"), "state_listing.tmpl", data)
		g.manifest.Listings = append(g.manifest.Listings, listing)
	}

	type feedItem struct {
		Title, URL, Creator, PubDate, Description, Content string
		PostID                                             int
		t                                                  time.Time
	}
	var feed []feedItem
	for i, r := range recs {
		t := g.usTime(r)
		postID := 741000 + 173*i
		canonical := "https://" + host + r.get("path")
		paras, plain := body(r)
		if !r.flag("disallowed") {
			fi := feedItem{Title: r.get("title"), URL: canonical, Creator: text(r.get("author")), PubDate: t.UTC().Format(time.RFC1123Z), PostID: postID, t: t}
			if len(paras) > 0 {
				fi.Description = paras[0]
				fi.Content = strings.Join(paras, "\n")
			} else {
				fi.Description = "<p>" + r.get("type") + "</p>"
				fi.Content = fi.Description
			}
			feed = append(feed, fi)
		}
		if r.flag("missing") || r.flag("disallowed") {
			continue
		}
		if r.flag("end") {
			paras = append(paras, "<p style=\"text-align: center;\"># # #</p>")
		}
		var related []link
		for _, o := range articles {
			if o != r && len(related) < 2 {
				related = append(related, link{Href: o.get("path"), Title: o.get("title"), DateText: usDateText(g.usTime(o))})
			}
		}
		var tags []link
		for _, tg := range r.fields["tag"] {
			name, href, _ := strings.Cut(tg, "|")
			tags = append(tags, link{Name: name, Href: href})
		}
		data := struct {
			URL, Title, Type, Author, DateText string
			PostID                             int
			Paras                              []string
			Tags, Related                      []link
		}{canonical, r.get("title"), r.get("type"), r.get("author"), usDateText(t), postID, paras, tags, related}
		g.render(fileFor(host, r.get("path"), "", ".html"), "state_article.tmpl", data)
		g.manifest.Articles = append(g.manifest.Articles, mirror.Article{
			Source: "state", Host: host, Path: r.get("path"), URL: canonical,
			Title: text(r.get("title")), Date: usISO(t), DateText: usDateText(t), Type: r.get("type"),
			Language: "en", Body: plain, Label: r.get("label"), Relevant: r.flag("relevant"),
		})
	}
	slices.SortStableFunc(feed, func(a, b feedItem) int { return b.t.Compare(a.t) })
	feedData := struct {
		BuildDate string
		Items     []feedItem
	}{feed[0].t.Add(62 * time.Second).UTC().Format(time.RFC1123Z), feed}
	const feedPath = "/rss-feed/press-releases/feed/"
	g.render(fileFor(host, feedPath, "", ".xml"), "state_rss.tmpl", feedData)
	mf := mirror.Feed{Source: "state", URL: "https://" + host + feedPath}
	for _, fi := range feed {
		mf.Items = append(mf.Items, mirror.FeedItem{URL: fi.URL, Title: text(fi.Title), Date: usISO(fi.t), PubDate: fi.PubDate})
	}
	g.manifest.Feeds = append(g.manifest.Feeds, mf)
	g.files[host+"/robots.txt"] = stateRobots
}

const stateRobots = `User-agent: *
Disallow: /wp-admin/
Disallow: /releases/internal-review/
Allow: /wp-admin/admin-ajax.php
Crawl-delay: 5

Sitemap: https://www.state.gov/sitemap_index.xml
`

const drupalRobots = `#
# robots.txt
#
# This file is to prevent the crawling and indexing of certain parts
# of your site by web crawlers and spiders run by sites like Yahoo!
# and Google.
#
User-agent: *
# CSS, JS, Images
Allow: /core/*.css$
Allow: /core/*.js$
Allow: /profiles/*.png
Allow: /themes/*.svg
# Directories
Disallow: /core/
Disallow: /profiles/
# Paths (clean URLs)
Disallow: /admin/
Disallow: /comment/reply/
Disallow: /node/add/
Disallow: /search/
Disallow: /user/register
Disallow: /user/password
Disallow: /user/login
Disallow: /user/logout
`

// ---------------------------------------------------------------- Treasury

type treasuryItem struct {
	Datetime, DateText, Category, CategoryHref, Href, Title string
}

var treasuryCategories = map[string]string{
	"Statements &amp; Remarks": "/news/press-releases/statements-remarks",
	"Readouts":                 "/news/press-releases/readouts",
	"Testimonies":              "/news/press-releases/testimonies",
}

func treasuryTitle(r *record) string {
	t := r.get("title")
	if r.flag("titlespace") {
		t += " "
	}
	return t
}

func (g *generator) treasuryNav(recs []*record) string {
	featured := []link{
		{Datetime: "2026-04-30T15:00:00Z", DateText: "April 30, 2026", Href: "/news/featured-stories/how-treasury-follows-the-money-behind-fentanyl", Title: "How Treasury Follows the Money Behind Fentanyl"},
		{Datetime: "2026-03-18T16:20:00Z", DateText: "March 18, 2026", Href: "/news/featured-stories/a-guide-to-the-new-series-of-savings-bonds", Title: "A Guide to the New Series of Savings Bonds"},
		{Datetime: "2026-01-09T14:00:00Z", DateText: "January 9, 2026", Href: "/news/featured-stories/five-questions-about-community-development-grants", Title: "Five Questions About Community Development Grants"},
	}
	var latest []link
	for _, r := range recs {
		if r.flag("missing") {
			continue
		}
		t := g.usTime(r)
		latest = append(latest, link{Datetime: t.UTC().Format("2006-01-02T15:04:05Z"), DateText: usDateText(t), Href: r.get("path"), Title: treasuryTitle(r)})
	}
	if len(latest) < 6 {
		g.err = fmt.Errorf("releases.txt: the Treasury mega-menu needs 6 releases, have %d", len(latest))
		return ""
	}
	data := struct{ Featured, Press, Remarks []link }{featured, latest[:3], latest[3:6]}
	return g.render("", "treasury_nav.tmpl", data)
}

func (g *generator) treasury(recs []*record) {
	const host = mirror.HostTreasury
	const listPath = "/news/press-releases"
	nav := g.treasuryNav(recs)
	pages := 0
	for _, r := range recs {
		pages = max(pages, r.page())
	}
	for n := 1; n <= pages; n++ {
		query := ""
		if n > 1 {
			query = fmt.Sprintf("page=%d", n-1)
		}
		data := struct {
			Nav, Prev, Next, Last string
			Items                 []treasuryItem
			Numbers               []pageNumber
		}{Nav: nav}
		listing := mirror.Listing{Source: "treasury", URL: "https://" + host + listPath}
		if query != "" {
			listing.URL += "?" + query
		}
		for _, r := range recs {
			if r.page() != n {
				continue
			}
			t := g.usTime(r)
			cat := r.get("category")
			data.Items = append(data.Items, treasuryItem{Datetime: t.UTC().Format("2006-01-02T15:04:05Z"), DateText: usDateText(t), Category: cat, CategoryHref: treasuryCategories[cat], Href: r.get("path"), Title: treasuryTitle(r)})
			item := mirror.ListingItem{URL: "https://" + host + r.get("path"), Title: text(r.get("title")), Date: usISO(t), Type: html.UnescapeString(cat), Status: 200}
			if r.flag("missing") {
				item.Status = 404
			}
			listing.Items = append(listing.Items, item)
		}
		for i := 1; i <= pages; i++ {
			data.Numbers = append(data.Numbers, pageNumber{N: i, Href: fmt.Sprintf("?page=%d", i-1), Current: i == n})
		}
		if n > 1 {
			data.Prev = fmt.Sprintf("?page=%d", n-2)
		}
		if n < pages {
			data.Next = fmt.Sprintf("?page=%d", n)
			data.Last = fmt.Sprintf("?page=%d", pages-1)
			listing.Next = "https://" + host + listPath + "?" + fmt.Sprintf("page=%d", n)
		}
		g.render(fileFor(host, listPath, query, ".html"), "treasury_listing.tmpl", data)
		g.manifest.Listings = append(g.manifest.Listings, listing)
	}

	var latest []link
	for _, r := range recs {
		if r.flag("missing") || len(latest) == 5 {
			continue
		}
		d := usDateText(g.usTime(r))
		l := link{Href: r.get("path"), Title: treasuryTitle(r), DateText: d}
		if len(latest) > 0 && latestDate(latest) == d {
			l.DateText = ""
		}
		latest = append(latest, l)
	}
	for i, r := range recs {
		if r.flag("missing") {
			continue
		}
		t := g.usTime(r)
		paras, plain := body(r)
		canonical := "https://" + host + r.get("path")
		data := struct {
			Nav, URL, Path, PlainTitle, Description, Updated, Title, Datetime, DateText string
			Node                                                                        int
			Paras                                                                       []string
			Latest                                                                      []link
		}{nav, canonical, r.get("path"), html.EscapeString(text(r.get("title"))), html.EscapeString(text(r.paras[0])),
			usISO(t), treasuryTitle(r), t.UTC().Format("2006-01-02T15:04:05Z"), usDateText(t), 992400 + 31*i, paras, latest}
		g.render(fileFor(host, r.get("path"), "", ".html"), "treasury_article.tmpl", data)
		g.manifest.Articles = append(g.manifest.Articles, mirror.Article{
			Source: "treasury", Host: host, Path: r.get("path"), URL: canonical,
			Title: text(r.get("title")), Date: usISO(t), DateText: usDateText(t), Type: html.UnescapeString(r.get("category")),
			Language: "en", Body: plain, Label: r.get("label"), Relevant: r.flag("relevant"),
		})
	}
	g.files[host+"/robots.txt"] = drupalRobots
}

// latestDate returns the last date shown in the Latest News list.
func latestDate(ls []link) string {
	for i := len(ls) - 1; i >= 0; i-- {
		if ls[i].DateText != "" {
			return ls[i].DateText
		}
	}
	return ""
}

// ---------------------------------------------------------------- OFAC

func (g *generator) ofac(recs, treasury []*record) {
	const host = mirror.HostOFAC
	titles := map[string]string{}
	for _, r := range treasury {
		titles[path.Base(r.get("path"))] = r.get("title")
	}
	type ofacItem struct{ Href, Title, DateText, Category, CategoryHref string }
	var items []ofacItem
	listing := mirror.Listing{Source: "ofac", URL: "https://" + host + "/recent-actions"}
	for i, r := range recs {
		d, err := time.Parse("2006-01-02", r.get("time"))
		if err != nil {
			g.fail(r, "time: %v", err)
		}
		cat := r.get("category")
		catHref := "/recent-actions/" + strings.ReplaceAll(strings.ToLower(cat), " ", "-")
		items = append(items, ofacItem{r.get("path"), r.get("title"), d.Format("01/02/2006"), cat, catHref})
		canonical := "https://" + host + r.get("path")
		listing.Items = append(listing.Items, mirror.ListingItem{URL: canonical, Title: text(r.get("title")), Date: d.Format("2006-01-02"), Type: cat, Status: 200})
		var linked []link
		for _, sb := range r.fields["linked"] {
			if titles[sb] == "" {
				g.fail(r, "linked press release %s is not in releases.txt", sb)
			}
			linked = append(linked, link{Href: "https://" + mirror.HostTreasury + "/news/press-releases/" + sb, Title: titles[sb]})
		}
		paras, plain := body(r)
		data := struct {
			URL, EscapedURL, Path, Title, DateText string
			Node                                   int
			Linked                                 []link
			Paras                                  []string
		}{canonical, url.QueryEscape(canonical), r.get("path"), r.get("title"), d.Format("01/02/2006"), 981200 + 57*i, linked, paras}
		g.render(fileFor(host, r.get("path"), "", ".html"), "ofac_article.tmpl", data)
		g.manifest.Articles = append(g.manifest.Articles, mirror.Article{
			Source: "ofac", Host: host, Path: r.get("path"), URL: canonical,
			Title: text(r.get("title")), Date: d.Format("2006-01-02"), DateText: d.Format("01/02/2006"), Type: cat,
			Language: "en", Body: plain, Label: r.get("label"), Relevant: r.flag("relevant"),
		})
	}
	g.render(fileFor(host, "/recent-actions", "", ".html"), "ofac_listing.tmpl", struct{ Items []ofacItem }{items})
	g.manifest.Listings = append(g.manifest.Listings, listing)
	g.files[host+"/robots.txt"] = drupalRobots
}

// ---------------------------------------------------------------- gob.mx

type agency struct{ slug, name string }

var agencies = []agency{
	{"sre", "Secretaría de Relaciones Exteriores"},
	{"presidencia", "Presidencia de la República"},
	{"sspc", "Secretaría de Seguridad y Protección Ciudadana"},
	{"fgr", "Fiscalía General de la República"},
	{"salud", "Secretaría de Salud"},
}

var spanishMonths = []string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}

type gobItem struct {
	Title, Datetime, DateText, Type, Href string
}

// gobDate parses a gob.mx local time and writes it as the site does.
func (g *generator) gobDate(r *record, english bool) (t time.Time, datetime, dateText string, ok bool) {
	if r.get("time") == "" {
		return time.Time{}, "", "", false
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", r.get("time"), mexicoCity)
	if err != nil {
		g.fail(r, "time: %v", err)
		return time.Time{}, "", "", false
	}
	if english {
		return t, r.get("time"), t.Format("January 02, 2006"), true
	}
	month := spanishMonths[t.Month()-1]
	if m := r.get("month"); m != "" {
		month = m
	}
	return t, r.get("time"), fmt.Sprintf("%02d de %s de %d", t.Day(), month, t.Year()), true
}

func (g *generator) gobmx(ag agency, recs []*record) {
	const host = mirror.HostGobMX
	var es, en []*record
	for _, r := range recs {
		if r.get("idiom") == "en" {
			en = append(en, r)
		} else {
			es = append(es, r)
		}
	}
	g.gobListing(ag, es, false)
	if len(en) > 0 {
		g.gobListing(ag, en, true)
	}
	for _, r := range recs {
		english := r.get("idiom") == "en"
		t, _, dateText, dated := g.gobDate(r, english)
		paras, plain := body(r)
		canonical := "https://" + host + r.get("path")
		lang, section, print, links, more := "es", "Prensa", "Imprime la página completa", "Enlaces", "Más comunicados"
		if english {
			lang, section, print, links, more = "en", "Press", "Print the full page", "Links", "More press releases"
		}
		data := struct {
			Lang, Agency, AgencyName, Title, Description, URL, Section, Kicker, DateText, Type, PrintLabel, LinksLabel, MoreLink string
			SectionMeta                                                                                                          bool
			Paras                                                                                                                []string
		}{lang, ag.slug, ag.name, r.get("title"), html.EscapeString(text(r.paras[0])), canonical, section, r.get("kicker"),
			dateText, r.get("type"), print, links, more, r.get("meta") == "section", paras}
		g.render(fileFor(host, r.get("path"), "", ".html"), "gobmx_article.tmpl", data)
		a := mirror.Article{
			Source: ag.slug, Host: host, Path: r.get("path"), URL: canonical,
			Title: text(r.get("title")), Type: r.get("type"),
			Language: lang, Body: plain, Label: r.get("label"), Relevant: r.flag("relevant"),
		}
		if dated {
			a.Date, a.DateText = t.Format("2006-01-02"), dateText
		}
		g.manifest.Articles = append(g.manifest.Articles, a)
	}
}

func (g *generator) gobListing(ag agency, recs []*record, english bool) {
	const host = mirror.HostGobMX
	base, idiom, lang, section, head, more := "/"+ag.slug+"/archivo/prensa", "es", "es", "Prensa", "Prensa | Archivo", "Continuar leyendo"
	if english {
		base, idiom, lang, section, head, more = "/"+ag.slug+"/es/archivo/prensa", "en", "en", "Press", "Press | Archive", "continue reading"
	}
	pageQuery := func(n int) string {
		q := fmt.Sprintf("order=DESC&page=%d", n)
		if english {
			q = "idiom=en&" + q
		}
		return q
	}
	pages := 0
	for _, r := range recs {
		pages = max(pages, r.page())
	}
	for n := 1; n <= pages; n++ {
		data := struct {
			Lang, Agency, AgencyName, Section, HeadTitle, Idiom, More, Prev, Next string
			Rows                                                                  [][]gobItem
			Numbers                                                               []pageNumber
		}{Lang: lang, Agency: ag.slug, AgencyName: ag.name, Section: section, HeadTitle: head, Idiom: idiom, More: more}
		fileQuery := ""
		listing := mirror.Listing{Source: ag.slug, URL: "https://" + host + base}
		switch {
		case n > 1:
			fileQuery = pageQuery(n)
			listing.URL += "?" + fileQuery
		case english:
			fileQuery = "idiom=en"
			listing.URL += "?" + fileQuery
		}
		var row []gobItem
		for _, r := range recs {
			if r.page() != n {
				continue
			}
			t, datetime, dateText, dated := g.gobDate(r, english)
			href := r.get("path") + "?idiom=" + idiom
			row = append(row, gobItem{Title: r.get("title"), Datetime: datetime, DateText: dateText, Type: r.get("type"), Href: href})
			if len(row) == 3 {
				data.Rows, row = append(data.Rows, row), nil
			}
			item := mirror.ListingItem{URL: "https://" + host + href, Title: text(r.get("title")), Type: r.get("type"), Status: 200}
			if dated {
				item.Date = t.Format("2006-01-02")
			}
			listing.Items = append(listing.Items, item)
		}
		if len(row) > 0 {
			data.Rows = append(data.Rows, row)
		}
		for i := 1; i <= pages; i++ {
			rel := "next"
			if i < n {
				rel = "prev"
			}
			data.Numbers = append(data.Numbers, pageNumber{N: i, Href: html.EscapeString(base + "?" + pageQuery(i)), Rel: rel, Current: i == n})
		}
		if n > 1 {
			data.Prev = html.EscapeString(base + "?" + pageQuery(n-1))
		}
		if n < pages {
			data.Next = html.EscapeString(base + "?" + pageQuery(n+1))
			listing.Next = "https://" + host + base + "?" + pageQuery(n+1)
		}
		g.render(fileFor(host, base, fileQuery, ".html"), "gobmx_listing.tmpl", data)
		g.manifest.Listings = append(g.manifest.Listings, listing)
	}
}
