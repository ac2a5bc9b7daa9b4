package postgres

import (
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
	maxVectorBytes = 512 << 10 // of the text form: its lexemes and positions stay well under 1 MB
)

// tsvector is the text form of a post's index: the words (package search)
// of its title, then of its body, each with its position. A position is
// left out between the two, so a phrase never runs from the title into the
// body (FTS5 matches a phrase within one column). Words are written as
// they come, repeated ones too: PostgreSQL's tsvector input sorts the
// lexemes and merges their positions itself, faster than a map here.
func tsvector(title, body string) string {
	var b []byte
	n := 0
	full := false
	add := func(w []byte) {
		if full {
			return
		}
		if n++; n > maxPosition || len(b) > maxVectorBytes {
			full = true
			return
		}
		if len(w) > maxLexemeBytes {
			return
		}
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = appendLexeme(b, w)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(n), 10)
	}
	title = search.Title(title)
	body = search.Tokens(body)
	b = make([]byte, 0, len(title)+len(body)*2)
	search.EachWord(title, add)
	n++ // the gap
	search.EachWord(body, add)
	return string(b)
}

// appendLexeme appends w quoted for tsvector and tsquery input.
func appendLexeme(b, w []byte) []byte {
	b = append(b, '\'')
	for _, c := range w {
		if c == '\'' || c == '\\' {
			b = append(b, c)
		}
		b = append(b, c)
	}
	return append(b, '\'')
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
