package config

// rawConfig mirrors the TOML file. Durations and sizes stay strings here so
// their errors can name the line; validator.build turns it into a Config.
type rawConfig struct {
	Title       *string       `toml:"title"`
	Description string        `toml:"description"`
	BaseURL     *string       `toml:"base_url"`
	Timezone    *string       `toml:"timezone"`
	Language    *string       `toml:"language"`
	Server      rawServer     `toml:"server"`
	Storage     rawStorage    `toml:"storage"`
	Poll        rawPoll       `toml:"poll"`
	Output      rawOutput     `toml:"output"`
	Category    []rawCategory `toml:"category"`
	Source      []rawSource   `toml:"source"`
}

type rawServer struct {
	Listen    *string `toml:"listen"`
	WebSubHub string  `toml:"websub_hub"`
}

type rawStorage struct {
	Path          *string `toml:"path"`
	URL           string  `toml:"url"`
	Pool          int     `toml:"pool"`
	Keep          string  `toml:"keep"`
	KeepPerSource int     `toml:"keep_per_source"`
}

type rawPoll struct {
	Interval    *string `toml:"interval"`
	Concurrency *int    `toml:"concurrency"`
	PerHost     *int    `toml:"per_host"`
	Timeout     *string `toml:"timeout"`
	Lease       string  `toml:"lease"`
	MaxBody     *string `toml:"max_body"`
	UserAgent   string  `toml:"user_agent"`
}

type rawOutput struct {
	Items    *int    `toml:"items"`
	MaxItems *int    `toml:"max_items"`
	Cache    *string `toml:"cache"`
}

type rawCategory struct {
	Slug        string `toml:"slug"`
	Title       string `toml:"title"`
	Description string `toml:"description"`
}

type rawSource struct {
	Name     string    `toml:"name"`
	URL      string    `toml:"url"`
	Category string    `toml:"category"`
	Tags     *[]string `toml:"tags"`
	Interval string    `toml:"interval"`
	Include  string    `toml:"include"`
	Exclude  string    `toml:"exclude"`
}

// Defaults, as documented in the README's config reference.
const (
	DefaultTitle       = "refeed"
	DefaultListen      = "127.0.0.1:8080"
	DefaultTimezone    = "UTC"
	DefaultLanguage    = "en"
	DefaultDBPath      = "refeed.db"
	DefaultInterval    = "30m"
	DefaultConcurrency = 8
	DefaultPerHost     = 2
	DefaultTimeout     = "30s"
	DefaultMaxBody     = "10MiB"
	DefaultItems       = 50
	DefaultMaxItems    = 500
	DefaultCache       = "64MiB"
)

// knownKeys lists the keys of each table, for "did you mean" hints.
var knownKeys = map[string][]string{
	"":         {"title", "description", "base_url", "timezone", "language", "server", "storage", "poll", "output", "category", "source"},
	"server":   {"listen", "websub_hub"},
	"storage":  {"path", "url", "pool", "keep", "keep_per_source"},
	"poll":     {"interval", "concurrency", "per_host", "timeout", "lease", "max_body", "user_agent"},
	"output":   {"items", "max_items", "cache"},
	"category": {"slug", "title", "description"},
	"source":   {"name", "url", "category", "tags", "interval", "include", "exclude"},
}
