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
//     (lower-cased, one term per value), for filters and facets. They have
//     no doc values: facets are counted from their postings (see below).
//   - month ("2025-06"): keyword field, indexed only, for date ranges.
//   - agency, rules_version: keyword fields, indexed only; rule: the IDs
//     of the rules whose evidence the verdict holds, indexed only.
//   - published: date field, indexed only, for date ranges; indexed_at:
//     date field, indexed only.
//   - day ("20250601"): keyword field with doc values, to sort by date.
//     A date field's doc values hold all its prefix-coded terms, about
//     sixteen per release, and decoding them dominated sorting.
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
// writer goroutines, merges its small segments, waits until it is
// persisted, then replaces the link with rename(2). Segments are merged up
// to 20,000 releases only (stored in the index's merge plan), which keeps
// the memory of merges, and so of indexing, bounded. An [Index] that has the
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
// its tokens required), a phrase a phrase query on each, a keyword value a
// term query, a prefix a prefix query, a date range a date range query;
// AND, OR and NOT become conjunction, disjunction and boolean queries.
//
// Phrases are matched by the package's own phrase query, which reads
// the postings of the phrase's words straight from each scorch segment:
// it walks their document numbers together, and only in the releases that
// hold every word does it decode the words' positions, check their order,
// and score the release (tf-idf, as Bleve's term searcher scores a word).
// It matches what Bleve's match-phrase query matches, with the same
// scores, several times faster: Bleve decodes every position of every
// word in every release that holds it, copies them into term vectors and
// matches them through maps. Decoding positions is still most of the work,
// and its answer for a segment never changes, as segments are never
// written again: so the releases of each segment that hold a phrase are
// kept with each word's frequency and norm there, found once (in parts,
// one per spare CPU, for large segments); later searches of the phrase
// score them from what is kept, without reading the index. The phrase
// searches of an [Index] reuse postings iterators from one search to the
// next: allocating less, they let the garbage collector run less often,
// and a search that overlaps a collection runs slower.
//
// Query words, and ORs of them, are searched by the package's own OR
// searcher, which walks the words' postings together and scores each
// release once, as Bleve's disjunctions would (tf-idf per word, times the
// share of operands that match), instead of passing every match through a
// searcher and a document match per level. Decoding the postings was then
// most of the work, and a segment's postings never change: so the
// postings of a word in a segment are kept as the releases and the word's
// tf times norm in each, and later searches of the word score them from
// memory (about a third faster for the highlighted query string of
// `atalaya bench`; a word's first search decodes as before).
//
// What is kept (filters' matches, phrases' matches, words' postings) is
// bounded in entries and bytes, the least recently used going first, and
// is dropped with its segment when a merge or a rebuild replaces it.
//
// Facets are not Bleve's, which read each match's values from compressed
// doc values. The search notes the document number of every match, per
// segment; then each match's values are looked up in the segment's facet
// values, read from the facet fields' postings once per segment and kept.
//
// The filters of a [Query] (and operands of the text that only exclude by
// keyword or date, such as NOT label:neither) are not scored and do not
// change the order of relevance. Their matches are kept as a bitset per
// segment, like a phrase's matches, and the text's matches are checked against
// them, skipping to the filters' next match. A date range that spans whole
// years is matched by year terms plus numeric ranges for the partial years
// at its ends, as a numeric range over years is slow.
//
// At most one search per CPU runs at once; the others wait their turn, in
// order, until their deadline ([ErrBusy]). While every CPU is searching,
// a search yields its CPU every few dozen matches, so that the short steps
// of other requests (reading one, writing an answer) are not held for the
// milliseconds a search takes, and requests are answered in turn.
//
// Highlighting reads term positions for the page's hits only, not for
// every match: for queries of words, the positions of each word in the
// segments that hold the hits, handed to Bleve's highlighter; for queries
// with phrases or prefixes, a second search of the query on the page's
// hits, with Bleve's match-phrase query, which reports the positions of
// the phrase alone.
//
// Sorting by date reads the day of every match, from the days of each
// segment kept with its facet values rather than from Bleve's compressed
// doc values; for queries that match many releases, [Index.Search] first
// looks for the page among the latest releases (a window of days sized
// from the query's matches per day) and widens the window only when it
// holds less than the page. Releases of one day come by ID, whichever way
// the index was built.
//
// All methods of [Index] are safe for concurrent use.
package index
