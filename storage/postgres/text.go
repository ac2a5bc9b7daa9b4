package postgres

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
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
// of its title, then of its body, with their positions. A position is
// left out between the two, so a phrase never runs from the title into the
// body (FTS5 matches a phrase within one column). Lexemes are written
// sorted and each once, with all its positions, as the server stores them:
// its input then only checks the order instead of sorting and merging.
func tsvector(title, body string) string {
	// key is a word's first 8 bytes, big-endian and zero-padded: most
	// words (a CJK pair is 6 bytes) compare by it alone.
	type occ struct {
		key           uint64
		off, len, pos int32
	}
	title = search.Title(title)
	body = search.Tokens(body)
	arena := make([]byte, 0, len(title)+len(body))
	occs := make([]occ, 0, (len(title)+len(body))/4)
	n, full := 0, false
	add := func(w []byte) {
		if full {
			return
		}
		if n++; n > maxPosition || len(arena) > maxVectorBytes {
			full = true
			return
		}
		if len(w) > maxLexemeBytes {
			return
		}
		var k [8]byte
		copy(k[:], w)
		occs = append(occs, occ{key: binary.BigEndian.Uint64(k[:]), off: int32(len(arena)), len: int32(len(w)), pos: int32(n)})
		arena = append(arena, w...)
	}
	search.EachWord(title, add)
	n++ // the gap
	search.EachWord(body, add)
	word := func(o occ) []byte { return arena[o.off : o.off+o.len] }
	slices.SortFunc(occs, func(a, b occ) int {
		switch {
		case a.key != b.key:
			return cmp.Compare(a.key, b.key)
		case a.len > 8 || b.len > 8:
			if c := bytes.Compare(word(a), word(b)); c != 0 {
				return c
			}
		case a.len != b.len: // "ab" and "ab\x00…" cannot both be words, but lengths still order
			return cmp.Compare(a.len, b.len)
		}
		return cmp.Compare(a.pos, b.pos)
	})
	b := make([]byte, 0, len(arena)+len(occs)*8)
	for i, o := range occs {
		if i > 0 && occs[i-1].key == o.key && bytes.Equal(word(occs[i-1]), word(o)) {
			b = append(b, ',')
		} else {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendLexeme(b, word(o))
			b = append(b, ':')
		}
		b = strconv.AppendInt(b, int64(o.pos), 10)
	}
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
