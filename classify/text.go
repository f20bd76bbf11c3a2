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
}

// text is a field prepared for matching: every word lower-cased and
// stripped of accents, with byte offsets back into the original.
type text struct {
	src    string
	folded []byte
	toks   []token
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
// abbreviation, join two digits or precede a lower-case word.
func (t *text) prepare(src string) {
	t.src = src
	t.folded = t.folded[:0]
	t.toks = t.toks[:0]
	var sent int32
	inTok := false
	hardBreak, dotBreak := false, false
	dotOnly := false // the separator since the last word is exactly "."
	sepLen := 0
	startTok := func(i int, r rune) {
		if len(t.toks) > 0 && (hardBreak || dotBreak && t.dotEndsSentence(r, dotOnly && sepLen == 1)) {
			sent++
		}
		hardBreak, dotBreak, sepLen = false, false, 0
		t.toks = append(t.toks, token{fstart: int32(len(t.folded)), start: int32(i), sent: sent})
		inTok = true
	}
	endTok := func(i int) {
		if inTok {
			last := &t.toks[len(t.toks)-1]
			last.fend = int32(len(t.folded))
			last.end = int32(i)
			inTok = false
		}
	}
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			if isASCIIAlnum(c) {
				if !inTok {
					startTok(i, rune(c))
				}
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				t.folded = append(t.folded, c)
				i++
				continue
			}
			endTok(i)
			switch c {
			case '\n', '!', '?':
				hardBreak = true
			case '.':
				dotBreak = true
				dotOnly = sepLen == 0
			}
			sepLen++
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(src[i:])
		switch {
		case unicode.Is(unicode.Mn, r):
			if inTok {
				i += w
				continue
			}
			sepLen++
		case r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if !inTok {
				startTok(i, r)
			}
			t.folded = appendFold(t.folded, r)
		default:
			endTok(i)
			if r == '\u2029' || r == '\u2028' || r == '\u2026' {
				hardBreak = true
			}
			sepLen++
		}
		i += w
	}
	endTok(len(src))
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
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
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

// sentence returns the original text of the sentence holding token i.
func (t *text) sentence(i int) (start, end int) {
	s := t.toks[i].sent
	lo, hi := i, i
	for lo > 0 && t.toks[lo-1].sent == s {
		lo--
	}
	for hi+1 < len(t.toks) && t.toks[hi+1].sent == s {
		hi++
	}
	return int(t.toks[lo].start), int(t.toks[hi].end)
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
