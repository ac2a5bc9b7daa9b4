package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestContentHash pins the hash stored with every post: a change would make
// every stored post look changed on the next poll.
func TestContentHash(t *testing.T) {
	long := strings.Repeat("税务总局 tax ", 1000) // longer than the copy buffer
	if got, want := ContentHash("t", "c"), "5beec67b2cfbe264c256e217627478a5a972ada51019d11601b3ae0c980a5771"; got != want {
		t.Errorf("ContentHash(t, c) = %s, want %s", got, want)
	}
	for _, c := range []struct{ title, content string }{
		{"", ""}, {"标题", long}, {long, "x"},
	} {
		sum := sha256.Sum256([]byte(c.title + "\x00" + c.content))
		if got, want := ContentHash(c.title, c.content), hex.EncodeToString(sum[:]); got != want {
			t.Errorf("ContentHash(%.10q, %.10q) = %s, want %s", c.title, c.content, got, want)
		}
	}
}
