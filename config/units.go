package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration accepts Go durations ("90s", "1h30m") plus whole or
// fractional days ("365d", "1.5d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		n, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("invalid duration %q (use Go syntax such as \"30m\" or days such as \"365d\")", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use Go syntax such as \"30m\" or days such as \"365d\")", s)
	}
	return d, nil
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"kB", 1e3},
	{"B", 1}, {"", 1},
}

// ParseSize accepts a byte count with an optional unit: B, KiB, MiB, GiB
// (and the decimal KB, MB, GB).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	for _, u := range sizeUnits {
		if !strings.HasSuffix(t, u.suffix) {
			continue
		}
		num := strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
		n, err := strconv.ParseFloat(num, 64)
		if err != nil || n < 0 || n*float64(u.mult) > 1<<50 {
			break
		}
		return int64(n * float64(u.mult)), nil
	}
	return 0, fmt.Errorf("invalid size %q (use a number with B, KiB, MiB or GiB, such as \"10MiB\")", s)
}
