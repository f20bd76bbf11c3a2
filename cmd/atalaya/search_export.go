package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"atalaya/api"
	"atalaya/index"
)

// exportFields are the columns search can write in csv and jsonl, with
// the API's names. body and evidence are read from the index release by
// release.
var exportFields = []string{"id", "url", "title", "agency", "source", "country", "language", "label", "themes",
	"published", "version", "score", "fragment", "rules_version", "body", "evidence"}

// defaultExportFields are the columns written without --fields.
var defaultExportFields = exportFields[:13]

// parseFields reads --fields: known columns, comma-separated, each once.
func parseFields(s string) ([]string, error) {
	var cols []string
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
			continue
		case !slices.Contains(exportFields, f):
			return nil, fmt.Errorf("--fields: unknown column %q; known: %s", f, strings.Join(exportFields, ", "))
		case slices.Contains(cols, f):
			return nil, fmt.Errorf("--fields: column %q is given twice", f)
		}
		cols = append(cols, f)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("--fields: name at least one column: %s", strings.Join(exportFields, ", "))
	}
	return cols, nil
}

// flagGiven reports whether flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// exportWriter writes hits as CSV rows or JSON lines with the chosen
// columns. Fragments are plain text: the highlight markers are dropped.
type exportWriter struct {
	cols   []string
	csv    *csv.Writer   // csv, else nil
	enc    *json.Encoder // jsonl, else nil
	inFull bool          // a column needs the release in full
}

func newExportWriter(format string, cols []string, w io.Writer) *exportWriter {
	x := &exportWriter{cols: cols, inFull: slices.Contains(cols, "body") || slices.Contains(cols, "evidence")}
	if format == "csv" {
		x.csv = csv.NewWriter(w)
	} else {
		x.enc = json.NewEncoder(w)
	}
	return x
}

// header writes the CSV header row; JSON lines have none.
func (x *exportWriter) header() error {
	if x.csv == nil {
		return nil
	}
	return x.csv.Write(x.cols)
}

// hits writes one row or line per hit, reading the release in full from b
// when a column needs it.
func (x *exportWriter) hits(ctx context.Context, b searchBackend, hits []index.Hit) error {
	for i := range hits {
		var rec api.ExportRecord
		if x.inFull {
			d, err := b.document(ctx, hits[i].ID)
			if err != nil {
				return err
			}
			rec = api.ExportRecordOf(d)
		}
		if err := x.write(&hits[i], &rec); err != nil {
			return err
		}
	}
	if x.csv != nil {
		x.csv.Flush()
		return x.csv.Error()
	}
	return nil
}

func (x *exportWriter) write(h *index.Hit, full *api.ExportRecord) error {
	if x.csv != nil {
		row := make([]string, len(x.cols))
		for i, c := range x.cols {
			row[i] = csvCell(exportValue(c, h, full))
		}
		return x.csv.Write(row)
	}
	obj := make(map[string]any, len(x.cols))
	for _, c := range x.cols {
		obj[c] = exportValue(c, h, full)
	}
	return x.enc.Encode(obj)
}

func (x *exportWriter) flush() error {
	if x.csv != nil {
		x.csv.Flush()
		return x.csv.Error()
	}
	return nil
}

// exportValue is column c of a hit, typed as the API types it.
func exportValue(c string, h *index.Hit, full *api.ExportRecord) any {
	switch c {
	case "id":
		return string(h.ID)
	case "url":
		return h.URL
	case "title":
		return h.Title
	case "agency":
		return h.Agency
	case "source":
		return string(h.Source)
	case "country":
		return h.Country
	case "language":
		return h.Language
	case "label":
		return h.Label
	case "themes":
		if h.Themes == nil {
			return []string{}
		}
		return h.Themes
	case "published":
		return api.OptionalTime(h.Published)
	case "version":
		return h.Version
	case "score":
		return h.Score
	case "fragment":
		if len(h.Fragments) == 0 {
			return ""
		}
		return plainFragment(h.Fragments[0], "", "")
	case "rules_version":
		return h.RulesVersion
	case "body":
		return full.Body
	case "evidence":
		return full.Evidence
	}
	return nil
}

// csvCell is a value as a CSV cell: dates as YYYY-MM-DD, lists joined with
// ";", and text that a spreadsheet would run as a formula made inert.
func csvCell(v any) string {
	switch v := v.(type) {
	case string:
		return api.InertCell(v)
	case []string:
		return api.InertCell(strings.Join(v, ";"))
	case *time.Time:
		if v == nil {
			return ""
		}
		return v.Format(time.DateOnly)
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	return fmt.Sprint(v)
}
