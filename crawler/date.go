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
	english := wordRE.ReplaceAllStringFunc(value, func(w string) string {
		if en, ok := spanishWords[strings.ToLower(w)]; ok {
			return en
		}
		return w
	})
	candidates := []string{english}
	if stripped := weekdayRE.ReplaceAllString(english, ""); stripped != english {
		candidates = append(candidates, stripped)
	}
	for _, layout := range layouts {
		for _, l := range []string{layout, strings.ReplaceAll(layout, "02", "2")} {
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
