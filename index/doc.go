// Package index stores classified releases in a Bleve index and searches
// them. It is the only package that imports Bleve; nothing of Bleve's API
// leaks out of it.
//
// # Documents
//
// One Bleve document per release, keyed by the release ID (derived from the
// canonical URL, see [atalaya.NewID]), so indexing a release again replaces
// it. [Index.Get] rebuilds the whole [Document] (release, body, verdict with
// evidence, indexing time) from what is stored; search hits carry the fields
// a result list shows ([Hit]).
//
// # Mapping
//
// The mapping is static: fields not listed here are neither indexed nor
// stored, and there is no _all field.
//
//   - title_en, body_en and title_es, body_es: the title and body, analysed
//     with Bleve's English analyzer (porter stemmer, English stop words) for
//     English releases and its Spanish analyzer (light stemmer, accent
//     folding, Spanish stop words) for Spanish ones. A release fills only the
//     pair of its language. Queries search all four, so one query covers both
//     languages. Term vectors are kept, as phrase queries and highlighting
//     need positions. Only the body is stored, for highlighting and Get.
//   - label, theme, source, country, language, year: keyword fields
//     (lower-cased, one term per value) with doc values, for filters and
//     facets.
//   - agency, rules_version: keyword fields, indexed only.
//   - published: date field with doc values (date ranges and sorting by
//     date); indexed_at: date field, indexed only.
//   - meta: stored only, not indexed: the release without its body, the
//     verdict and the indexing time, as JSON. Hits and Get decode it, so
//     no keyword field needs to be stored.
//
// The layout has a version (schemaVersion). Open refuses an index of
// another version, or one it cannot read, with [ErrIncompatible], whose
// message tells to run `atalaya reindex`.
//
// # On disk
//
// The index directory (data/index) is a symbolic link to a generation
// directory beside it (data/index.gen-…). [Rebuild] writes a whole new
// generation, with no fsync per batch (scorch's unsafe_batch), from two
// writer goroutines, merges it into one segment, waits until it is
// persisted, then replaces the link with rename(2). An [Index] that has the
// directory open switches to the new generation on its next call. An
// interrupted rebuild never touches the link, so the old index stays
// usable; its leftovers are removed by the next Open or Rebuild.
//
// Bleve's root file is locked while an index is open: a second process
// opening the same index gets [ErrLocked] after Options.LockTimeout instead
// of waiting.
//
// # Queries
//
// [Parse] reads the query language documented in QUERY.md (AND, OR, NOT,
// -, parentheses, phrases, field:value, prefixes, date ranges) into an
// [Expr], which [Index.Search] translates into Bleve queries: a word becomes
// a match query on each text field (analysed by that field's analyzer, all
// its tokens required), a phrase a match-phrase query on each, a keyword
// value a term query, a prefix a prefix query, a date range a date range
// query; AND, OR and NOT become conjunction, disjunction and boolean
// queries. The filters of a [Query] are ANDed with its text.
//
// All methods of [Index] are safe for concurrent use.
package index
