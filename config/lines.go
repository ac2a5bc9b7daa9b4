package config

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// lineIndex maps key paths to the line that sets them: "title",
// "poll.interval", "source.2" (the header of the third [[source]]),
// "source.2.category". It is a light scan, enough to point messages at lines
// of a config that already decoded.
type lineIndex map[string]int

func indexLines(data []byte) lineIndex {
	idx := lineIndex{}
	counts := map[string]int{}
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	inMulti := false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if inMulti {
			if strings.Count(line, `"""`)%2 == 1 || strings.Count(line, `'''`)%2 == 1 {
				inMulti = false
			}
			continue
		}
		switch {
		case line == "" || line[0] == '#':
			continue
		case strings.HasPrefix(line, "[["):
			name := strings.TrimSpace(strings.Trim(stripComment(line), "[] "))
			table = name + "." + strconv.Itoa(counts[name])
			counts[name]++
			idx.set(table, n)
			continue
		case line[0] == '[':
			table = strings.TrimSpace(strings.Trim(stripComment(line), "[] "))
			idx.set(table, n)
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			continue
		}
		key := strings.Trim(strings.TrimSpace(line[:eq]), `"'`)
		path := key
		if table != "" {
			path = table + "." + key
		}
		idx.set(path, n)
		if strings.Count(line, `"""`)%2 == 1 || strings.Count(line, `'''`)%2 == 1 {
			inMulti = true
		}
	}
	return idx
}

func (idx lineIndex) set(path string, n int) {
	if _, ok := idx[path]; !ok {
		idx[path] = n
	}
}

// line returns the line of the first path that is known, or 0.
func (idx lineIndex) line(paths ...string) int {
	for _, p := range paths {
		if n, ok := idx[p]; ok {
			return n
		}
	}
	return 0
}

func stripComment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}
