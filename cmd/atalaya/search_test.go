package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atalaya"
	"atalaya/api"
	"atalaya/classify"
	"atalaya/index"
)

// searchDataDir returns a data directory whose index holds three releases
// written for this test.
func searchDataDir(t *testing.T) string {
	t.Helper()
	doc := func(id, src, agency string, c atalaya.Country, lang atalaya.Language, date, title, body, label string) index.Document {
		d, _ := time.Parse(time.DateOnly, date)
		return index.Document{
			Release: atalaya.Release{ID: atalaya.ID(id), URL: "https://example.test/" + id, Source: atalaya.SourceID(src),
				Agency: agency, Country: c, Language: lang, Title: title, Body: body, Published: d},
			Verdict: classify.Verdict{Label: classify.Label(label), Themes: []string{"t1"}},
		}
	}
	return indexedDataDir(t,
		doc("a", "sre", "Cancillería", atalaya.MX, atalaya.Spanish, "2025-04-02",
			"Se concreta una extradición", "La cancillería confirmó la extradición de un operador & socio.", "kingpin"),
		doc("b", "fgr", "Fiscalía", atalaya.MX, atalaya.Spanish, "2025-08-09",
			"Balance de extradiciones", "Durante el año hubo varias extradiciones, dijo la fiscalía.", "mixed"),
		doc("c", "state", "Department of State", atalaya.US, atalaya.English, "2024-01-15",
			"Grants for treatment", "The grants pay for treatment and prevention.", "root_cause"),
	)
}

// indexedDataDir returns a data directory whose index holds docs.
func indexedDataDir(t *testing.T, docs ...index.Document) string {
	t.Helper()
	data := t.TempDir()
	idx, err := index.Open(filepath.Join(data, "index"), index.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if err := idx.Put(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	return data
}

func runSearchCmd(t *testing.T, data string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"--data", data, "--log-level", "error", "search"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestSearchText(t *testing.T) {
	data := searchDataDir(t)
	code, out, errOut := runSearchCmd(t, data, "extradición", "--sort", "date")
	if code != 0 {
		t.Fatalf("exit code %d, stderr %s", code, errOut)
	}
	want := `2 releases match; 1–2:

1. Balance de extradiciones
   Fiscalía · 2025-08-09 · mixed
   Durante el año hubo varias «extradiciones», dijo la fiscalía.
   https://example.test/b

2. Se concreta una extradición
   Cancillería · 2025-04-02 · kingpin
   La cancillería confirmó la «extradición» de un operador & socio.
   https://example.test/a
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("output mismatch (-want +got):\n%s", diff)
	}
}

func TestSearchFormats(t *testing.T) {
	data := searchDataDir(t)
	t.Run("jsonl with flags after and before the query", func(t *testing.T) {
		code, out, errOut := runSearchCmd(t, data, "--country", "MX", "extradiciones", "--label", "kingpin", "--format", "jsonl")
		if code != 0 {
			t.Fatalf("exit code %d, stderr %s", code, errOut)
		}
		var h map[string]any
		if err := json.Unmarshal([]byte(out), &h); err != nil {
			t.Fatalf("decoding %q: %v", out, err)
		}
		// The fragment is plain text: no highlight markers.
		if h["id"] != "a" || h["label"] != "kingpin" || h["fragment"] != "La cancillería confirmó la extradición de un operador & socio." {
			t.Errorf("hit = %+v", h)
		}
	})
	t.Run("json with facets", func(t *testing.T) {
		code, out, errOut := runSearchCmd(t, data, "--json", "--since", "2025-01-01")
		if code != 0 {
			t.Fatalf("exit code %d, stderr %s", code, errOut)
		}
		var got searchOutput
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if got.Total != 2 || len(got.Hits) != 2 {
			t.Errorf("total %d, %d hits; want 2, 2", got.Total, len(got.Hits))
		}
		if diff := cmp.Diff([]api.FacetDTO{{Value: "kingpin", Count: 1}, {Value: "mixed", Count: 1}}, got.Facets["label"]); diff != "" {
			t.Errorf("label facet mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("csv", func(t *testing.T) {
		code, out, errOut := runSearchCmd(t, data, "--format", "csv", "--", "-label:mixed", "extradición")
		if code != 0 {
			t.Fatalf("exit code %d, stderr %s", code, errOut)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[1][0] != "a" || rows[1][9] != "2025-04-02" {
			t.Errorf("rows = %q", rows)
		}
	})
}

func TestSearchErrors(t *testing.T) {
	data := searchDataDir(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"syntax error", []string{"(extradición"}, 1, `query:1:13: expected ")"`},
		{"unknown label", []string{"--label", "villain", "x"}, 1, `unknown label "villain"`},
		{"bad date", []string{"--since", "2025-31-01", "x"}, 2, `bad date "2025-31-01"`},
		{"size over limit", []string{"--size", "1001", "x"}, 2, "--size 1001: want 1 to 1000"},
		{"size 0", []string{"--size", "0", "x"}, 2, "--size 0: want 1 to 1000"},
		{"wide page past the window", []string{"--size", "1000", "--page", "11", "x"}, 1, "past the first 10000 hits"},
		{"all as json", []string{"--all", "--json", "x"}, 2, "--all streams every hit: use it with --format jsonl or csv"},
		{"unknown field", []string{"--format", "csv", "--fields", "id,bogus", "x"}, 2, `--fields: unknown column "bogus"`},
		{"fields without csv or jsonl", []string{"--fields", "id", "x"}, 2, "--fields chooses the columns of --format csv or jsonl"},
		{"field twice", []string{"--format", "csv", "--fields", "id,id", "x"}, 2, `--fields: column "id" is given twice`},
		{"bad format", []string{"--format", "xml", "x"}, 2, `unknown format "xml"`},
		{"page 0", []string{"--page", "0", "x"}, 2, `--page 0: pages are numbered from 1`},
		{"negative page", []string{"--page", "-2", "x"}, 2, `--page -2: pages are numbered from 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runSearchCmd(t, data, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tt.want)
			}
		})
	}
	t.Run("no index", func(t *testing.T) {
		code, _, errOut := runSearchCmd(t, t.TempDir(), "x")
		if code != 1 || !strings.Contains(errOut, "no index") {
			t.Errorf("exit code %d, stderr %q; want 1 and no index", code, errOut)
		}
	})
}

func TestSearchMarksRevisedReleases(t *testing.T) {
	data := t.TempDir()
	idx, err := index.Open(filepath.Join(data, "index"), index.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rel := atalaya.Release{ID: "r", URL: "https://example.test/r", Source: "state", Agency: "Department of State",
		Country: atalaya.US, Language: atalaya.English, Title: "Corrected statement", Body: "A corrected statement on extradition.", Version: 2}
	if err := idx.Put(context.Background(), index.Document{Release: rel, Verdict: classify.Verdict{Label: "kingpin"}}); err != nil {
		t.Fatal(err)
	}
	idx.Close()
	if _, out, _ := runSearchCmd(t, data, "extradition"); !strings.Contains(out, "revised (version 2)") {
		t.Errorf("text output does not mark the revision:\n%s", out)
	}
	code, out, errOut := runSearchCmd(t, data, "--format", "jsonl", "extradition")
	var hit struct {
		Version int `json:"version"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &hit) != nil || hit.Version != 2 {
		t.Errorf("jsonl output: exit %d, %q, %q; want version 2", code, out, errOut)
	}
}

// manyDataDir returns a data directory whose index holds n releases, one a
// day from 2020-01-01, each saying "extradition".
func manyDataDir(t *testing.T, n int) string {
	t.Helper()
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var docs []index.Document
	for i := range n {
		id := fmt.Sprintf("r%04d", i)
		docs = append(docs, index.Document{
			Release: atalaya.Release{ID: atalaya.ID(id), URL: "https://example.test/" + id, Source: "state", Agency: "Department of State",
				Country: atalaya.US, Language: atalaya.English, Title: "Release " + id, Body: "Body of " + id + " on extradition.",
				Published: day.AddDate(0, 0, i)},
			Verdict: classify.Verdict{Label: "kingpin"},
		})
	}
	return indexedDataDir(t, docs...)
}

// jsonlIDs runs search with args and returns the id of every JSON line.
func jsonlIDs(t *testing.T, data string, args ...string) []string {
	t.Helper()
	code, out, errOut := runSearchCmd(t, data, append([]string{"--format", "jsonl", "--fields", "id"}, args...)...)
	if code != 0 {
		t.Fatalf("search %q: exit %d: %s", args, code, errOut)
	}
	var ids []string
	for line := range strings.Lines(out) {
		var rec map[string]string
		if err := json.Unmarshal([]byte(line), &rec); err != nil || len(rec) != 1 {
			t.Fatalf("line %q: %v; want one key, id", line, err)
		}
		ids = append(ids, rec["id"])
	}
	return ids
}

func TestSearchWidePagesAndAll(t *testing.T) {
	const n = 230
	data := manyDataDir(t, n)
	all := jsonlIDs(t, data, "--all", "extradition")
	if len(all) != n {
		t.Fatalf("--all gave %d hits, want %d", len(all), n)
	}
	if all[0] != fmt.Sprintf("r%04d", n-1) || all[n-1] != "r0000" {
		t.Errorf("--all is not newest first: %s … %s", all[0], all[n-1])
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"size 1000", []string{"--size", "1000"}, all},
		{"size 150, page 1", []string{"--size", "150"}, all[:150]},
		{"size 150, page 2", []string{"--size", "150", "--page", "2"}, all[150:]},
		{"size 120, page 2", []string{"--size", "120", "--page", "2"}, all[120:]},
		{"size 101, page 3", []string{"--size", "101", "--page", "3"}, all[202:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := jsonlIDs(t, data, append(tt.args, "--sort", "date", "extradition")...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("csv --all", func(t *testing.T) {
		code, out, errOut := runSearchCmd(t, data, "--all", "--format", "csv", "--fields", "id,published", "extradition")
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if code != 0 || err != nil || len(rows) != n+1 {
			t.Fatalf("exit %d, %v, %d rows (stderr %s); want %d rows", code, err, len(rows), errOut, n+1)
		}
		if diff := cmp.Diff([]string{"id", "published"}, rows[0]); diff != "" {
			t.Errorf("header (-want +got):\n%s", diff)
		}
	})
}

func TestSearchExportFields(t *testing.T) {
	data := searchDataDir(t)
	t.Run("jsonl with body, no markers", func(t *testing.T) {
		code, out, errOut := runSearchCmd(t, data, "--format", "jsonl", "--fields", "id,body,fragment,label", "extradición", "--label", "kingpin")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(out), &rec); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"id": "a", "label": "kingpin",
			"body":     "La cancillería confirmó la extradición de un operador & socio.",
			"fragment": "La cancillería confirmó la extradición de un operador & socio."}
		if diff := cmp.Diff(want, rec); diff != "" {
			t.Errorf("record (-want +got):\n%s", diff)
		}
	})
	t.Run("csv with body", func(t *testing.T) {
		code, out, errOut := runSearchCmd(t, data, "--format", "csv", "--fields", "id,body,fragment", "--label", "mixed", "extradiciones")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		want := "id,body,fragment\nb,\"Durante el año hubo varias extradiciones, dijo la fiscalía.\",\"Durante el año hubo varias extradiciones, dijo la fiscalía.\"\n"
		if out != want || strings.ContainsAny(out, "«»") {
			t.Errorf("csv = %q, want %q", out, want)
		}
	})
}
