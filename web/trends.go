package web

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"atalaya/index"
)

// trendChart is one chart of the trends page with its drawing and summary.
type trendChart struct {
	chart
	SVG     template.HTML
	Summary string
}

// trendsData is what the trends page shows.
type trendsData struct {
	Box       queryForm
	Total     uint64
	Undated   uint64
	Overall   []trendChart
	Countries []trendChart
	Agencies  []trendChart
	CSV       string
	Search    string
}

// trendGroup is one grouping of the trends page.
type trendGroup struct {
	group index.Group
	param string // the search parameter that filters on a group value
}

// trendsCharts computes the charts of a search: all releases, per country
// and per agency.
func (h *handler) trendsCharts(r *http.Request, form searchForm) (data trendsData, err error) {
	q := form.query()
	labels := h.chartLabels()
	for _, g := range []trendGroup{{index.GroupNone, ""}, {index.GroupCountry, "country"}, {index.GroupAgency, "agency"}} {
		tr, err := h.deps.Index.Trends(r.Context(), index.TrendsRequest{Query: q, Group: g.group})
		if err != nil {
			return data, err
		}
		data.Total, data.Undated = tr.Total, tr.Undated
		charts := h.groupCharts(form, g, tr, labels)
		switch g.group {
		case index.GroupNone:
			data.Overall = charts
		case index.GroupCountry:
			data.Countries = charts
		default:
			data.Agencies = charts
		}
	}
	return data, nil
}

// chartLabels are the labels the charts draw: the declared ones and mixed.
func (h *handler) chartLabels() []string {
	var labels []string
	if rs := h.rules(); rs != nil {
		for _, l := range rs.LabelNames() {
			labels = append(labels, string(l))
		}
	} else {
		labels = []string{"kingpin", "root_cause"}
	}
	return append(labels, "mixed")
}

// groupCharts makes one chart per group value of tr (one in all without a
// group), each with a series per label.
func (h *handler) groupCharts(form searchForm, g trendGroup, tr index.Trends, labels []string) []trendChart {
	names := h.agencyNames()
	var order []string
	byGroup := map[string]map[string][]int{}
	for _, s := range tr.Series {
		if byGroup[s.Group] == nil {
			byGroup[s.Group] = map[string][]int{}
			order = append(order, s.Group)
		}
		byGroup[s.Group][s.Label] = s.Counts
	}
	var charts []trendChart
	for i, grp := range order {
		c := chart{ID: fmt.Sprintf("chart-%s-%d", cmp.Or(string(g.group), "all"), i), Periods: tr.Periods}
		value := grp
		switch g.group {
		case index.GroupNone:
			c.Title = "All matching releases"
		case index.GroupCountry:
			c.Title = countryName(grp)
		default:
			if n, ok := names[grp]; ok {
				value = n
			}
			c.Title = value
		}
		for _, l := range labels {
			counts := byGroup[grp][l]
			if counts == nil {
				counts = make([]int, len(tr.Periods))
			}
			c.Series = append(c.Series, chartSeries{Label: l, Counts: counts})
		}
		for _, p := range tr.Periods {
			c.PeriodURLs = append(c.PeriodURLs, periodSearchURL(form, p, g.param, value))
		}
		tc := trendChart{chart: c, Summary: dominance(c)}
		svg, err := renderChart(c)
		if err != nil {
			h.log.Error("draw a trends chart", "chart", c.Title, "error", err)
		}
		tc.SVG = svg
		charts = append(charts, tc)
	}
	return charts
}

// countryName names a country code.
func countryName(code string) string {
	switch strings.ToUpper(code) {
	case "US":
		return "United States"
	case "MX":
		return "Mexico"
	}
	return code
}

// agencyNames maps the lower-cased agency names the index groups by to the
// names of the catalog.
func (h *handler) agencyNames() map[string]string {
	names := map[string]string{}
	for _, src := range h.deps.Catalog {
		names[strings.ToLower(src.Agency)] = src.Agency
	}
	return names
}

// periodSearchURL opens the search for one period of a chart: the same
// search within the period's dates, filtered on the chart's group value.
func periodSearchURL(form searchForm, period, param, value string) string {
	start, err := time.Parse("2006-01", period)
	end := start.AddDate(0, 1, -1)
	if err != nil {
		if start, err = time.Parse("2006", period); err != nil {
			return ""
		}
		end = start.AddDate(1, 0, -1)
	}
	v := form.values()
	v.Set("since", start.Format(time.DateOnly))
	v.Set("until", end.Format(time.DateOnly))
	v.Set("sort", "date")
	if param != "" {
		v.Set(param, value)
	}
	return searchURL(v)
}

// dominance says in words which label led in most periods and when that
// last changed, so that a reader need not read it off the lines.
func dominance(c chart) string {
	var leads []string // the leading label of each period with releases, "" for a tie
	var periods []string
	wins := map[string]int{}
	for i, p := range c.Periods {
		best, bestN, tie := "", 0, false
		for _, s := range c.Series {
			if s.Label == "mixed" || i >= len(s.Counts) {
				continue
			}
			switch n := s.Counts[i]; {
			case n > bestN:
				best, bestN, tie = s.Label, n, false
			case n == bestN && n > 0:
				tie = true
			}
		}
		if bestN == 0 {
			continue
		}
		if tie {
			best = ""
		} else {
			wins[best]++
		}
		leads, periods = append(leads, best), append(periods, p)
	}
	if len(leads) == 0 {
		return "No release here has a label other than neither or mixed."
	}
	var parts []string
	for _, s := range c.Series {
		if n := wins[s.Label]; n > 0 && s.Label != "mixed" {
			parts = append(parts, fmt.Sprintf("%s led in %d", humanLabel(s.Label), n))
		}
	}
	out := fmt.Sprintf("Of %d %ss with releases, %s.", len(leads), periodUnit(periods[0]), strings.Join(parts, ", "))
	if len(parts) == 0 {
		out = fmt.Sprintf("Of %d %ss with releases, none had one label ahead.", len(leads), periodUnit(periods[0]))
	}
	prev, change := "", ""
	for i, l := range leads {
		if l == "" {
			continue
		}
		if prev != "" && l != prev {
			change = fmt.Sprintf(" The lead last changed in %s, from %s to %s.", periodName(periods[i]), humanLabel(prev), humanLabel(l))
		}
		prev = l
	}
	return out + change
}

// trends serves the trends page.
func (h *handler) trends(w http.ResponseWriter, r *http.Request) {
	box, ok := newQueryForm(r, "/trends", "Count")
	form := box.Form
	data := trendsData{Box: box}
	if !ok {
		h.render(w, r, http.StatusBadRequest, "trends", "Trends", data)
		return
	}
	charts, err := h.trendsCharts(r, form)
	if err != nil {
		h.queryFailed(w, r, "trends", "Trends", &data.Box, &data, "count the trends", err)
		return
	}
	charts.Box = data.Box
	v := form.values()
	v.Del("size")
	charts.CSV = "/trends.csv"
	charts.Search = searchURL(v)
	if len(v) > 0 {
		charts.CSV += "?" + v.Encode()
	}
	h.render(w, r, http.StatusOK, "trends", "Trends", charts)
}

// trendsCSV serves the numbers of the trends page as CSV: one row per chart
// and period, one column per label.
func (h *handler) trendsCSV(w http.ResponseWriter, r *http.Request) {
	form, problems := parseSearchForm(r.URL.Query())
	if len(problems) > 0 {
		http.Error(w, strings.Join(problems, "\n"), http.StatusBadRequest)
		return
	}
	data, err := h.trendsCharts(r, form)
	if errors.Is(err, index.ErrBadQuery) {
		http.Error(w, newQueryError(form.Q, err).Message, http.StatusBadRequest)
		return
	}
	if errors.Is(err, index.ErrBusy) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "the server is busy with other searches; try again in a moment", http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		h.log.Error("count the trends", "path", r.URL.Path, "error", err)
		http.Error(w, "internal error: the trends could not be counted; the error is in the server's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="atalaya-trends.csv"`)
	cw := csv.NewWriter(w)
	labels := h.chartLabels()
	cw.Write(append([]string{"chart", "period"}, labels...))
	for _, group := range [][]trendChart{data.Overall, data.Countries, data.Agencies} {
		for _, c := range group {
			for i, p := range c.Periods {
				row := []string{csvCell(c.Title), p}
				for _, s := range c.Series {
					row = append(row, strconv.Itoa(s.Counts[i]))
				}
				cw.Write(row)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		h.log.Warn("write trends CSV", "error", err)
	}
}

// csvCell neutralises a cell a spreadsheet would read as a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
