// Package search holds refeed's search rules, the same on every backend:
// what text of a post is indexed, how Chinese, Japanese and Korean text is
// cut into tokens (overlapping two-character pieces), how a query splits
// into terms, and which terms an index can find. A backend stores the
// tokens and matches them in its own query language (SQLite FTS5 phrases,
// PostgreSQL tsquery); it decides none of this.
package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/refeed/refeed/storage/htmltext"
)

// Text is the plain text of a post's body that search matches: the
// content's, or the summary's when there is no content. Markup never
// matches, not even its punctuation.
func Text(content, summary string) string {
	if strings.TrimSpace(content) == "" {
		content = summary
	}
	return htmltext.Text(content)
}

// ScanText is Text by htmltext.Scan, which skips the tokenizer: what a
// backend matches terms the index cannot find against, in every post a
// search scans. For a term (no white space) it matches where Text does.
func ScanText(content, summary string) string {
	if strings.TrimSpace(content) == "" {
		content = summary
	}
	return htmltext.Scan(content)
}

// Body is Text as indexed, in tokens (Tokens).
func Body(content, summary string) string { return Tokens(Text(content, summary)) }

// Title is a post's title as indexed.
func Title(title string) string { return Tokens(title) }

// Terms splits a search into whitespace-separated terms. Each term is
// matched as a substring of the title or the text; all must match.
func Terms(q string) []string {
	return strings.FieldsFunc(strings.ReplaceAll(q, "\x00", ""), unicode.IsSpace)
}

// Indexable reports whether the search index can find term: it has letters
// or digits, and no lone CJK character (the index holds CJK text as pairs).
// A backend matches other terms against the title and Text as substrings.
func Indexable(term string) bool { return hasToken(term) && !shortCJKRun(term) }

// Prefix reports whether a term matches as a prefix in the index ("fox"
// finds "foxes"): it ends in a letter or digit that is not CJK.
func Prefix(term string) bool {
	last, _ := utf8.DecodeLastRuneInString(term)
	return !IsCJK(last) && (unicode.IsLetter(last) || unicode.IsNumber(last))
}

// IsCJK reports whether r is written without spaces between words: Han,
// Hiragana, Katakana, Hangul.
func IsCJK(r rune) bool {
	if r < 0x2e80 {
		return false
	}
	return r == 'ー' || unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// Tokens rewrites text for the search index: every run of CJK characters
// becomes its overlapping two-character pieces, separated by spaces
// ("个人所得税" → "个人 人所 所得 得税"), so that the word tokenizer finds
// Chinese words of two or more characters as phrases of adjacent pieces.
// Other text is left to the tokenizer. A CJK run of one character stays as
// it is.
func Tokens(text string) string {
	// Fast path: no CJK at all.
	cjk := false
	for _, r := range text {
		if IsCJK(r) {
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
		if !IsCJK(r) {
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
		if IsCJK(r) {
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

// Words splits indexed text (Tokens' output) into the words an index
// holds, as SQLite FTS5's unicode61 tokenizer with remove_diacritics 2
// does: runs of letters and numbers (and private-use characters), folded
// to lower case with diacritics removed ("Café" → "cafe"). A backend whose
// own tokenizer differs (PostgreSQL's parser depends on the database's
// locale) indexes and queries these words, so that both find the same.
func Words(indexed string) []string {
	var words []string
	EachWord(indexed, func(w []byte) { words = append(words, string(w)) })
	return words
}

// EachWord calls fn with each of Words' words, in a buffer fn must not
// keep.
func EachWord(indexed string, fn func(word []byte)) {
	var w []byte
	for _, r := range indexed {
		switch {
		case r < 0x80:
			switch {
			case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
				w = append(w, byte(r))
				continue
			case 'A' <= r && r <= 'Z':
				w = append(w, byte(r+'a'-'A'))
				continue
			}
		case r >= 0x4e00 && r <= 0x9fff, r >= 0x3041 && r <= 0x3096, r >= 0x30a1 && r <= 0x30fa:
			w = utf8.AppendRune(w, r) // CJK ideographs, kana: letters without case (a fast path)
			continue
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r):
			w = utf8.AppendRune(w, fold(r))
			continue
		case unicode.Is(unicode.Mn, r) && len(w) > 0:
			continue // a combining mark inside a word: a diacritic, removed
		}
		if len(w) > 0 {
			fn(w)
			w = w[:0]
		}
	}
	if len(w) > 0 {
		fn(w)
	}
}

// fold is r lower-cased and without its diacritic, if it has one (its
// canonical decomposition's first rune). Only scripts below U+2000 have
// letters with diacritics that decompose so.
func fold(r rune) rune {
	r = unicode.ToLower(r)
	if r < 0xC0 || r >= 0x2000 {
		return r
	}
	var buf [utf8.UTFMax * 4]byte
	d := norm.NFD.AppendString(buf[:0], string(r))
	base, n := utf8.DecodeRune(d)
	if n == len(d) || base == utf8.RuneError {
		return r // no decomposition
	}
	for _, m := range string(d[n:]) {
		if !unicode.Is(unicode.Mn, m) {
			return r
		}
	}
	return base
}
