package storage

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// cursorVersion is the first byte of an encoded cursor, so the format can change.
const cursorVersion = 1

// Encode returns the cursor as an opaque, URL-safe string.
func (c Cursor) Encode() string {
	b := make([]byte, 0, 1+8+len(c.ID)+4)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Published.UnixNano()))
	b = append(b, c.ID...)
	sum := sha256.Sum256(b)
	b = append(b, sum[:4]...) // catches tampering and truncation
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a string made by Cursor.Encode. Anything else,
// including a tampered cursor, gives an error wrapping ErrBadCursor.
func DecodeCursor(s string) (Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 1+8+1+4 || len(b) > 1+8+64+4 || b[0] != cursorVersion {
		return Cursor{}, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	body, sum := b[:len(b)-4], b[len(b)-4:]
	want := sha256.Sum256(body)
	if string(want[:4]) != string(sum) {
		return Cursor{}, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	id := string(body[9:])
	if !isHexID(id) {
		return Cursor{}, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	ns := int64(binary.BigEndian.Uint64(body[1:9]))
	return Cursor{Published: time.Unix(0, ns).UTC(), ID: id}, nil
}

// PostID derives a post's stable ID from the source that first carried it
// and its identity key. IDs are 16 lower-case hex digits.
func PostID(source, key string) string {
	sum := sha256.Sum256([]byte(source + "\x00" + key))
	return hex.EncodeToString(sum[:8])
}

// ValidPostID reports whether s has the shape of a post ID.
func ValidPostID(s string) bool { return len(s) == 16 && isHexID(s) }

func isHexID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
