package api

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"atalaya/index"
)

// exportFlushEvery is how many records an export writes between flushes
// (and write-deadline extensions).
const exportFlushEvery = 500

// exportBufferSize is the buffer between the encoders and the connection:
// records of a few kilobytes each, written in large chunks.
const exportBufferSize = 64 << 10

// export streams every release matching the query as JSON lines or CSV,
// in constant memory: the index yields a page at a time and each record is
// written as it comes. An error after the first byte is reported in the
// stream itself: a last JSON line {"error": …}, or a last CSV row whose
// first cell is "error".
func (h *handler) export(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q, err := parseQuery(v, "format")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	format := v.Get("format")
	if format == "" {
		format = "jsonl"
	}
	var enc recordEncoder
	buf := bufio.NewWriterSize(w, exportBufferSize)
	switch format {
	case "jsonl":
		w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
		enc = newJSONLEncoder(buf)
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		enc = newCSVEncoder(buf)
	default:
		h.fail(w, r, badParam("format=%q: want jsonl or csv", format))
		return
	}
	next, stop := iter.Pull2(h.Index.Export(r.Context(), q))
	defer stop()
	// The first document tells a bad query (400) from a good one.
	first, err, ok := next()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="atalaya-export.`+format+`"`)
	w.Header().Set("Cache-Control", "no-store")
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Now().Add(ExportWriteWindow))
	if err := enc.header(); err != nil {
		return
	}
	n := 0
	for doc := first; ok; doc, err, ok = next() {
		if err != nil {
			h.Log.Error("export stopped", "records", n, "error", err)
			enc.fail("export stopped after " + strconv.Itoa(n) + " records: " + err.Error())
			buf.Flush()
			return
		}
		if err := enc.record(exportRecord(doc)); err != nil {
			return // the client left
		}
		if n++; n%exportFlushEvery == 0 {
			enc.flush()
			buf.Flush()
			rc.Flush()
			rc.SetWriteDeadline(time.Now().Add(ExportWriteWindow))
		}
	}
	enc.flush()
	buf.Flush()
}

func exportRecord(d index.Document) ExportRecord {
	rel, v := d.Release, d.Verdict
	themes := v.Themes
	if themes == nil {
		themes = []string{}
	}
	var ev []string
	for _, e := range v.Evidence {
		if e.Label != "" {
			ev = append(ev, e.Rule+": "+e.Match)
		}
	}
	return ExportRecord{
		ID: string(rel.ID), URL: rel.URL, Source: string(rel.Source), Agency: rel.Agency, Country: string(rel.Country),
		Language: string(rel.Language), Published: OptionalTime(rel.Published), Title: rel.Title, Body: rel.Body,
		Label: string(v.Label), Themes: themes, Evidence: strings.Join(ev, "; "), RulesVersion: v.RulesVersion,
	}
}

// recordEncoder writes export records in one format.
type recordEncoder interface {
	header() error
	record(ExportRecord) error
	fail(msg string)
	flush()
}

type jsonlEncoder struct{ enc *json.Encoder }

func newJSONLEncoder(w io.Writer) *jsonlEncoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true) // <script> becomes \u003cscript\u003e
	return &jsonlEncoder{enc: enc}
}

func (e *jsonlEncoder) header() error               { return nil }
func (e *jsonlEncoder) record(r ExportRecord) error { return e.enc.Encode(r) }
func (e *jsonlEncoder) fail(msg string)             { e.enc.Encode(map[string]string{"error": msg}) }
func (e *jsonlEncoder) flush()                      {}

// csvColumns are the columns of a CSV export, the JSON names.
var csvColumns = []string{"id", "url", "source", "agency", "country", "language", "published", "title", "body", "label", "themes", "evidence", "rules_version"}

type csvEncoder struct{ w *csv.Writer }

func newCSVEncoder(w io.Writer) *csvEncoder { return &csvEncoder{w: csv.NewWriter(w)} }

func (e *csvEncoder) header() error { return e.w.Write(csvColumns) }

func (e *csvEncoder) record(r ExportRecord) error {
	published := ""
	if r.Published != nil {
		published = r.Published.Format(time.DateOnly)
	}
	row := []string{r.ID, r.URL, r.Source, r.Agency, r.Country, r.Language, published, r.Title, r.Body,
		r.Label, strings.Join(r.Themes, ";"), r.Evidence, r.RulesVersion}
	for i := range row {
		row[i] = InertCell(row[i])
	}
	return e.w.Write(row)
}

func (e *csvEncoder) fail(msg string) {
	e.w.Write([]string{"error", InertCell(msg)})
	e.w.Flush()
}

func (e *csvEncoder) flush() { e.w.Flush() }

// InertCell neutralises a CSV cell that a spreadsheet would read as a
// formula (one beginning with =, +, -, @, a tab or a carriage return) by
// putting a single quote before it, as OWASP advises.
func InertCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
