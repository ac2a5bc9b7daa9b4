package sqlite

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// searchText is the text of a post's body as indexed for search: the
// content, or the summary when there is no content, without markup.
func searchText(content, summary string) string {
	if strings.TrimSpace(content) == "" {
		content = summary
	}
	return bigrams(stripTags(content))
}

// stripTags removes HTML tags and comments, replacing each with a space so
// that words on either side do not join, and decodes entities. The content
// is sanitised already, so no script or style text is expected.
func stripTags(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		end := ">"
		if strings.HasPrefix(s, "<!--") {
			end = "-->"
		}
		j := strings.Index(s, end)
		if j < 0 {
			break // unterminated tag: drop the rest
		}
		s = s[j+len(end):]
		b.WriteByte(' ')
	}
	return html.UnescapeString(b.String())
}

// searchTerms splits a search into whitespace-separated terms. Each term is
// matched as a substring; all must match.
func searchTerms(q string) []string {
	return strings.FieldsFunc(q, unicode.IsSpace)
}

// ftsPhrase quotes a term as an FTS5 phrase, so that no character in it
// (", *, (, AND, NEAR, -, :) has a meaning to the query parser. CJK runs are
// rewritten as in the index; a term ending in a letter or digit matches as
// a prefix ("fox" finds "foxes").
func ftsPhrase(term string) string {
	phrase := `"` + strings.ReplaceAll(bigrams(term), `"`, `""`) + `"`
	if last, _ := utf8.DecodeLastRuneInString(term); !isCJK(last) && (unicode.IsLetter(last) || unicode.IsNumber(last)) {
		phrase += " *"
	}
	return phrase
}

// indexable reports whether the search index can find term: it has letters
// or digits, and no lone CJK character (the index holds CJK text as pairs).
func indexable(term string) bool { return hasToken(term) && !shortCJKRun(term) }

// likePattern makes a LIKE pattern matching term anywhere, with \ as the
// escape character.
func likePattern(term string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(term) + "%"
}
