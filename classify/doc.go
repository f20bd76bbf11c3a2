// Package classify decides whether a press release announces kingpin-style
// enforcement, a root-cause measure, both (mixed) or neither, and says why.
//
// # Rules
//
// The rules are data: a YAML file (the default is embedded from
// rules/default.yaml and documented there) declares the labels with their
// thresholds, the themes and topics, the scoring parameters and the rules.
// [Parse] compiles a file and reports every problem with its file:line and
// rule id; [Default] returns the embedded rules. Each rule carries example
// sentences that [Rules.Check] runs.
//
// # Matching
//
// Every field is folded once (lower case, accents removed, offsets kept
// into the original text) and split into words and sentences; as it is
// folded, each word is looked up once in the rules' vocabulary (a hash
// table of whole words, and a byte trie of the wildcard prefixes behind a
// filter that most words fail). The field is then scanned once by a trie
// keyed by those word ids that holds every phrase of every rule, starting
// only at the words a phrase can begin with, so the cost per byte barely
// grows with the number of rules. Regular expressions run as an extra pass
// for the few rules that declare them. The buffers of a classification are
// pooled per [Rules], so it allocates little more than its [Verdict].
//
// # Scoring
//
// A label's score is the sum of the weights of its distinct rules that
// fired, title matches multiplied by the title factor; thresholds and a
// ratio from the file decide the label. The [Verdict] carries the scores,
// themes, topics, relevance, rules version, evidence and near misses.
//
// [Evaluate], [Diff] and [Codebook] audit a rule set against a gold file.
//
// Classification does no I/O and reads no clock; a [Rules] value is
// immutable and safe for concurrent use by multiple goroutines.
package classify
