package api

import (
	"atalaya/archive"
	"atalaya/index"
)

// The conversions below give the command line the API's JSON forms, so
// that `atalaya … --json` and the HTTP API answer with the same keys.

// HitDTOOf returns the API form of a search hit.
func HitDTOOf(h index.Hit) HitDTO { return hitDTO(h) }

// FacetDTOsOf returns the API form of a result's facet counts; nil when
// the result has none.
func FacetDTOsOf(facets map[string][]index.FacetCount) map[string][]FacetDTO {
	if facets == nil {
		return nil
	}
	out := make(map[string][]FacetDTO, len(facets))
	for name, counts := range facets {
		list := make([]FacetDTO, 0, len(counts))
		for _, c := range counts {
			list = append(list, FacetDTO{Value: c.Value, Count: c.Count})
		}
		out[name] = list
	}
	return out
}

// ExportRecordOf returns the export record (JSON Lines and CSV) of an
// indexed document.
func ExportRecordOf(d index.Document) ExportRecord { return exportRecord(d) }

// SourceDTOOf returns the API form of a configured source and its status
// in the archive (zero when it was never crawled), without schedule state.
func SourceDTOOf(src Source, st archive.SourceStatus) SourceDTO {
	d := SourceDTO{
		ID: string(src.ID), Agency: src.Agency, Country: string(src.Country), Language: string(src.Language),
		Enabled: src.Enabled, Schedule: src.Schedule, Releases: st.Releases, Issues: issueDTOs(st.Issues),
	}
	if !st.LastRun.Finished.IsZero() || !st.LastRun.Started.IsZero() {
		run := RunDTOOf(archive.RunRecord{CrawlRun: st.LastRun})
		d.LastRun = &run
	}
	return d
}
