package index

import (
	"context"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveapi "github.com/blevesearch/bleve_index_api"
)

// filterQuery matches what q matches without scoring it: the filters of a
// Query (labels, sources, dates…) narrow the matches of its text without
// changing their order. Unscored, the term queries under q become one
// bitmap operation in bleve ("unadorned" conjunctions and disjunctions)
// instead of a merge of postings lists, each with its frequencies.
type filterQuery struct {
	q query.Query
}

// Searcher returns the searcher of the filter in the index i.
func (f *filterQuery) Searcher(ctx context.Context, i bleveapi.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	options.Score = "none"
	options.IncludeTermVectors = false
	options.Explain = false
	return f.q.Searcher(ctx, i, m, options)
}
