package storage

import (
	"encoding/json"
	"fmt"
	"sort"
)

// EncodeEnclosures is how every backend stores a post's enclosures: a JSON
// array, or "" for none.
func EncodeEnclosures(es []Enclosure) (string, error) {
	if len(es) == 0 {
		return "", nil
	}
	b, err := json.Marshal(es)
	if err != nil {
		return "", fmt.Errorf("enclosures: %w", err)
	}
	return string(b), nil
}

// DecodeEnclosures reads what EncodeEnclosures wrote.
func DecodeEnclosures(s string) ([]Enclosure, error) {
	if s == "" {
		return nil, nil
	}
	var es []Enclosure
	if err := json.Unmarshal([]byte(s), &es); err != nil {
		return nil, fmt.Errorf("enclosures: %w", err)
	}
	return es, nil
}

// AddSource records that source, with its category and tags, carries p: a
// backend calls it for each of the post's credits, first seen first.
// Sources keep that order; Categories and Tags follow it, each once,
// without empty ones.
func (p *Post) AddSource(source, category string, tags []string) {
	p.Sources = append(p.Sources, source)
	p.Categories = AppendNew(p.Categories, category)
	for _, t := range tags {
		p.Tags = AppendNew(p.Tags, t)
	}
}

// AppendNew appends v to list unless it is empty or already there.
func AppendNew(list []string, v string) []string {
	if v == "" {
		return list
	}
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// SortedCounts turns counts by name into Stats' lists, sorted by name.
func SortedCounts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for name, n := range m {
		out = append(out, Count{Name: name, Posts: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
