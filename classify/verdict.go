package classify

// Label is a verdict label. The labels a rule can carry are declared in the
// rules file (the default declares "kingpin" and "root_cause"); a verdict's
// label is one of those, [Mixed] or [Neither].
type Label string

// Verdict labels that every rule set has.
const (
	Mixed   Label = "mixed"   // two or more declared labels scored over their thresholds
	Neither Label = "neither" // no declared label did
)

// Verdict is the classification of one release, with the evidence for it.
type Verdict struct {
	Label        Label
	Scores       map[Label]float64 // per declared label
	Themes       []string          // themes of the label rules that fired, sorted, distinct
	Relevant     bool              // about drugs, organized crime or security at all
	Topics       []string          // topic rules that fired, sorted, distinct
	RulesVersion string            // hash of the rules file the verdict was made with
	Evidence     []Evidence
	NearMisses   []NearMiss
}

// Evidence is one rule firing.
type Evidence struct {
	Rule     string
	Label    Label  // empty for topic rules
	Topic    string // empty for label rules
	Theme    string
	Field    string // "title" or "body"
	Start    int    // byte offsets of the match in the field
	End      int
	Match    string
	Sentence string // the sentence around the match
	Weight   float64
}

// NearMiss is a rule whose pattern matched but that did not count: an
// unless phrase suppressed it, or a label scored below its threshold.
type NearMiss struct {
	Rule   string
	Label  Label
	Reason string
	Score  float64
}
