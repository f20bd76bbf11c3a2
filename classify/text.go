package classify

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// token is one word of a field: its folded form is folded[fstart:fend] of
// the owning [text], and it came from src[start:end].
type token struct {
	fstart, fend int32
	start, end   int32
	sent         int32 // sentence number within the field

	// Set when the text is prepared with a matcher: the id of the word
	// in the matcher's vocabulary, or -1, and the ids of the prefixes it
	// begins with, pre[preLo:preHi] of the owning text.
	id           int32
	preLo, preHi int32
}

// text is a field prepared for matching: every word lower-cased and
// stripped of accents, with byte offsets back into the original.
type text struct {
	src    string
	folded []byte
	toks   []token
	sents  []int32  // sents[s] is the first token of sentence s; the last entry is len(toks)
	pre    []int32  // ids of the prefixes the tokens begin with (see token.preLo)
	m      *matcher // the matcher the words are looked up in, or nil
	starts []int32  // the tokens a phrase of m can begin at
}

// isAbbreviation reports whether a following period does not end a
// sentence after the folded word w. Single letters ("U.S.", "a.k.a.",
// "J. Smith") are handled apart.
func isAbbreviation(w []byte) bool {
	switch string(w) {
	case "mr", "mrs", "ms", "dr", "st", "jr", "sr", "sra", "srta", "lic", "gen", "gral", "no", "num",
		"inc", "co", "corp", "ltd", "vs", "etc", "dept", "ee", "uu", "mich", "gto", "chis", "mpio", "col",
		"av", "approx", "aprox", "fig", "hon", "sen", "rep", "gob", "edo", "cd", "ing", "mtro", "mtra", "prof":
		return true
	}
	return false
}

// prepare tokenises src into t, reusing t's buffers. Words are maximal runs
// of letters, digits and combining marks; everything else separates them.
// Sentences end at newlines, '!', '?' and at periods that do not follow an
// abbreviation, join two digits or precede a lower-case word. When m is not
// nil, each word is also looked up in m's vocabulary (see token.id).
func (t *text) prepare(src string, m *matcher) {
	t.src = src
	t.m = m
	t.pre = t.pre[:0]
	t.starts = t.starts[:0]
	t.folded = t.folded[:0]
	t.toks = t.toks[:0]
	t.sents = t.sents[:0]
	var sep separator
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			if !isASCIIAlnum(c) {
				sep.add(rune(c))
				i++
				continue
			}
			t.startTok(i, rune(c), &sep)
			i = t.scanWord(src, i)
			continue
		}
		r, w := utf8.DecodeRuneInString(src[i:])
		if r == utf8.RuneError || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			// A combining mark outside a word separates, like punctuation.
			sep.add(r)
			i += w
			continue
		}
		t.startTok(i, r, &sep)
		i = t.scanWord(src, i)
	}
	t.sents = append(t.sents, int32(len(t.toks)))
}

// separator is the state of the run of non-word characters since the
// last word.
type separator struct {
	hardBreak bool // a newline, '!', '?', '…' or Unicode line/paragraph separator
	dotBreak  bool // a period
	n         int  // characters
}

// add notes separator character r.
func (s *separator) add(r rune) {
	switch r {
	case '\n', '!', '?', '\u2029', '\u2028', '\u2026':
		s.hardBreak = true
	case '.':
		s.dotBreak = true
	}
	s.n++
}

// startTok begins a token at src[i], whose first character is r, and
// resets sep.
func (t *text) startTok(i int, r rune, sep *separator) {
	sent := int32(len(t.sents)) - 1
	switch {
	case len(t.toks) == 0:
		sent = 0
		t.sents = append(t.sents, 0)
	case sep.hardBreak || sep.dotBreak && t.dotEndsSentence(r, sep.n == 1):
		sent++
		t.sents = append(t.sents, int32(len(t.toks)))
	}
	*sep = separator{}
	// Filling the new token in place is much faster than appending a
	// composite literal, which is built on the stack and copied.
	t.toks = append(t.toks, token{})
	tk := &t.toks[len(t.toks)-1]
	tk.fstart, tk.start, tk.sent = int32(len(t.folded)), int32(i), sent
}

// scanWord folds the word starting at src[i] into the last token, ends the
// token and returns the offset after the word.
func (t *text) scanWord(src string, i int) int {
	h := uint32(hashInit)
	folded := t.folded
	for i < len(src) {
		if c := src[i]; c < utf8.RuneSelf {
			if !isASCIIAlnum(c) {
				break
			}
			// Setting bit 0x20 lower-cases a letter and leaves a digit as
			// it is.
			c |= 0x20
			folded = append(folded, c)
			h = (h ^ uint32(c)) * hashPrime
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(src[i:])
		if unicode.Is(unicode.Mn, r) {
			i += w
			continue
		}
		if r == utf8.RuneError || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		n := len(folded)
		folded = appendFold(folded, r)
		h = hashBytes(h, folded[n:])
		i += w
	}
	t.folded = folded
	last := &t.toks[len(t.toks)-1]
	last.fend = int32(len(folded))
	last.end = int32(i)
	if t.m != nil {
		t.lookup(last, h)
	}
	return i
}

// lookup sets the vocabulary ids of tk, the last token, whose folded word
// hashes to h, and notes whether a phrase can begin at it.
func (t *text) lookup(tk *token, h uint32) {
	w := t.folded[tk.fstart:tk.fend]
	tk.id = t.m.wordID(w, h)
	tk.preLo = int32(len(t.pre))
	t.pre = t.m.appendPrefixes(t.pre, w)
	tk.preHi = int32(len(t.pre))
	if t.m.starts(tk, t.pre) {
		t.starts = append(t.starts, int32(len(t.toks)-1))
	}
}

// The FNV-1a hash of folded words that the matcher's vocabulary uses.
const (
	hashInit  = 2166136261
	hashPrime = 16777619
)

// hashBytes returns h extended over b.
func hashBytes[S string | []byte](h uint32, b S) uint32 {
	for i := 0; i < len(b); i++ {
		h = (h ^ uint32(b[i])) * hashPrime
	}
	return h
}

// hashWord returns the hash of a folded word.
func hashWord(w string) uint32 {
	return hashBytes(hashInit, w)
}

// dotEndsSentence reports whether a period between the last word and a word
// starting with next ends a sentence.
func (t *text) dotEndsSentence(next rune, onlyDot bool) bool {
	if unicode.IsLower(next) {
		return false
	}
	last := t.toks[len(t.toks)-1]
	prev := t.folded[last.fstart:last.fend]
	if utf8.RuneCount(prev) == 1 || isAbbreviation(prev) {
		return false
	}
	if onlyDot && unicode.IsDigit(next) && len(prev) > 0 && '0' <= prev[len(prev)-1] && prev[len(prev)-1] <= '9' {
		return false
	}
	return true
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9'
}

// appendFold appends r lower-cased and without diacritics.
func appendFold(dst []byte, r rune) []byte {
	r = unicode.ToLower(r)
	if r < utf8.RuneSelf {
		return append(dst, byte(r))
	}
	if b := foldLatin(r); b != 0 {
		return append(dst, b)
	}
	var enc [utf8.UTFMax]byte
	n := utf8.EncodeRune(enc[:], r)
	var dec [4 * utf8.UTFMax]byte
	d := norm.NFD.Append(dec[:0], enc[:n]...)
	for len(d) > 0 {
		c, w := utf8.DecodeRune(d)
		d = d[w:]
		if !unicode.Is(unicode.Mn, c) {
			dst = utf8.AppendRune(dst, c)
		}
	}
	return dst
}

// word returns the folded form of token i.
func (t *text) word(i int) string {
	tk := t.toks[i]
	return string(t.folded[tk.fstart:tk.fend])
}

// maxNameFiller is how many words a named phrase's name may follow it by
// ("the capture of alleged trafficker Juan Pérez").
const maxNameFiller = 3

// nameAfter returns the index after a name that follows the phrase ending
// before word j in the same sentence, or 0: two or more words that begin
// with a capital, after at most maxNameFiller other words, none of them a
// common word ("arrested in Mexico City" names no one).
func (t *text) nameAfter(j int) int {
	if j == 0 || j >= len(t.toks) {
		return 0
	}
	sent := t.toks[j-1].sent
	k := j
	for ; k < len(t.toks) && t.toks[k].sent == sent && !t.capitalised(k); k++ {
		tk := t.toks[k]
		if k-j == maxNameFiller || stopWords[string(t.folded[tk.fstart:tk.fend])] {
			return 0
		}
	}
	n := 0
	for ; k < len(t.toks) && t.toks[k].sent == sent && t.capitalised(k); k++ {
		n++
	}
	if n < 2 {
		return 0
	}
	return k
}

// capitalised reports whether word i begins with an upper-case letter.
func (t *text) capitalised(i int) bool {
	r, _ := utf8.DecodeRuneInString(t.src[t.toks[i].start:])
	return unicode.IsUpper(r)
}

// sentence returns the original text of the sentence holding token i.
func (t *text) sentence(i int) (start, end int) {
	s := t.toks[i].sent
	return int(t.toks[t.sents[s]].start), int(t.toks[t.sents[s+1]-1].end)
}

// foldLatin folds the accented lower-case letters of Spanish and its
// neighbours without the cost of a Unicode decomposition; 0 means r is not
// one of them.
func foldLatin(r rune) byte {
	switch r {
	case 'á', 'à', 'â', 'ä', 'ã', 'å':
		return 'a'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'í', 'ì', 'î', 'ï':
		return 'i'
	case 'ó', 'ò', 'ô', 'ö', 'õ':
		return 'o'
	case 'ú', 'ù', 'û', 'ü':
		return 'u'
	case 'ñ':
		return 'n'
	case 'ç':
		return 'c'
	}
	return 0
}
