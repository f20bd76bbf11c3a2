package classify

import (
	"cmp"
	"maps"
	"slices"
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
	kindNamed                     // fires its rule when a name follows
)

// phrase is one compiled phrase: the rule it belongs to and its role.
type phrase struct {
	rule int
	kind phraseKind
	near int // index of the near clause, for kindNearA and kindNearB
	text string
}

// matcher finds every phrase of every rule in one scan of a text. Each
// word of the text is first looked up once in the phrases' vocabulary (a
// hash table of whole words and a byte trie of word prefixes, the pattern
// words ending in '*', as the text is prepared); a trie keyed by those word
// ids is then walked from every word a phrase can begin at, so the cost per
// word depends on the phrases' length, not on their number. A matcher is
// immutable once built.
type matcher struct {
	table   []slot     // open addressing over words; its length is a power of two
	shift   uint       // 32 - log2(len(table))
	words   []string   // whole words by id
	pnodes  []pnode    // byte trie of the prefixes; pnodes[0] is its root
	first   [256]int32 // the root's edges by byte; 0 means none
	short   bitset     // bit b0<<8|b1: a prefix is b0 or b0 b1
	long    bitset     // bit trigram(b0, b1, b2): a prefix longer than two bytes begins with b0 b1 b2
	nodes   []trieNode // nodes[0] is the root
	root    []int32    // the root's children by word id; 0 means none
	edges   []edge     // the other nodes' children, sorted by word id per node
	outs    []int32
	phrases []phrase
}

// slot is an entry of the word hash table; id is -1 in an empty slot.
type slot struct {
	hash uint32
	id   int32
}

// pnode is a node of the prefix byte trie: its edges by next byte and the
// id of the prefix that ends there, or -1.
type pnode struct {
	edges []pedge
	id    int32
}

type pedge struct {
	b    byte
	next int32
}

// trieNode is a node of the word trie: its children are edges[edgeLo:edgeHi]
// and the phrases ending at it outs[outLo:outHi].
type trieNode struct {
	edgeLo, edgeHi int32
	outLo, outHi   int32
}

// edge leads from a trie node to child over the word with id word.
type edge struct {
	word, child int32
}

// hit is one phrase found at words [from, to) of a text.
type hit struct {
	phrase   int32
	from, to int32
}

// matcherBuilder collects the phrases of a rules file; build turns them
// into a matcher.
type matcherBuilder struct {
	exact    map[string]int32 // whole word → id
	prefix   map[string]int32 // prefix → id, in the same id space
	ids      int32
	children []map[int32]int32 // per trie node: word id → child
	outs     [][]int32
	phrases  []phrase
}

func newMatcherBuilder() *matcherBuilder {
	return &matcherBuilder{exact: make(map[string]int32), prefix: make(map[string]int32), children: []map[int32]int32{nil}, outs: [][]int32{nil}}
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
	t.prepare(pattern, nil)
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

// add registers a compiled phrase.
func (b *matcherBuilder) add(words []patternWord, p phrase) {
	n := int32(0)
	for _, w := range words {
		id := b.wordID(w)
		if b.children[n] == nil {
			b.children[n] = make(map[int32]int32)
		}
		c, ok := b.children[n][id]
		if !ok {
			c = int32(len(b.children))
			b.children = append(b.children, nil)
			b.outs = append(b.outs, nil)
			b.children[n][id] = c
		}
		n = c
	}
	b.outs[n] = append(b.outs[n], int32(len(b.phrases)))
	b.phrases = append(b.phrases, p)
}

// wordID returns the id of a pattern word, assigning one if it is new.
func (b *matcherBuilder) wordID(w patternWord) int32 {
	ids := b.exact
	if w.prefix {
		ids = b.prefix
	}
	id, ok := ids[w.word]
	if !ok {
		id = b.ids
		b.ids++
		ids[w.word] = id
	}
	return id
}

// build returns the matcher of the phrases added so far.
func (b *matcherBuilder) build() *matcher {
	m := &matcher{phrases: b.phrases, nodes: make([]trieNode, len(b.children)), root: make([]int32, b.ids)}
	for n, children := range b.children {
		node := &m.nodes[n]
		ids := slices.Sorted(maps.Keys(children))
		node.edgeLo = int32(len(m.edges))
		for _, id := range ids {
			if n == 0 {
				m.root[id] = children[id]
				continue
			}
			m.edges = append(m.edges, edge{word: id, child: children[id]})
		}
		node.edgeHi = int32(len(m.edges))
		node.outLo = int32(len(m.outs))
		m.outs = append(m.outs, b.outs[n]...)
		node.outHi = int32(len(m.outs))
	}
	m.buildTable(b.exact)
	m.pnodes = []pnode{{id: -1}}
	for _, p := range slices.Sorted(maps.Keys(b.prefix)) {
		m.addPrefix(p, b.prefix[p])
	}
	for _, e := range m.pnodes[0].edges {
		m.first[e.b] = e.next
	}
	for p := range b.prefix {
		m.filterPrefix(p)
	}
	return m
}

// buildTable fills the word hash table, at most half full.
func (m *matcher) buildTable(exact map[string]int32) {
	size := 8
	m.shift = 32 - 3
	for size < 2*len(exact) {
		size *= 2
		m.shift--
	}
	m.table = make([]slot, size)
	for i := range m.table {
		m.table[i].id = -1
	}
	m.words = make([]string, len(m.root)) // prefix ids stay ""
	for w, id := range exact {
		m.words[id] = w
		h := hashWord(w)
		i := m.home(h)
		for m.table[i].id >= 0 {
			i = (i + 1) & (size - 1)
		}
		m.table[i] = slot{hash: h, id: id}
	}
}

// bitset is a set of 16-bit numbers.
type bitset [1 << 10]uint64

func (s *bitset) add(k int)      { s[k/64] |= 1 << (k % 64) }
func (s *bitset) has(k int) bool { return s[k/64]&(1<<(k%64)) != 0 }

// trigram hashes three bytes to 16 bits.
func trigram(b0, b1, b2 byte) int {
	return int((uint32(b0)<<16 | uint32(b1)<<8 | uint32(b2)) * 0x9e3779b1 >> 16)
}

// filterPrefix adds prefix p to the filters that let most words skip the
// prefix trie.
func (m *matcher) filterPrefix(p string) {
	switch len(p) {
	case 1:
		for b1 := range 256 {
			m.short.add(int(p[0])<<8 | b1)
		}
	case 2:
		m.short.add(int(p[0])<<8 | int(p[1]))
	default:
		m.long.add(trigram(p[0], p[1], p[2]))
	}
}

// mayHavePrefix reports whether w, two bytes or more, may begin with a
// prefix; false means it certainly does not.
func (m *matcher) mayHavePrefix(w []byte) bool {
	return m.short.has(int(w[0])<<8|int(w[1])) || len(w) > 2 && m.long.has(trigram(w[0], w[1], w[2]))
}

// addPrefix adds a prefix with its word id to the prefix byte trie.
func (m *matcher) addPrefix(prefix string, id int32) {
	p := int32(0)
	for i := 0; i < len(prefix); i++ {
		next := m.pstep(p, prefix[i])
		if next < 0 {
			m.pnodes = append(m.pnodes, pnode{id: -1})
			next = int32(len(m.pnodes) - 1)
			m.pnodes[p].edges = append(m.pnodes[p].edges, pedge{b: prefix[i], next: next})
		}
		p = next
	}
	m.pnodes[p].id = id
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

// home is the first slot of the word table to probe for hash h.
func (m *matcher) home(h uint32) int {
	return int((h * 0x9e3779b1) >> m.shift)
}

// wordID returns the id of the whole word w, whose hash is h, or -1.
func (m *matcher) wordID(w []byte, h uint32) int32 {
	mask := len(m.table) - 1
	for i := m.home(h); ; i = (i + 1) & mask {
		s := m.table[i]
		if s.id < 0 {
			return -1
		}
		if s.hash == h && m.words[s.id] == string(w) {
			return s.id
		}
	}
}

// appendPrefixes appends to ids the ids of the prefixes w begins with,
// shortest first.
func (m *matcher) appendPrefixes(ids []int32, w []byte) []int32 {
	if len(w) == 0 {
		return ids
	}
	if len(w) > 1 && !m.mayHavePrefix(w) {
		return ids
	}
	for p, k := m.first[w[0]], 1; p > 0; k++ {
		if id := m.pnodes[p].id; id >= 0 {
			ids = append(ids, id)
		}
		if k == len(w) {
			break
		}
		p = m.pstep(p, w[k])
	}
	return ids
}

// child returns the child of trie node n over word id, or 0.
func (m *matcher) child(n, id int32) int32 {
	if n == 0 {
		return m.root[id]
	}
	node := m.nodes[n]
	edges := m.edges[node.edgeLo:node.edgeHi]
	if len(edges) <= 8 {
		for _, e := range edges {
			if e.word == id {
				return e.child
			}
		}
		return 0
	}
	i, ok := slices.BinarySearchFunc(edges, id, func(e edge, id int32) int { return cmp.Compare(e.word, id) })
	if !ok {
		return 0
	}
	return edges[i].child
}

// scan appends to hits every phrase found in t, which must have been
// prepared with m. A phrase never spans two sentences.
func (m *matcher) scan(t *text, hits []hit) []hit {
	for _, i := range t.starts {
		hits = m.walk(t, 0, int(i), int(i), hits)
	}
	return hits
}

// starts reports whether a phrase can begin at token tk, whose prefix ids
// are in pre.
func (m *matcher) starts(tk *token, pre []int32) bool {
	if tk.id >= 0 && m.root[tk.id] > 0 {
		return true
	}
	for _, id := range pre[tk.preLo:tk.preHi] {
		if m.root[id] > 0 {
			return true
		}
	}
	return false
}

// walk follows trie node n over word j of a phrase starting at word from:
// first the whole word, then the prefixes it begins with, shortest first.
func (m *matcher) walk(t *text, n int32, from, j int, hits []hit) []hit {
	if j >= len(t.toks) || t.toks[j].sent != t.toks[from].sent {
		return hits
	}
	tk := &t.toks[j]
	if id := tk.id; id >= 0 {
		if c := m.child(n, id); c > 0 {
			hits = m.emit(c, from, j, hits)
			hits = m.walk(t, c, from, j+1, hits)
		}
	}
	for _, id := range t.pre[tk.preLo:tk.preHi] {
		if c := m.child(n, id); c > 0 {
			hits = m.emit(c, from, j, hits)
			hits = m.walk(t, c, from, j+1, hits)
		}
	}
	return hits
}

func (m *matcher) emit(n int32, from, j int, hits []hit) []hit {
	node := m.nodes[n]
	for _, p := range m.outs[node.outLo:node.outHi] {
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
