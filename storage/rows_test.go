package storage

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestAddSource(t *testing.T) {
	var p Post
	p.AddSource("a", "tax", []string{"税务", "", "新闻"})
	p.AddSource("b", "tax", []string{"新闻", "市场"})
	p.AddSource("c", "", nil)
	if !slices.Equal(p.Sources, []string{"a", "b", "c"}) || !slices.Equal(p.Categories, []string{"tax"}) ||
		!slices.Equal(p.Tags, []string{"税务", "新闻", "市场"}) {
		t.Errorf("AddSource: sources %q, categories %q, tags %q", p.Sources, p.Categories, p.Tags)
	}
}

func TestSortedCounts(t *testing.T) {
	got := SortedCounts(map[string]int{"b": 2, "a": 1, "税": 3})
	if !slices.Equal(got, []Count{{"a", 1}, {"b", 2}, {"税", 3}}) {
		t.Errorf("SortedCounts = %v", got)
	}
}

func TestEnclosuresRoundTrip(t *testing.T) {
	for _, es := range [][]Enclosure{nil, {{URL: "https://a.example/a.mp3", Type: "audio/mpeg", Length: 12}}} {
		s, err := EncodeEnclosures(es)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeEnclosures(s)
		if err != nil || !slices.Equal(back, es) {
			t.Errorf("%v -> %q -> %v, %v", es, s, back, err)
		}
	}
	if _, err := DecodeEnclosures("[{"); err == nil {
		t.Error("DecodeEnclosures of bad JSON: no error")
	}
}

func TestMigrations(t *testing.T) {
	good := fstest.MapFS{"m/0002_b.sql": {Data: []byte("B")}, "m/0001_a.sql": {Data: []byte("A")}}
	ms, err := Migrations(good, "m")
	if err != nil || len(ms) != 2 || ms[0].Name != "0001_a.sql" || ms[1].SQL != "B" || ms[1].Version != 2 {
		t.Fatalf("Migrations = %+v, %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"a gap":      {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"no number":  {"m/init.sql": {}},
		"zero":       {"m/0000_a.sql": {}},
		"no version": {"m/x_a.sql": {}},
	} {
		if _, err := Migrations(fsys, "m"); err == nil || !strings.Contains(err.Error(), "migration") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
