package classify

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// phraseKind says what a compiled phrase is for.
type phraseKind uint8

const (
	kindPattern phraseKind = iota // fires its rule
	kindUnless                    // suppresses its rule's matches in the same sentence
	kindNearA                     // first term of a near clause
	kindNearB                     // second term of a near clause
)

// phrase is one compiled phrase: the rule it belongs to and its role.
type phrase struct {
	rule int
	kind phraseKind
	near int // index of the near clause, for kindNearA and kindNearB
	text string
}

// trieNode is a node of the token trie. Children are reached by a whole
// folded word (exact) or by a word prefix (a pattern word ending in '*');
// the prefixes of a node form a byte trie rooted at pnodes[pre], so a word
// is checked against all of them in one walk over its bytes.
type trieNode struct {
	exact map[string]int32
	pre   int32 // root of the node's prefix byte trie; 0 when it has none
	out   []int32
}

// pnode is a node of a prefix byte trie: its edges by next byte and the
// token-trie node reached when a word begins with the bytes so far.
type pnode struct {
	edges []pedge
	child int32 // token-trie node, or -1
}

type pedge struct {
	b    byte
	next int32
}

// matcher finds every phrase of every rule in one scan of a text: at each
// word it walks a trie keyed by words, so the cost per word depends on the
// phrases' length, not on their number.
type matcher struct {
	nodes   []trieNode
	pnodes  []pnode // pnodes[0] is unused, so that 0 means "no prefix trie"
	phrases []phrase
}

// hit is one phrase found at words [from, to) of a text.
type hit struct {
	phrase   int32
	from, to int32
}

func newMatcher() *matcher {
	return &matcher{nodes: []trieNode{{}}, pnodes: []pnode{{child: -1}}}
}

// patternWord is one word of a compiled phrase.
type patternWord struct {
	word   string
	prefix bool
}

// compilePhrase splits a pattern into folded words. A word ending in '*'
// matches any word it begins. It reports a problem message, or "".
func compilePhrase(pattern string) ([]patternWord, string) {
	var t text
	t.prepare(pattern)
	if len(t.toks) == 0 {
		return nil, "empty pattern " + quote(pattern)
	}
	words := make([]patternWord, len(t.toks))
	for i, tk := range t.toks {
		words[i].word = t.word(i)
		if int(tk.end) < len(pattern) && pattern[tk.end] == '*' {
			words[i].prefix = true
			if rest := pattern[tk.end+1:]; rest != "" && startsWord(rest) {
				return nil, "wildcard '*' is allowed only at the end of a word, in " + quote(pattern)
			}
		}
	}
	if n := strings.Count(pattern, "*"); n != countPrefix(words) {
		return nil, "wildcard '*' is allowed only at the end of a word, in " + quote(pattern)
	}
	return words, ""
}

// startsWord reports whether s begins with a letter or digit.
func startsWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func countPrefix(words []patternWord) int {
	n := 0
	for _, w := range words {
		if w.prefix {
			n++
		}
	}
	return n
}

// add registers a compiled phrase and returns its index.
func (m *matcher) add(words []patternWord, p phrase) int {
	n := int32(0)
	for _, w := range words {
		n = m.child(n, w)
	}
	idx := len(m.phrases)
	m.phrases = append(m.phrases, p)
	m.nodes[n].out = append(m.nodes[n].out, int32(idx))
	return idx
}

func (m *matcher) child(n int32, w patternWord) int32 {
	if w.prefix {
		return m.prefixChild(n, w.word)
	}
	if m.nodes[n].exact == nil {
		m.nodes[n].exact = make(map[string]int32)
	}
	if c, ok := m.nodes[n].exact[w.word]; ok {
		return c
	}
	c := m.newNode()
	m.nodes[n].exact[w.word] = c
	return c
}

func (m *matcher) newNode() int32 {
	m.nodes = append(m.nodes, trieNode{})
	return int32(len(m.nodes) - 1)
}

// prefixChild returns the child of token node n for words beginning with
// prefix, adding it to n's prefix byte trie if needed.
func (m *matcher) prefixChild(n int32, prefix string) int32 {
	if m.nodes[n].pre == 0 {
		m.pnodes = append(m.pnodes, pnode{child: -1})
		m.nodes[n].pre = int32(len(m.pnodes) - 1)
	}
	p := m.nodes[n].pre
	for i := 0; i < len(prefix); i++ {
		next := m.pstep(p, prefix[i])
		if next < 0 {
			m.pnodes = append(m.pnodes, pnode{child: -1})
			next = int32(len(m.pnodes) - 1)
			m.pnodes[p].edges = append(m.pnodes[p].edges, pedge{b: prefix[i], next: next})
		}
		p = next
	}
	if m.pnodes[p].child < 0 {
		m.pnodes[p].child = m.newNode()
	}
	return m.pnodes[p].child
}

// pstep follows the edge of prefix node p for byte b, or returns -1.
func (m *matcher) pstep(p int32, b byte) int32 {
	for _, e := range m.pnodes[p].edges {
		if e.b == b {
			return e.next
		}
	}
	return -1
}

// scan appends to hits every phrase found in t. A phrase never spans two
// sentences.
func (m *matcher) scan(t *text, hits []hit) []hit {
	for i := range t.toks {
		hits = m.walk(t, 0, i, i, hits)
	}
	return hits
}

func (m *matcher) walk(t *text, n int32, from, j int, hits []hit) []hit {
	if j >= len(t.toks) || t.toks[j].sent != t.toks[from].sent {
		return hits
	}
	node := &m.nodes[n]
	tk := t.toks[j]
	w := t.folded[tk.fstart:tk.fend]
	if c, ok := node.exact[string(w)]; ok {
		hits = m.emit(c, from, j, hits)
		hits = m.walk(t, c, from, j+1, hits)
	}
	for p, k := node.pre, 0; p != 0 && k < len(w); k++ {
		if p = m.pstep(p, w[k]); p < 0 {
			break
		}
		if c := m.pnodes[p].child; c >= 0 {
			hits = m.emit(c, from, j, hits)
			hits = m.walk(t, c, from, j+1, hits)
		}
	}
	return hits
}

func (m *matcher) emit(n int32, from, j int, hits []hit) []hit {
	for _, p := range m.nodes[n].out {
		hits = append(hits, hit{phrase: p, from: int32(from), to: int32(j + 1)})
	}
	return hits
}

func quote(s string) string {
	const max = 60
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return strconv.Quote(s)
}
