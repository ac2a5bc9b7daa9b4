package server

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/refeed/refeed/storage"
)

// maxQueryRunes bounds ?q= so a search stays cheap.
const maxQueryRunes = 200

// errBadRequest marks errors caused by the client's request (400).
var errBadRequest = errors.New("bad request")

// listParams are a listing's paging and search parameters.
type listParams struct {
	limit  int
	before *storage.Cursor
	rawBef string
	q      string
	given  bool // limit was given explicitly
}

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// parseList reads limit, before and q from a query string.
func parseList(v url.Values, def, max int) (listParams, error) {
	p := listParams{limit: def}
	if s, ok := v["limit"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(s[0]))
		if err != nil || n < 1 || n > max {
			return p, badRequest("limit must be a whole number from 1 to %d", max)
		}
		p.limit, p.given = n, true
	}
	if s, ok := v["before"]; ok {
		c, err := storage.DecodeCursor(s[0])
		if err != nil {
			return p, badRequest("before is not a valid cursor (use the rel=\"next\" link of a feed)")
		}
		p.before, p.rawBef = &c, s[0]
	}
	if s, ok := v["q"]; ok {
		q := strings.TrimSpace(s[0])
		if !utf8.ValidString(q) {
			return p, badRequest("q must be UTF-8 text")
		}
		if utf8.RuneCountInString(q) > maxQueryRunes {
			return p, badRequest("q is longer than %d characters", maxQueryRunes)
		}
		p.q = q
	}
	return p, nil
}

// query renders the parameters as a canonical query string ("" when none),
// with before replaced by next when next is non-empty.
func (p listParams) query(next string) string {
	v := url.Values{}
	if p.given {
		v.Set("limit", strconv.Itoa(p.limit))
	}
	switch {
	case next != "":
		v.Set("before", next)
	case p.rawBef != "":
		v.Set("before", p.rawBef)
	}
	if p.q != "" {
		v.Set("q", p.q)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}
