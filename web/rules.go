package web

import (
	"net/http"
	"net/url"
	"strings"

	"atalaya/classify"
	"atalaya/index"
)

// ruleView is one rule as the rules page shows it.
type ruleView struct {
	classify.Rule
	Languages string
	Fields    string
	// Releases counts the indexed releases the rule fired on (rule:ID);
	// SearchURL lists them.
	Releases  uint64
	SearchURL string
	Gold      *classify.RuleStats
}

// rulesData is what the rules page shows.
type rulesData struct {
	Name     string
	Version  string
	Labels   []classify.LabelDef
	Scoring  classify.Scoring
	Rules    []ruleView
	HasGold  bool
	GoldF1   float64
	CountErr string
}

// rules serves the rules in force.
func (h *handler) rulesPage(w http.ResponseWriter, r *http.Request) {
	rs := h.rules()
	if rs == nil {
		h.errorPage(w, r, http.StatusNotFound, "No rules", "This server was started without classification rules.")
		return
	}
	data := rulesData{Name: rs.Name(), Version: rs.Version(), Labels: rs.Labels(), Scoring: rs.Scoring(), HasGold: h.deps.Gold != nil}
	if h.deps.Gold != nil {
		data.GoldF1 = h.deps.Gold.MacroF1
	}
	counted := true
	for _, rule := range rs.Rules() {
		v := ruleView{Rule: rule, Languages: "all", Fields: "title and body"}
		if len(rule.Languages) > 0 {
			var langs []string
			for _, l := range rule.Languages {
				langs = append(langs, string(l))
			}
			v.Languages = strings.Join(langs, ", ")
		}
		if len(rule.Fields) > 0 {
			v.Fields = strings.Join(rule.Fields, ", ")
		}
		if counted {
			q := ruleQuery(rule.ID)
			res, err := h.deps.Index.Search(r.Context(), index.Query{Text: q, Size: 1})
			if err != nil {
				h.log.Warn("count releases per rule", "rule", rule.ID, "error", err)
				data.CountErr = "The releases per rule could not be counted; the error is in the server's log."
				counted = false
			} else {
				v.Releases = res.Total
				v.SearchURL = searchURL(url.Values{"q": {q}})
			}
		}
		if h.deps.Gold != nil {
			for i := range h.deps.Gold.Rules {
				if h.deps.Gold.Rules[i].ID == rule.ID {
					v.Gold = &h.deps.Gold.Rules[i]
				}
			}
		}
		data.Rules = append(data.Rules, v)
	}
	h.render(w, r, http.StatusOK, "rules", "Rules", data)
}

// ruleQuery is the query that finds the releases rule id fired on.
func ruleQuery(id string) string {
	return `rule:"` + id + `"`
}
