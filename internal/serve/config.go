package serve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/trailhound/trailhound/internal/sink"
	"github.com/trailhound/trailhound/internal/source"
)

// Config is everything a service is told, read from a YAML file (LoadConfig) and overridden
// by flags. Durations are Go durations ("30s", "15m"). Defaults are applied by Validate.
type Config struct {
	// Listen is the address of /metrics, /healthz and /readyz (and the UI when one is
	// mounted): 127.0.0.1:9790 unless told otherwise.
	Listen string `yaml:"listen"`
	// DB is the store the service commits to (required).
	DB string `yaml:"db"`
	// Log says how to log: format json or text, level debug, info, warn or error.
	Log LogConfig `yaml:"log"`
	// AWS says how to reach S3 and SQS.
	AWS AWSConfig `yaml:"aws"`

	// Trails are the S3 prefixes listed for new objects.
	Trails []TrailConfig `yaml:"trails"`
	// Notifications are the queues that announce new objects.
	Notifications NotificationsConfig `yaml:"notifications"`
	// Events are SQS queues an EventBridge rule fills with "AWS API Call via CloudTrail"
	// events.
	Events []QueueConfig `yaml:"events"`

	// Filter narrows what is read: since and until (event time, as --since), accounts and
	// regions (of recipient accounts; a partition of the accounts for one process).
	Since    string   `yaml:"since"`
	Until    string   `yaml:"until"`
	Accounts []string `yaml:"accounts"`
	Regions  []string `yaml:"regions"`

	// Rules are rule files or folders added to the built-in rules (unless NoBuiltin); IOC
	// and GeoIP are IOC list files and .mmdb databases, as hunt's flags.
	Rules     []string `yaml:"rules"`
	NoBuiltin bool     `yaml:"no_builtin"`
	IOC       []string `yaml:"ioc"`
	GeoIP     []string `yaml:"geoip"`

	// Lateness is how far behind the latest event time an event may arrive and still be
	// evaluated in event-time order, as hunt's --lateness (not set: 15m). A rule's signal
	// opens as its first event is read (OpenEarly); a correlation's once the watermark
	// passes the event that completes it. 0 evaluates every batch at once (events delivered
	// out of order may then group differently than one batch run would group them).
	Lateness *Duration `yaml:"lateness"`
	// OpenEarly opens the signal of a rule's matches in the batch that reads its first
	// event, before the watermark evaluates it (not set: true). Evaluated in order, that
	// signal then grows and closes as hunt --db would give it, or, when an earlier event of
	// the same actor arrives after it within the lateness, closes with superseded_by naming
	// the signal that carries its evidence on. false: a rule's signal opens once the
	// watermark passes its first event, the lateness after the call.
	OpenEarly *bool `yaml:"open_early"`
	// QuietAdvance is how long the service waits without reading anything before it takes
	// event time to advance with the clock (not set: 1m; 0 never), so that on a quiet trail
	// the last events are evaluated and their signals open and close without waiting for
	// later events. Events delivered within the lateness are still evaluated in order.
	QuietAdvance *Duration `yaml:"quiet_advance"`
	// GroupWindow is hunt's --group-window (0: 1h).
	GroupWindow Duration `yaml:"group_window"`

	// Batch bounds a batch: what is read, evaluated and committed together.
	Batch BatchConfig `yaml:"batch"`
	// Workers decode objects in parallel (0: the number of CPUs).
	Workers int `yaml:"workers"`
	// MaxObjectBytes is the size past which an object is not read, only counted and logged
	// (0: 1 GiB; CloudTrail writes files of a few megabytes).
	MaxObjectBytes int64 `yaml:"max_object_bytes"`

	// Sinks receive the signal revisions.
	Sinks []sink.Config `yaml:"sinks"`
	// Drain is how long a stopping service waits for its sinks to deliver what is
	// committed (0: 5s); what is left is delivered at the next start.
	Drain Duration `yaml:"drain"`

	// UI configures the web investigator served under / of Listen.
	UI UIConfig `yaml:"ui"`
}

// UIConfig configures the web investigator of the service.
type UIConfig struct {
	// Disabled serves no investigator (only /metrics, /healthz and /readyz).
	Disabled bool `yaml:"disabled"`
	// Token authenticates the investigator's requests: every one of them when Listen is not
	// on loopback, and triage changes always. Empty: $TRAILHOUND_UI_TOKEN, else one is
	// generated at start and printed once.
	Token string `yaml:"token"`
	// Analyst names triage changes that do not say who made them (default: the OS user).
	Analyst string `yaml:"analyst"`
}

// DrainTimeout is Drain, defaulted.
func (c *Config) DrainTimeout() time.Duration {
	if c.Drain <= 0 {
		return 5 * time.Second
	}
	return time.Duration(c.Drain)
}

// openEarly is OpenEarly, true when not set.
func (c *Config) openEarly() bool { return c.OpenEarly == nil || *c.OpenEarly }

// quietAdvance is QuietAdvance, 0 when not set (Validate sets the default).
func (c *Config) quietAdvance() time.Duration {
	if c.QuietAdvance == nil {
		return 0
	}
	return time.Duration(*c.QuietAdvance)
}

// LogConfig configures logging.
type LogConfig struct {
	Format string `yaml:"format"`
	Level  string `yaml:"level"`
}

// AWSConfig is the AWS client configuration (credentials come from the default chain).
type AWSConfig struct {
	Profile     string `yaml:"profile"`
	Region      string `yaml:"region"`
	S3PathStyle *bool  `yaml:"s3_path_style"`
}

// TrailConfig is one S3 prefix to list.
type TrailConfig struct {
	// URL is s3://bucket/prefix.
	URL string `yaml:"url"`
	// Poll is the listing interval (0: 30s); a negative value lists once at start only
	// (notifications do the rest).
	Poll Duration `yaml:"poll"`
}

// NotificationsConfig lists the notification inputs.
type NotificationsConfig struct {
	SQS  []QueueConfig `yaml:"sqs"`
	NATS []NATSConfig  `yaml:"nats"`
}

// QueueConfig is an SQS queue.
type QueueConfig struct {
	URL string `yaml:"url"`
	// Visibility is how long a received message stays hidden (0: 5m); the service extends
	// it every third of it while the message's batch is read, evaluated and committed.
	Visibility Duration `yaml:"visibility"`
}

// NATSConfig is a NATS subject S3-compatible servers publish S3 events to.
type NATSConfig struct {
	URL     string `yaml:"url"`
	Subject string `yaml:"subject"`
	Stream  string `yaml:"stream"`
	Durable string `yaml:"durable"`
}

// BatchConfig bounds a batch.
type BatchConfig struct {
	// MaxObjects is how many objects and event messages one batch reads at most (0: 500).
	MaxObjects int `yaml:"max_objects"`
	// MaxWait is how long the first item of a batch waits for more (0: 1s): the commit
	// cost is paid once per batch.
	MaxWait Duration `yaml:"max_wait"`
	// ListMax is how many objects one listing step takes from one folder (0: 2000): a
	// backlog is read in steps, in delivery order, with bounded memory.
	ListMax int `yaml:"list_max"`
	// BacklogObjects is how far a batch grows past MaxObjects while more objects keep
	// coming without a pause (0: 5000): on a backlog each commit then carries a segment
	// big enough that the store need not compact it, while on a live trail, where a batch
	// holds the few objects delivered meanwhile, nothing changes.
	BacklogObjects int `yaml:"backlog_objects"`
	// BacklogBytes bounds the bytes (as stored: gzip'd) of the objects a batch grows to
	// past MaxObjects (0: 64 MiB, about half a million events), so that a backlog of big
	// files does not make batches of millions of events: a batch's memory grows with its
	// events until its commit.
	BacklogBytes int64 `yaml:"backlog_bytes"`
}

// Duration is a time.Duration read from YAML as "30s".
type Duration time.Duration

// UnmarshalYAML reads a Go duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// DefaultListen is the address served unless told otherwise: loopback only.
const DefaultListen = "127.0.0.1:9790"

// LoadConfig reads a YAML config file. Unknown keys are errors (a typo must not silently
// disable a sink), reported with their line.
func LoadConfig(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("reading config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("reading config %s: %w", path, err)
	}
	return c, nil
}

// Validate applies defaults and returns every problem of the configuration at once.
func (c *Config) Validate() error {
	var probs []string
	bad := func(f string, args ...any) { probs = append(probs, fmt.Sprintf(f, args...)) }
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen %q: %v", c.Listen, err)
	}
	if c.DB == "" {
		bad("db: a store folder is required (the service commits events, signals, state, checkpoints and outboxes there)")
	}
	switch c.Log.Format {
	case "":
		c.Log.Format = "json"
	case "json", "text":
	default:
		bad("log.format %q: want json or text", c.Log.Format)
	}
	switch c.Log.Level {
	case "":
		c.Log.Level = "info"
	case "debug", "info", "warn", "error":
	default:
		bad("log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	if len(c.Trails) == 0 && len(c.Notifications.SQS) == 0 && len(c.Notifications.NATS) == 0 && len(c.Events) == 0 {
		bad("nothing to read: give trails (s3://bucket/prefix), notification queues or an events queue")
	}
	for i := range c.Trails {
		t := &c.Trails[i]
		if _, err := source.ParseS3URL(t.URL); err != nil {
			bad("trails[%d]: %v", i, err)
		}
		if t.Poll == 0 {
			t.Poll = Duration(30 * time.Second)
		}
	}
	for i, q := range append(slices.Clone(c.Notifications.SQS), c.Events...) {
		if !strings.HasPrefix(q.URL, "https://") && !strings.HasPrefix(q.URL, "http://") {
			bad("queue %d: url %q is not a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)", i, q.URL)
		}
	}
	for i := range c.Notifications.SQS {
		if c.Notifications.SQS[i].Visibility == 0 {
			c.Notifications.SQS[i].Visibility = Duration(5 * time.Minute)
		}
	}
	for i := range c.Events {
		if c.Events[i].Visibility == 0 {
			c.Events[i].Visibility = Duration(5 * time.Minute)
		}
	}
	for i, n := range c.Notifications.NATS {
		if n.URL == "" || n.Subject == "" {
			bad("notifications.nats[%d]: url and subject are required", i)
		}
	}
	if _, err := c.Filter(time.Now()); err != nil {
		bad("%v", err)
	}
	if c.Lateness == nil {
		d := Duration(15 * time.Minute)
		c.Lateness = &d
	} else if *c.Lateness < 0 {
		bad("lateness %s: want 0 or more", time.Duration(*c.Lateness))
	}
	if c.QuietAdvance == nil {
		d := Duration(time.Minute)
		c.QuietAdvance = &d
	} else if *c.QuietAdvance < 0 {
		bad("quiet_advance %s: want 0 or more", time.Duration(*c.QuietAdvance))
	}
	if c.MaxObjectBytes <= 0 {
		c.MaxObjectBytes = 1 << 30
	}
	if c.Batch.MaxObjects <= 0 {
		c.Batch.MaxObjects = 500
	}
	if c.Batch.BacklogObjects <= 0 {
		c.Batch.BacklogObjects = 5000
	}
	c.Batch.BacklogObjects = max(c.Batch.BacklogObjects, c.Batch.MaxObjects)
	if c.Batch.BacklogBytes <= 0 {
		c.Batch.BacklogBytes = 64 << 20
	}
	if c.Batch.ListMax <= 0 {
		c.Batch.ListMax = 2000
	}
	if c.Batch.MaxWait <= 0 {
		c.Batch.MaxWait = Duration(time.Second)
	}
	if len(c.Sinks) == 0 {
		c.Sinks = []sink.Config{{Type: "jsonl"}}
	}
	names := map[string]bool{}
	for _, s := range c.Sinks {
		if err := s.Validate(); err != nil {
			bad("%v", err)
		}
		if names[s.SinkName()] {
			bad("sink %s: two sinks with one name (give each a name: its outbox is kept under it)", s.SinkName())
		}
		names[s.SinkName()] = true
	}
	if len(probs) > 0 {
		return fmt.Errorf("configuration: %s", strings.Join(probs, "; "))
	}
	return nil
}

// Filter is the source filter of since, until, accounts and regions.
func (c *Config) Filter(now time.Time) (source.Filter, error) {
	f := source.Filter{Accounts: c.Accounts, Regions: c.Regions}
	var err error
	if c.Since != "" {
		if f.Since, err = source.ParseTime(c.Since, now); err != nil {
			return f, fmt.Errorf("since: %w", err)
		}
	}
	if c.Until != "" {
		if f.Until, err = source.ParseTime(c.Until, now); err != nil {
			return f, fmt.Errorf("until: %w", err)
		}
	}
	return f, f.Validate()
}
