package web

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
)

// chart is one small trends chart: counts per period of a few labels.
type chart struct {
	ID      string // unique on the page, for the chart's title and description
	Title   string
	Periods []string // "2006-01" (or "2006" for years), in order
	Series  []chartSeries
	// PeriodURLs, aligned with Periods, open the search for each period.
	PeriodURLs []string
}

// chartSeries is the count of one label in each period.
type chartSeries struct {
	Label  string
	Counts []int
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 480, 240
	plotLeft       = 44
	plotRight      = chartW - 12
	plotTop        = 36
	plotBottom     = chartH - 44
)

// seriesStyle draws a label so that colour is never the only thing telling
// the series apart: each has its own dash pattern and marker shape too.
type seriesStyle struct {
	Color, Dash, Marker string
}

var seriesStyles = map[string]seriesStyle{
	"kingpin":    {"#8a1c1c", "", "circle"},
	"root_cause": {"#1d5e2a", "6 3", "square"},
	"mixed":      {"#5b3a8c", "2 3", "diamond"},
}

// fallbackStyle draws labels other rules may declare.
var fallbackStyle = seriesStyle{"#4a4a4a", "10 3 2 3", "circle"}

// chartView is a chart laid out for the template.
type chartView struct {
	ID, Title, Desc string
	W, H            int
	Left, Right     int
	Top, Bottom     int
	YTicks          []chartTick
	XTicks          []chartTick
	Columns         []chartColumn
	Lines           []chartLine
	Legend          []chartLegend
}

type chartTick struct {
	X, Y  float64
	Label string
	Year  string // under a month tick: the year, at the first month and each January
}

// chartColumn is the clickable band of one period.
type chartColumn struct {
	X, W  float64
	URL   string
	Title string
}

type chartLine struct {
	Label  string
	Color  string
	Dash   string
	Points string
	Marks  []chartMark
	Marker string
}

type chartMark struct {
	X, Y  float64
	Title string
}

type chartLegend struct {
	X      float64
	Label  string
	Color  string
	Dash   string
	Marker string
}

var chartTpl = template.Must(template.New("chart").Funcs(template.FuncMap{
	"add":  func(a, b any) float64 { return round1(toFloat(a) + toFloat(b)) },
	"sub":  func(a, b any) float64 { return round1(toFloat(a) - toFloat(b)) },
	"mark": func(shape string, x, y any, color string) marker { return marker{shape, toFloat(x), toFloat(y), color} },
}).Parse(chartSVG))

// marker is one data point's mark.
type marker struct {
	Shape string
	X, Y  float64
	Color string
}

// toFloat converts the numbers the chart template computes with.
func toFloat(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case float64:
		return n
	}
	panic(fmt.Sprintf("web: chart template computes with a %T", v)) // a template bug, caught by the golden tests
}

// renderChart draws c as an SVG element.
func renderChart(c chart) (template.HTML, error) {
	var buf bytes.Buffer
	if err := chartTpl.Execute(&buf, layoutChart(c)); err != nil {
		return "", fmt.Errorf("web: draw chart %q: %w", c.Title, err)
	}
	return template.HTML(buf.String()), nil // html/template escaped every value
}

// layoutChart computes the coordinates of everything c draws.
func layoutChart(c chart) chartView {
	v := chartView{ID: c.ID, Title: c.Title, W: chartW, H: chartH, Left: plotLeft, Right: plotRight, Top: plotTop, Bottom: plotBottom}
	top := 0
	for _, s := range c.Series {
		for _, n := range s.Counts {
			top = max(top, n)
		}
	}
	top = niceCeil(top)
	n := max(len(c.Periods), 1)
	step := float64(plotRight-plotLeft) / float64(n)
	x := func(i int) float64 { return round1(plotLeft + step*(float64(i)+0.5)) }
	y := func(count int) float64 {
		return round1(plotBottom - float64(count)/float64(top)*float64(plotBottom-plotTop))
	}
	for _, t := range []int{0, top / 2, top} {
		if t == 0 || t != top/2 || top%2 == 0 {
			v.YTicks = append(v.YTicks, chartTick{Y: y(t), Label: strconv.Itoa(t)})
		}
	}
	every := (len(c.Periods) + 11) / 12
	for i, p := range c.Periods {
		label, year := periodLabels(p, i == 0)
		if i%max(every, 1) == 0 {
			v.XTicks = append(v.XTicks, chartTick{X: x(i), Label: label, Year: year})
		}
		col := chartColumn{X: round1(plotLeft + step*float64(i)), W: round1(step), Title: periodTitle(p, c.Series, i)}
		if i < len(c.PeriodURLs) {
			col.URL = c.PeriodURLs[i]
		}
		v.Columns = append(v.Columns, col)
	}
	var desc []string
	for li, s := range c.Series {
		st, ok := seriesStyles[s.Label]
		if !ok {
			st = fallbackStyle
		}
		line := chartLine{Label: humanLabel(s.Label), Color: st.Color, Dash: st.Dash, Marker: st.Marker}
		var pts []string
		total := 0
		for i, count := range s.Counts {
			if i >= len(c.Periods) {
				break
			}
			total += count
			pts = append(pts, fmt.Sprintf("%g,%g", x(i), y(count)))
			line.Marks = append(line.Marks, chartMark{X: x(i), Y: y(count),
				Title: fmt.Sprintf("%s: %d %s", periodName(c.Periods[i]), count, humanLabel(s.Label))})
		}
		line.Points = strings.Join(pts, " ")
		v.Lines = append(v.Lines, line)
		v.Legend = append(v.Legend, chartLegend{X: float64(plotLeft + li*140), Label: humanLabel(s.Label), Color: st.Color, Dash: st.Dash, Marker: st.Marker})
		desc = append(desc, fmt.Sprintf("%s %d", humanLabel(s.Label), total))
	}
	if len(c.Periods) > 0 {
		v.Desc = fmt.Sprintf("Releases per %s from %s to %s: %s.", periodUnit(c.Periods[0]),
			periodName(c.Periods[0]), periodName(c.Periods[len(c.Periods)-1]), strings.Join(desc, ", "))
	} else {
		v.Desc = "No dated release."
	}
	return v
}

// niceCeil rounds a maximum count up to a round axis top: 1, 2, 4, 5, 10,
// 20, 25, 50, 100, …
func niceCeil(n int) int {
	if n <= 1 {
		return 1
	}
	for base := 1; ; base *= 10 {
		for _, m := range []int{1, 2, 4, 5} {
			if base*m >= n {
				return base * m
			}
		}
	}
}

func round1(f float64) float64 {
	return float64(int(f*10+0.5)) / 10
}

// periodUnit is "month" for "2006-01" and "year" for "2006".
func periodUnit(p string) string {
	if len(p) == 4 {
		return "year"
	}
	return "month"
}

// periodLabels returns the tick labels of a period: the month's short name
// and, at the first period and each January, the year.
func periodLabels(p string, first bool) (label, year string) {
	t, err := time.Parse("2006-01", p)
	if err != nil {
		return p, ""
	}
	if first || t.Month() == time.January {
		year = t.Format("2006")
	}
	return t.Format("Jan"), year
}

// periodName is a period as a reader says it: "June 2025".
func periodName(p string) string {
	if t, err := time.Parse("2006-01", p); err == nil {
		return t.Format("January 2006")
	}
	return p
}

// periodTitle describes one period's counts, for the column's tooltip.
func periodTitle(p string, series []chartSeries, i int) string {
	parts := []string{}
	for _, s := range series {
		if i < len(s.Counts) {
			parts = append(parts, fmt.Sprintf("%d %s", s.Counts[i], humanLabel(s.Label)))
		}
	}
	return periodName(p) + ": " + strings.Join(parts, ", ") + ". Open these releases."
}

const chartSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-labelledby="{{.ID}}-title {{.ID}}-desc" class="trend-chart">
<title id="{{.ID}}-title">{{.Title}}</title>
<desc id="{{.ID}}-desc">{{.Desc}}</desc>
<g class="legend" font-size="14">
{{- range .Legend}}
<g class="legend-item"><line x1="{{.X}}" y1="14" x2="{{printf "%g" (add .X 22)}}" y2="14" stroke="{{.Color}}" stroke-width="2"{{if .Dash}} stroke-dasharray="{{.Dash}}"{{end}}/>{{template "marker" (mark .Marker (add .X 11) 14 .Color)}}<text x="{{printf "%g" (add .X 28)}}" y="18" fill="#1a1a1a">{{.Label}}</text></g>
{{- end}}
</g>
<g class="axes" font-size="13" fill="#1a1a1a">
<line x1="{{.Left}}" y1="{{.Bottom}}" x2="{{.Right}}" y2="{{.Bottom}}" stroke="#1a1a1a"/>
<line x1="{{.Left}}" y1="{{.Top}}" x2="{{.Left}}" y2="{{.Bottom}}" stroke="#1a1a1a"/>
{{- range .YTicks}}
<line x1="{{$.Left}}" y1="{{.Y}}" x2="{{$.Right}}" y2="{{.Y}}" stroke="#c8c8c8" stroke-width="0.5"/><text x="{{printf "%g" (sub $.Left 6)}}" y="{{printf "%g" (add .Y 4)}}" text-anchor="end">{{.Label}}</text>
{{- end}}
{{- range .XTicks}}
<line x1="{{.X}}" y1="{{$.Bottom}}" x2="{{.X}}" y2="{{printf "%g" (add $.Bottom 4)}}" stroke="#1a1a1a"/><text x="{{.X}}" y="{{printf "%g" (add $.Bottom 16)}}" text-anchor="middle">{{.Label}}</text>{{if .Year}}<text x="{{.X}}" y="{{printf "%g" (add $.Bottom 30)}}" text-anchor="middle" font-weight="bold">{{.Year}}</text>{{end}}
{{- end}}
</g>
{{- range .Lines}}
<g class="series" data-label="{{.Label}}">
<polyline points="{{.Points}}" fill="none" stroke="{{.Color}}" stroke-width="2"{{if .Dash}} stroke-dasharray="{{.Dash}}"{{end}}/>
{{- $l := .}}
{{- range .Marks}}
<g class="point">{{template "marker" (mark $l.Marker .X .Y $l.Color)}}<title>{{.Title}}</title></g>
{{- end}}
</g>
{{- end}}
<g class="periods">
{{- range .Columns}}
{{if .URL}}<a href="{{.URL}}"><rect x="{{.X}}" y="{{$.Top}}" width="{{.W}}" height="{{printf "%g" (sub $.Bottom $.Top)}}" fill="#ffffff" fill-opacity="0"><title>{{.Title}}</title></rect></a>{{end}}
{{- end}}
</g>
</svg>
{{- define "marker"}}
{{- if eq .Shape "square"}}<rect x="{{printf "%g" (add .X -3.5)}}" y="{{printf "%g" (add .Y -3.5)}}" width="7" height="7" fill="{{.Color}}"/>
{{- else if eq .Shape "diamond"}}<path d="M{{printf "%g" .X}} {{printf "%g" (add .Y -5)}} l5 5 l-5 5 l-5 -5 z" fill="{{.Color}}"/>
{{- else}}<circle cx="{{.X}}" cy="{{.Y}}" r="3.5" fill="{{.Color}}"/>
{{- end}}
{{- end}}`
