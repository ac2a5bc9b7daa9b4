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
	return stripTags(content)
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

// ftsPhrase quotes a term as an FTS5 string, so that no character in it
// (", *, (, AND, NEAR, -, :) has a meaning to the query parser.
func ftsPhrase(term string) string {
	return `"` + strings.ReplaceAll(term, `"`, `""`) + `"`
}

// trigramOK reports whether the trigram index can find term: it needs at
// least three characters.
func trigramOK(term string) bool { return utf8.RuneCountInString(term) >= 3 }

// likePattern makes a LIKE pattern matching term anywhere, with \ as the
// escape character.
func likePattern(term string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(term) + "%"
}
