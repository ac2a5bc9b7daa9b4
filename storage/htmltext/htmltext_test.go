package htmltext

import "testing"

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain  text\n here ", "plain text here"},
		{"<h1>Title</h1>Body", "Title Body"},
		{"<h3>A</h3><p>B</p><ul><li>c</li><li>d</li></ul>", "A B c d"},
		{"a<br>b<br/>c", "a b c"},
		{"<p>税务</p><p>总局</p>", "税务 总局"},
		{"x<b>y</b>z", "xyz"},
		{"&lt;b&gt; &amp;amp;", "<b> &amp;"},
		{"a<script>alert(1)</script>b<style>p{}</style>c", "abc"},
		{"<iframe>not text</iframe>after", "after"},
		{"<table><tr><td>1</td><td>2</td></tr></table>", "1 2"},
		{"<pre>code</pre>next", "code next"},
		{"<!-- comment -->text", "text"},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"<h1>a</h1>b", "<p>x", "&amp;", "<script>", "\xff<b>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if collapse(out) != out {
			t.Errorf("Text(%q) = %q: white space not collapsed", s, out)
		}
	})
}
