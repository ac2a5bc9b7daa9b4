package sqlite

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// isCJK reports whether r is written without spaces between words: Han,
// Hiragana, Katakana, Hangul.
func isCJK(r rune) bool {
	if r < 0x2e80 {
		return false
	}
	return r == 'ー' || unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// bigrams rewrites text for the search index: every run of CJK characters
// becomes its overlapping two-character pieces, separated by spaces
// ("个人所得税" → "个人 人所 所得 得税"), so that the word tokenizer finds
// Chinese words of two or more characters as phrases of adjacent pieces.
// Other text is left to the tokenizer. A CJK run of one character stays as
// it is.
func bigrams(text string) string {
	// Fast path: no CJK at all.
	cjk := false
	for _, r := range text {
		if isCJK(r) {
			cjk = true
			break
		}
	}
	if !cjk {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) * 2)
	var prev rune // previous CJK rune of the current run, or 0
	runLen := 0
	for _, r := range text {
		if !isCJK(r) {
			if runLen == 1 {
				b.WriteRune(prev)
			}
			if runLen > 0 {
				b.WriteByte(' ')
			}
			prev, runLen = 0, 0
			b.WriteRune(r)
			continue
		}
		switch {
		case runLen == 0 && b.Len() > 0:
			b.WriteByte(' ') // "A股" must not be one token
		case runLen > 0:
			if runLen > 1 {
				b.WriteByte(' ')
			}
			b.WriteRune(prev)
			b.WriteRune(r)
		}
		prev = r
		runLen++
	}
	if runLen == 1 {
		b.WriteRune(prev)
	}
	return b.String()
}

// hasToken reports whether the word tokenizer finds anything in s: a letter
// or a number.
func hasToken(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			return true
		}
	}
	return false
}

// shortCJKRun reports whether s has a run of exactly one CJK character,
// which the bigram index cannot find everywhere it occurs.
func shortCJKRun(s string) bool {
	runLen := 0
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		s = s[n:]
		if isCJK(r) {
			runLen++
			continue
		}
		if runLen == 1 {
			return true
		}
		runLen = 0
	}
	return runLen == 1
}
