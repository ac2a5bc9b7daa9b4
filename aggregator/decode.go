package aggregator

import (
	"bytes"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// prologEncoding finds the encoding declaration of an XML prolog.
var prologEncoding = regexp.MustCompile(`^<\?xml[^>]*?\sencoding\s*=\s*(["'])([A-Za-z0-9._:-]*)(["'])`)

// toUTF8 returns body as UTF-8 for the parser, with the XML prolog rewritten
// to say so. The encoding is chosen, in order, by a byte order mark (UTF-8 or
// UTF-16: it cannot lie), the XML prolog's encoding declaration, the charset
// of the HTTP Content-Type, then UTF-8. GB2312 and GBK labels decode as
// GB18030, their superset, since sources labelled GB2312 routinely use GBK
// characters. Invalid bytes become U+FFFD; only an unknown label on a body
// that is not valid UTF-8 is an error (class charset). JSON passes through,
// its BOM removed and invalid bytes replaced.
func toUTF8(body []byte, contentType string) ([]byte, error) {
	enc, body := bomEncoding(body)
	if enc != nil {
		out, err := enc.NewDecoder().Bytes(body)
		if err != nil {
			return nil, withClass(ClassCharset, fmt.Errorf("decode utf-16: %w", err))
		}
		body = out
		enc = unicode.UTF8
	}
	body = bytes.TrimLeft(body, " \t\r\n")
	if len(body) > 0 && (body[0] == '{' || body[0] == '[') {
		if utf8.Valid(body) {
			return body, nil
		}
		return bytes.ToValidUTF8(body, []byte("\uFFFD")), nil
	}

	var label, source string
	head := body[:min(len(body), 512)]
	m := prologEncoding.FindSubmatchIndex(head)
	if m != nil {
		label, source = string(head[m[4]:m[5]]), "xml prolog"
	}
	if enc == nil && label == "" {
		if _, params, err := mime.ParseMediaType(contentType); err == nil && params["charset"] != "" {
			label, source = params["charset"], "content-type"
		}
	}
	if m != nil && strings.HasPrefix(strings.ToLower(label), "utf-16") {
		label = "utf-8" // the prolog just read as ASCII, so the body is not UTF-16
	}
	if enc == nil && label != "" {
		e, err := lookupEncoding(label)
		if err != nil {
			if !utf8.Valid(body) {
				return nil, withClass(ClassCharset, fmt.Errorf("%s charset: %w", source, err))
			}
			e = unicode.UTF8
		}
		enc = e
	}
	if enc != nil && enc != unicode.UTF8 && enc != encoding.Nop {
		out, err := enc.NewDecoder().Bytes(body)
		if err != nil {
			return nil, withClass(ClassCharset, fmt.Errorf("decode %s: %w", label, err))
		}
		body = out
	}
	if !utf8.Valid(body) {
		body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	if m != nil && !strings.EqualFold(string(head[m[4]:m[5]]), "utf-8") {
		// The declaration sits at the same offsets: the prolog is ASCII in every
		// ASCII-compatible encoding. Say UTF-8 so the parser does not decode twice.
		// (A body that says UTF-8 already, and is valid, is returned uncopied.)
		if pm := prologEncoding.FindSubmatchIndex(body[:min(len(body), 512)]); pm != nil {
			fixed := make([]byte, 0, len(body)+8)
			fixed = append(fixed, body[:pm[4]]...)
			fixed = append(fixed, "UTF-8"...)
			fixed = append(fixed, body[pm[5]:]...)
			body = fixed
		}
	}
	return body, nil
}

// bomEncoding reports the encoding named by a leading byte order mark, with
// the mark removed.
func bomEncoding(b []byte) (encoding.Encoding, []byte) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return unicode.UTF8, b[3:]
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), b[2:]
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), b[2:]
	}
	return nil, b
}

// lookupEncoding maps a charset label to a decoder (WHATWG labels).
func lookupEncoding(label string) (encoding.Encoding, error) {
	l := strings.ToLower(strings.TrimSpace(label))
	switch l {
	case "gb2312", "gbk", "x-gbk", "cp936", "ms936", "windows-936", "gb_2312-80", "csgb2312", "gb18030", "euc-cn":
		return simplifiedchinese.GB18030, nil
	case "utf-8", "utf8":
		return unicode.UTF8, nil
	case "utf-16", "utf16":
		// No BOM reached here (a BOM is handled first): the XML default is big-endian.
		return unicode.UTF16(unicode.BigEndian, unicode.UseBOM), nil
	}
	e, name := charset.Lookup(l)
	if e == nil {
		return nil, fmt.Errorf("unknown charset %q", label)
	}
	if name == "utf-8" {
		return unicode.UTF8, nil
	}
	return e, nil
}
