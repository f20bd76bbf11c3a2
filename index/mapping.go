package index

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/es"
	"github.com/blevesearch/bleve/v2/mapping"

	"atalaya"
	"atalaya/classify"
)

// schemaVersion names the mapping and stored layout below. Change it with
// every change to either: an index of another version is refused with
// ErrIncompatible, and `atalaya reindex` rebuilds it.
const schemaVersion = "atalaya-index-7"

// schemaKey is the bleve internal key that holds schemaVersion.
var schemaKey = []byte("atalaya_schema")

// Index field names. Text fields exist once per language, so that each
// release is analysed with its own language's analyzer.
const (
	fieldTitleEN   = "title_en"
	fieldBodyEN    = "body_en"
	fieldTitleES   = "title_es"
	fieldBodyES    = "body_es"
	fieldLabel     = "label"
	fieldTheme     = "theme"
	fieldRule      = "rule"
	fieldSource    = "source"
	fieldAgency    = "agency"
	fieldCountry   = "country"
	fieldLanguage  = "language"
	fieldYear      = "year"
	fieldMonth     = "month"
	fieldDay       = "day"
	fieldRules     = "rules_version"
	fieldPublished = "published"
	fieldIndexed   = "indexed_at"
	fieldMeta      = "meta"
)

// facetFields are the fields Result.Facets counts.
var facetFields = []string{fieldLabel, fieldTheme, fieldSource, fieldCountry, fieldLanguage, fieldYear}

// textFieldsFor maps a query-language text field ("" for both) to the index
// fields it searches.
func textFieldsFor(field string) []string {
	switch field {
	case "title":
		return []string{fieldTitleEN, fieldTitleES}
	case "body":
		return []string{fieldBodyEN, fieldBodyES}
	}
	return []string{fieldTitleEN, fieldTitleES, fieldBodyEN, fieldBodyES}
}

// newMapping returns the index mapping; the package doc explains it.
func newMapping() mapping.IndexMapping {
	doc := bleve.NewDocumentStaticMapping()
	text := func(analyzer string, store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = store
		f.IncludeTermVectors = true // phrase queries and highlighting need positions
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	kw := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = docValues
		return f
	}
	date := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewDateTimeFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		f.DocValues = docValues
		return f
	}
	stored := bleve.NewTextFieldMapping()
	stored.Index = false
	stored.Store = true
	stored.IncludeInAll = false
	stored.IncludeTermVectors = false
	stored.DocValues = false
	stored.Analyzer = keyword.Name

	doc.AddFieldMappingsAt(fieldTitleEN, text(en.AnalyzerName, false))
	doc.AddFieldMappingsAt(fieldBodyEN, text(en.AnalyzerName, true))
	doc.AddFieldMappingsAt(fieldTitleES, text(es.AnalyzerName, false))
	doc.AddFieldMappingsAt(fieldBodyES, text(es.AnalyzerName, true))
	for _, f := range facetFields {
		doc.AddFieldMappingsAt(f, kw(false))
	}
	doc.AddFieldMappingsAt(fieldMonth, kw(false))
	doc.AddFieldMappingsAt(fieldDay, kw(true))
	doc.AddFieldMappingsAt(fieldAgency, kw(false))
	doc.AddFieldMappingsAt(fieldRule, kw(false))
	doc.AddFieldMappingsAt(fieldRules, kw(false))
	doc.AddFieldMappingsAt(fieldPublished, date(false))
	doc.AddFieldMappingsAt(fieldIndexed, date(false))
	doc.AddFieldMappingsAt(fieldMeta, stored)

	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = keyword.Name
	m.IndexDynamic = false
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	return m
}

// stored is what the meta field holds: the document without the body, which
// is stored once, in its body field.
type stored struct {
	Release   atalaya.Release
	Verdict   classify.Verdict
	IndexedAt time.Time
}

// docID returns the key of d in the index: the release ID, derived from the
// canonical URL when empty.
func docID(d *Document) atalaya.ID {
	if d.Release.ID != "" {
		return d.Release.ID
	}
	return atalaya.NewID(d.Release.URL)
}

// firedRules returns the distinct IDs of the rules behind evidence, in
// lower case: the rule field, so that rule:ID finds every release a rule
// fired on.
func firedRules(evidence []classify.Evidence) []string {
	var ids []string
	for _, ev := range evidence {
		id := strings.ToLower(ev.Rule)
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// fieldsOf returns the fields bleve indexes for d.
func fieldsOf(d *Document) (map[string]any, error) {
	if err := check(d); err != nil {
		return nil, err
	}
	r := &d.Release
	titleField, bodyField := fieldTitleEN, fieldBodyEN
	if r.Language == atalaya.Spanish {
		titleField, bodyField = fieldTitleES, fieldBodyES
	}
	meta := stored{Release: *r, Verdict: d.Verdict, IndexedAt: d.IndexedAt}
	meta.Release.Body = ""
	metaJSON, err := json.Marshal(&meta)
	if err != nil {
		return nil, fmt.Errorf("index: release %s: encoding stored fields: %v", docID(d), err)
	}
	themes := make([]string, len(d.Verdict.Themes))
	for i, t := range d.Verdict.Themes {
		themes[i] = strings.ToLower(t)
	}
	f := map[string]any{
		fieldRule:     firedRules(d.Verdict.Evidence),
		titleField:    r.Title,
		bodyField:     r.Body,
		fieldLabel:    strings.ToLower(string(d.Verdict.Label)),
		fieldTheme:    themes,
		fieldSource:   strings.ToLower(string(r.Source)),
		fieldAgency:   strings.ToLower(r.Agency),
		fieldCountry:  strings.ToLower(string(r.Country)),
		fieldLanguage: strings.ToLower(string(r.Language)),
		fieldRules:    d.Verdict.RulesVersion,
		fieldMeta:     string(metaJSON),
	}
	if !r.Published.IsZero() {
		f[fieldPublished] = r.Published
		f[fieldYear] = strconv.Itoa(r.Published.Year())
		f[fieldMonth] = r.Published.Format("2006-01")
		f[fieldDay] = r.Published.Format("20060102")
	}
	if !d.IndexedAt.IsZero() {
		f[fieldIndexed] = d.IndexedAt
	}
	return f, nil
}
