package crawler

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"atalaya"
)

// spanishWords maps Spanish month and weekday names (lower case, with and
// without accents) to the English names Go's time layouts understand.
var spanishWords = map[string]string{
	"enero": "January", "febrero": "February", "marzo": "March", "abril": "April",
	"mayo": "May", "junio": "June", "julio": "July", "agosto": "August",
	"septiembre": "September", "setiembre": "September", "octubre": "October",
	"noviembre": "November", "diciembre": "December",
	"lunes": "Monday", "martes": "Tuesday", "miércoles": "Wednesday", "miercoles": "Wednesday",
	"jueves": "Thursday", "viernes": "Friday", "sábado": "Saturday", "sabado": "Saturday",
	"domingo": "Sunday",
	// "Sept." is the AP abbreviation (and a Spanish one); Go knows "Sep".
	"sept": "Sep",
}

var (
	wordRE    = regexp.MustCompile(`\p{L}+`)
	weekdayRE = regexp.MustCompile(`^(?i)(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)\.?,?\s+`)
)

// ParseDate reads raw with the first of layouts that matches and returns
// midnight of its calendar date in loc. Spanish month and weekday names are
// translated first, so "02 de January de 2006" reads "14 de diciembre de
// 2021"; a leading weekday ("martes, ") the layout does not mention is
// ignored, and a zero-padded day in a layout ("02") also accepts one digit.
// A layout with a full month name ("January 2, 2006") also reads the
// abbreviated month, with or without a dot ("Dec. 14, 2021", "Sept. 9,
// 2021"). Text split by "|" (a meta line such as "14 de diciembre de 2021 |
// Comunicado") is also read one part at a time.
// A layout with an offset or zone keeps it and the instant is converted to
// loc before the date is taken (a 00:30 UTC item is the previous day in New
// York); a layout without one is read in loc. A nil loc means UTC.
func ParseDate(raw string, layouts []string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	value := atalaya.NormalizeSpace(raw)
	if value == "" {
		return time.Time{}, fmt.Errorf("crawler: empty date")
	}
	candidates := dateCandidates(value)
	for _, layout := range layouts {
		for _, l := range layoutVariants(layout) {
			for _, c := range candidates {
				t, err := time.ParseInLocation(l, c, loc)
				if err != nil {
					continue
				}
				t = t.In(loc)
				return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("crawler: date %q matches none of the layouts %q", raw, layouts)
}

// dateCandidates returns the texts ParseDate tries for value: value with
// Spanish names translated, without a leading weekday, and each part of it
// when it is split by "|".
func dateCandidates(value string) []string {
	english := wordRE.ReplaceAllStringFunc(value, func(w string) string {
		if en, ok := spanishWords[strings.ToLower(w)]; ok {
			return en
		}
		return w
	})
	whole := []string{english}
	if strings.Contains(english, "|") {
		for part := range strings.SplitSeq(english, "|") {
			if part = strings.TrimSpace(part); part != "" {
				whole = append(whole, part)
			}
		}
	}
	var out []string
	for _, c := range whole {
		out = append(out, c)
		if stripped := weekdayRE.ReplaceAllString(c, ""); stripped != c {
			out = append(out, stripped)
		}
	}
	return out
}

// layoutVariants returns layout and the variants ParseDate also accepts:
// one-digit days for "02", and abbreviated months for "January".
func layoutVariants(layout string) []string {
	out := []string{layout}
	if strings.Contains(layout, "January") {
		out = append(out, strings.ReplaceAll(layout, "January", "Jan."), strings.ReplaceAll(layout, "January", "Jan"))
	}
	for _, l := range out {
		if strings.Contains(l, "02") {
			out = append(out, strings.ReplaceAll(l, "02", "2"))
		}
	}
	return out
}
