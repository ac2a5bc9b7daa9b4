package postgres

import (
	"sort"
	"strconv"
	"strings"

	"github.com/refeed/refeed/storage/search"
)

// PostgreSQL's limits on a tsvector: positions run to 16,383 (later ones
// are all stored as 16,383, which would make false phrases), a lexeme is
// at most 2,047 bytes and the whole value under 1 MB. Text past them is
// not indexed: a post's first 16,383 words (Chinese: pairs) are searchable,
// as on every search engine with a limit; its non-indexable terms still
// match body_text in full.
const (
	maxPosition    = 16383
	maxLexemeBytes = 2046
	maxVectorBytes = 512 << 10 // distinct lexemes' bytes, well under 1 MB with their positions
)

// tsvector is the text form of a post's index: the words (package search)
// of its title, then of its body, with their positions. A position is left
// out between the two, so a phrase never runs from the title into the
// body (FTS5 matches a phrase within one column).
func tsvector(title, body string) string {
	pos := map[string][]int{}
	size := 0
	n := 0
	add := func(words []string) bool {
		for _, w := range words {
			if n++; n > maxPosition {
				return false
			}
			if len(w) > maxLexemeBytes {
				continue
			}
			p, ok := pos[w]
			if !ok {
				if size += len(w) + 8; size > maxVectorBytes {
					return false
				}
			}
			pos[w] = append(p, n)
		}
		return true
	}
	if add(search.Words(search.Title(title))) {
		n++ // the gap
		add(search.Words(search.Tokens(body)))
	}
	lexemes := make([]string, 0, len(pos))
	for w := range pos {
		lexemes = append(lexemes, w)
	}
	sort.Strings(lexemes)
	var b strings.Builder
	for i, w := range lexemes {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeLexeme(&b, w)
		b.WriteByte(':')
		for j, p := range pos[w] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(p))
		}
	}
	return b.String()
}

// writeLexeme writes w quoted for tsvector and tsquery input.
func writeLexeme(b *strings.Builder, w string) {
	b.WriteByte('\'')
	for _, r := range w {
		if r == '\'' || r == '\\' {
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
}

// tsquery is the text form of the query for the indexable terms of a
// search: each term a phrase of its words (<->), its last word a prefix
// (:*) when search.Prefix says so, all terms required (&). It is "" when
// no term is indexable.
func tsquery(terms []string) string {
	var b strings.Builder
	for _, term := range terms {
		if !search.Indexable(term) {
			continue
		}
		words := search.Words(search.Tokens(term))
		if len(words) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(" & ")
		}
		b.WriteByte('(')
		for i, w := range words {
			if i > 0 {
				b.WriteString(" <-> ")
			}
			writeLexeme(&b, w)
			if i == len(words)-1 && search.Prefix(term) {
				b.WriteString(":*")
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}
