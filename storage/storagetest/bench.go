package storagetest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/refeed/refeed/storage"
)

// The posts every backend's benchmarks store, so their figures compare.

// BenchText returns about n runes of Chinese-like text: words of one to
// four characters drawn from a 20,000-word vocabulary with a Zipf
// distribution, as in real text, with punctuation and some ASCII. Uniformly
// random characters would flatter nothing and overstate the index size.
func BenchText(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 42))
	z := rand.NewZipf(r, 1.07, 2, 19999)
	var b strings.Builder
	for count := 0; count < n; {
		w := z.Uint64()
		vr := rand.New(rand.NewPCG(w, 7)) // the word's characters depend on the word only
		size := 1 + int(w%4)
		if w%5 == 0 {
			size = 2
		}
		for range size {
			// Common characters are more common.
			b.WriteRune(rune(0x4e00 + int(vr.ExpFloat64()*600)%20000))
		}
		count += size
		switch r.IntN(12) {
		case 0:
			b.WriteString("，")
		case 1:
			b.WriteString("。")
		}
		if r.IntN(60) == 0 {
			b.WriteString(" refeed 2025 ")
		}
	}
	return b.String()
}

// BenchPost is the i-th post of the storage benchmarks: a title, about
// 700 characters of HTML content and a summary, a GUID and a link.
func BenchPost(i int) storage.Post {
	return storage.Post{
		Key:       fmt.Sprintf("guid:post-%d", i),
		GUID:      fmt.Sprintf("post-%d", i),
		Link:      fmt.Sprintf("https://example.com/article/%d.html", i),
		Title:     fmt.Sprintf("税务新闻 第%d期", i),
		Content:   "<p>" + BenchText(uint64(i), 400) + `</p><p><a href="https://example.com/x">link</a></p><p>` + BenchText(uint64(i)+1e9, 300) + "</p>",
		Summary:   BenchText(uint64(i)+2e9, 60),
		Published: time.Unix(1700000000+int64(i), 0),
		Hash:      fmt.Sprintf("h%d", i),
	}
}
