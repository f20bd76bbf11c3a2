package classify

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"atalaya"
)

func FuzzParse(f *testing.F) {
	f.Add(string(defaultRules))
	f.Add(header + "  - {id: a, label: kingpin, patterns: ['x*'], near: [{terms: [a, b], within: 1}]}\n")
	f.Add(header + "  - {id: a, label: kingpin, regex: ['(']}\n")
	f.Add("labels: [\n")
	f.Fuzz(func(t *testing.T, src string) {
		rs, err := Parse(strings.NewReader(src), "fuzz.yaml")
		if err != nil {
			if rs != nil {
				t.Fatalf("got rules and error %v, want only the error", err)
			}
			if !strings.HasPrefix(err.Error(), "classify: ") {
				t.Errorf("got error %q, want the classify: prefix", err)
			}
			return
		}
		again, err := Parse(strings.NewReader(src), "fuzz.yaml")
		if err != nil || again.Version() != rs.Version() || len(again.Rules()) != len(rs.Rules()) {
			t.Fatalf("second Parse differs: %v", err)
		}
		rs.ClassifyText("title", src, "")
	})
}

func FuzzClassify(f *testing.F) {
	f.Add("Man extradited", "He was extradited. The U.S. Treasury acted.", "en")
	f.Add("", "", "")
	f.Add("Detienen a Juan “N”", "La detención del presunto líder del grupo delictivo.", "es")
	f.Add("\xff\xfe", "cartel\xffleader\u0301 extradicio\u0301n", "es")
	f.Add("缉毒", "Полиция задержала лидера картеля.", "zh")
	rs := Default()
	f.Fuzz(func(t *testing.T, title, body, lang string) {
		v := rs.ClassifyText(title, body, atalaya.Language(lang))
		for _, e := range v.Evidence {
			src := body
			if e.Field == FieldTitle {
				src = title
			}
			if e.Start < 0 || e.Start > e.End || e.End > len(src) || src[e.Start:e.End] != e.Match {
				t.Fatalf("evidence %+v has offsets outside its field or a wrong match", e)
			}
		}
		if diff := cmp.Diff(v, rs.ClassifyText(title, body, atalaya.Language(lang))); diff != "" {
			t.Fatalf("second classification differs (-first +second):\n%s", diff)
		}
	})
}

func TestClassifyHugeBody(t *testing.T) {
	if testing.Short() {
		t.Skip("10 MB body")
	}
	unit := "La detención del presunto líder. Prevención de adicciones para jóvenes. \xff Картель. "
	body := strings.Repeat(unit, 10<<20/len(unit))
	v := Default().ClassifyText("", body, "es")
	if v.Label == "" || len(v.Evidence) == 0 {
		t.Errorf("got label %q with %d evidence on a 10 MB body, want a verdict with evidence", v.Label, len(v.Evidence))
	}
}

// FuzzWriteFitted checks that writing fitted weights into any rules file
// that compiles either fails with an error or gives a file that compiles
// with exactly those weights and thresholds.
func FuzzWriteFitted(f *testing.F) {
	f.Add(string(defaultRules), 2.5, 1.25)
	f.Add(fitRules, 0.0, 0.01)
	f.Add(header+"  - {id: a, label: kingpin, weight: 2, patterns: [x]}\n", 1.0, 3.0)
	f.Fuzz(func(t *testing.T, src string, weight, threshold float64) {
		rs, err := Parse(strings.NewReader(src), "fuzz.yaml")
		if err != nil || weight < 0 || threshold <= 0 || weight > 1e6 || threshold > 1e6 {
			return
		}
		fit := Fitted{Weights: make(map[string]float64), Thresholds: make(map[Label]float64)}
		for _, r := range rs.Rules() {
			fit.Weights[r.ID] = roundTo(weight, fitDecimals)
		}
		for _, l := range rs.Labels() {
			fit.Thresholds[l.Name] = max(minThreshold, roundTo(threshold, fitDecimals))
		}
		out, err := WriteFitted([]byte(src), fit)
		if err != nil {
			return
		}
		parseFitted(t, out, fit)
	})
}
