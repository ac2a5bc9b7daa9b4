package aggregator

import (
	"bytes"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gogs/chardet"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
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
	out, _, err := decodeBody(body, contentType)
	return out, err
}

// decodeBody is toUTF8, and recovers a body whose charset lies: when the
// declared (or default UTF-8) charset does not decode the body cleanly, the
// charset is detected (chardet, ICU's detector: GB18030, Big5,
// windows-1252…), and a detected one that decodes it without a replacement
// character is used; UTF-16 without a byte order mark is recognised by its
// zero bytes. mislabelled then says what happened, for the log and
// /healthz; it is "" for an honest body.
func decodeBody(body []byte, contentType string) (out []byte, mislabelled string, err error) {
	if enc, note := unmarkedUTF16(body); enc != nil {
		if u, err := enc.NewDecoder().Bytes(body); err == nil && !bytes.ContainsRune(u, utf8.RuneError) {
			body, mislabelled = append([]byte{0xEF, 0xBB, 0xBF}, u...), note // now a UTF-8 body with a BOM
		}
	}
	out, err = decodeDeclared(body, contentType, &mislabelled)
	return out, mislabelled, err
}

// decodeDeclared is the decoding by BOM, prolog, Content-Type and default
// that toUTF8 describes, with the recovery of decodeBody.
func decodeDeclared(body []byte, contentType string, mislabelled *string) ([]byte, error) {
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
	declared := label
	if declared == "" {
		declared = "none (utf-8)"
	}
	if enc != nil && enc != unicode.UTF8 && enc != encoding.Nop {
		out, err := enc.NewDecoder().Bytes(body)
		if err != nil {
			return nil, withClass(ClassCharset, fmt.Errorf("decode %s: %w", label, err))
		}
		if bytes.ContainsRune(out, utf8.RuneError) && !bytes.Contains(body, []byte("\uFFFD")) {
			if d, name := detected(body, enc); d != nil {
				out, *mislabelled = d, fmt.Sprintf("declared %s, decoded as %s", declared, name)
			}
		}
		body = out
	} else if !utf8.Valid(body) {
		if d, name := detected(body, unicode.UTF8); d != nil {
			body, *mislabelled = d, fmt.Sprintf("declared %s, decoded as %s", declared, name)
		}
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

// detected decodes body in a charset it decodes cleanly (no replacement
// character), other than not (the one that failed), or returns nil. In
// order: what the detector (chardet, ICU's) is sure of; GB18030 when the
// body's double-byte pairs are mostly GB2312 hanzi, as GBK-encoded Chinese
// text is (the detector needs far more text than a title to tell); Big5;
// then a single-byte charset the detector finds likely (undeclared
// Latin-1). Bytes that fit none of these stay invalid (U+FFFD).
func detected(body []byte, not encoding.Encoding) ([]byte, string) {
	try := func(e encoding.Encoding) []byte {
		if e == nil || e == not || e == unicode.UTF8 {
			return nil
		}
		out, err := e.NewDecoder().Bytes(body)
		if err != nil || !utf8.Valid(out) || bytes.ContainsRune(out, utf8.RuneError) {
			return nil
		}
		return out
	}
	results, _ := chardet.NewTextDetector().DetectAll(body)
	if len(results) > 0 && results[0].Confidence >= 50 {
		if e, err := lookupEncoding(results[0].Charset); err == nil {
			if out := try(e); out != nil {
				return out, strings.ToLower(results[0].Charset)
			}
		}
	}
	if hanziPairs(body) >= 0.8 {
		if out := try(simplifiedchinese.GB18030); out != nil {
			return out, "gb18030"
		}
	}
	if out := try(traditionalchinese.Big5); out != nil {
		return out, "big5"
	}
	for _, r := range results {
		if r.Confidence < 30 || !strings.HasPrefix(r.Charset, "ISO-8859-") && !strings.HasPrefix(r.Charset, "windows-125") {
			continue
		}
		e, err := lookupEncoding(r.Charset)
		if err != nil {
			continue
		}
		if out := try(e); out != nil {
			return out, strings.ToLower(r.Charset)
		}
	}
	return nil, ""
}

// hanziPairs is the share of body's double-byte pairs (a byte of 0x80 or
// more and the next) that are GB2312 hanzi: lead 0xB0-0xF7, trail 0xA1 or
// more. GBK-encoded Chinese text is almost all such pairs; Big5 text (half
// of its trail bytes are below 0xA1) and Latin-1 are not.
func hanziPairs(body []byte) float64 {
	pairs, hanzi := 0, 0
	for i := 0; i < len(body); i++ {
		b := body[i]
		if b < 0x80 || i+1 == len(body) {
			continue
		}
		pairs++
		if t := body[i+1]; b >= 0xB0 && b <= 0xF7 && t >= 0xA1 && t != 0xFF {
			hanzi++
		}
		i++
	}
	if pairs == 0 {
		return 0
	}
	return float64(hanzi) / float64(pairs)
}

// unmarkedUTF16 recognises UTF-16 without a byte order mark by the zero
// bytes of its ASCII: a document starting "<" (or white space and "<") as
// UTF-16 has every other byte zero.
func unmarkedUTF16(b []byte) (encoding.Encoding, string) {
	if len(b) < 4 || bytes.HasPrefix(b, []byte{0xFE, 0xFF}) || bytes.HasPrefix(b, []byte{0xFF, 0xFE}) {
		return nil, ""
	}
	switch {
	case b[0] == '<' && b[1] == 0 && b[2] != 0 && b[3] == 0:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le without a byte order mark"
	case b[0] == 0 && b[1] == '<' && b[2] == 0 && b[3] != 0:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be without a byte order mark"
	}
	return nil, ""
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
