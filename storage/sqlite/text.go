package sqlite

import (
	"database/sql/driver"
	"strings"
	"sync"

	msqlite "modernc.org/sqlite"

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

// textFunc is the SQL function search.ScanText(content, summary): the
// plain text that a search term the index cannot find is matched against.
const textFunc = "refeed_text"

var registerText sync.Once

// registerTextFunc registers textFunc with the driver, once per process
// (the driver's functions are global), before the store's first connection.
func registerTextFunc() error {
	var err error
	registerText.Do(func() {
		err = msqlite.RegisterDeterministicScalarFunction(textFunc, 2, func(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			content, _ := args[0].(string)
			summary, _ := args[1].(string)
			return search.ScanText(content, summary), nil
		})
	})
	return err
}
