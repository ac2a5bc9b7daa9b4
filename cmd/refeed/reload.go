package main

import "github.com/refeed/refeed/config"

// restartKeys lists the config keys whose change a SIGHUP reload cannot
// apply, because serve set them up once at start: the listener, the
// database and the poller's HTTP client and limits.
func restartKeys(started, next *config.Config) []string {
	var keys []string
	for _, k := range []struct {
		key     string
		changed bool
	}{
		{"server.listen", started.Server.Listen != next.Server.Listen},
		{"storage.path", started.Storage.Path != next.Storage.Path},
		{"storage.url", started.Storage.URL != next.Storage.URL},
		{"storage.pool", started.Storage.Pool != next.Storage.Pool},
		{"poll.concurrency", started.Poll.Concurrency != next.Poll.Concurrency},
		{"poll.per_host", started.Poll.PerHost != next.Poll.PerHost},
		{"poll.timeout", started.Poll.Timeout != next.Poll.Timeout},
		{"poll.lease", started.Poll.Lease != next.Poll.Lease},
		{"poll.max_body", started.Poll.MaxBody != next.Poll.MaxBody},
		{"poll.user_agent", started.Poll.UserAgent != next.Poll.UserAgent},
	} {
		if k.changed {
			keys = append(keys, k.key)
		}
	}
	return keys
}
