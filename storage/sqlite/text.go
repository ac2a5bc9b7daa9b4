package sqlite

import (
	"strings"

	"github.com/refeed/refeed/storage/search"
)

// ftsPhrase quotes a search term (package search) as an FTS5 phrase, so that
// no character in it (", *, (, AND, NEAR, -, :) has a meaning to the query
// parser, in the index's tokens; a prefix term gets FTS5's prefix star.
func ftsPhrase(term string) string {
	phrase := `"` + strings.ReplaceAll(search.Tokens(term), `"`, `""`) + `"`
	if search.Prefix(term) {
		phrase += " *"
	}
	return phrase
}

// likePattern makes a LIKE pattern matching term anywhere, with \ as the
// escape character.
func likePattern(term string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(term) + "%"
}
