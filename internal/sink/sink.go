// Package sink delivers signal revisions (open, updated, closed) to the systems responders
// watch: JSON Lines to standard output or a rotated file, a generic webhook, Slack, and OCSF
// Detection Findings. Each output is one file here behind one small interface, Sink; what
// they share — the durable outbox, retries with backoff, the minimum level — is Outbox.
//
// The contract, with the live service's commit protocol: a revision is added to the outbox
// of every sink whose minimum level it reaches in the same commit that makes its evidence
// durable (the outbox is a blob of the store, Outbox.Encode); a sink's deliverer takes
// revisions from the head of the outbox, in order, and removes them only once the sink
// acknowledged them; a failure is retried with exponential backoff, for as long as it takes.
// So every revision reaches every sink at least once, in order per signal, and a restart
// resends only what was acknowledged after the last commit (duplicates are repeats of the
// same (id, revision), which consumers dedupe on).
package sink

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/trailhound/trailhound/internal/signal"
)

// Sink is one output. Deliver sends revisions in the order given and returns how many of
// them, from the first, the receiver acknowledged, and an error when that is not all; the
// caller sends the others again later (so a sink may see a revision twice, when it received
// one but the acknowledgement was lost). Deliver is called by one goroutine at a time.
type Sink interface {
	Deliver(ctx context.Context, revs []signal.Signal) (int, error)
}

// Closer is a Sink holding resources (a file).
type Closer interface {
	Close() error
}

// Config is one sink of a service's configuration (YAML: a list of these).
type Config struct {
	// Name identifies the sink in metrics, logs and the store (its outbox); "" means Type.
	Name string `yaml:"name"`
	// Type is jsonl, webhook, slack or ocsf.
	Type string `yaml:"type"`
	// MinLevel is the lowest level sent ("" : informational, everything).
	MinLevel string `yaml:"min_level"`

	// Path (jsonl, ocsf) is the file to append to; "" or "-" is standard output.
	Path string `yaml:"path"`
	// MaxBytes (jsonl, ocsf) rotates the file once it reaches this size (0: 100 MiB; -1
	// never); Keep is how many rotated files are kept (0: 5).
	MaxBytes int64 `yaml:"max_bytes"`
	Keep     int   `yaml:"keep"`

	// URL (webhook, slack) is where to POST.
	URL string `yaml:"url"`
	// Secret (webhook) signs each body with HMAC-SHA256 (header X-Trailhound-Signature-256);
	// SecretEnv names an environment variable holding it instead (secrets stay out of files).
	Secret    string `yaml:"secret"`
	SecretEnv string `yaml:"secret_env"`
	// Headers (webhook) are added to every request (Authorization, say).
	Headers map[string]string `yaml:"headers"`
	// Link (slack) is the address of a signal for a responder, with {id} replaced by its id.
	Link string `yaml:"link"`
}

// SinkName returns the name of the sink.
func (c Config) SinkName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Type
}

// Types are the sink types.
var Types = []string{"jsonl", "webhook", "slack", "ocsf"}

// Validate reports every problem of the sink's configuration.
func (c Config) Validate() error {
	var probs []string
	if _, err := signal.ParseLevel(c.minLevel()); err != nil {
		probs = append(probs, "min_level: "+err.Error())
	}
	switch c.Type {
	case "jsonl", "ocsf":
	case "webhook", "slack":
		if !strings.HasPrefix(c.URL, "https://") && !strings.HasPrefix(c.URL, "http://") {
			probs = append(probs, fmt.Sprintf("url %q: want an http:// or https:// address", c.URL))
		}
	default:
		probs = append(probs, fmt.Sprintf("type %q: want one of %s", c.Type, strings.Join(Types, ", ")))
	}
	if len(probs) > 0 {
		return fmt.Errorf("sink %s: %s", c.SinkName(), strings.Join(probs, "; "))
	}
	return nil
}

func (c Config) minLevel() string {
	if c.MinLevel == "" {
		return "informational"
	}
	return c.MinLevel
}

// Level is the minimum level of the sink.
func (c Config) Level() signal.Level {
	l, _ := signal.ParseLevel(c.minLevel())
	return l
}

// Options are what sinks need from their environment.
type Options struct {
	// Stdout is where a sink without a path writes; nil means os.Stdout.
	Stdout io.Writer
	// Client makes the HTTP requests of webhook and Slack sinks; nil means a client with a
	// 30 s timeout.
	Client *http.Client
	// Getenv reads secret_env; nil means os.Getenv.
	Getenv func(string) string
	// Version is trailhound's, for OCSF metadata.
	Version string
}

// New returns the sink of a configuration (Validate it first).
func New(c Config, o Options) (Sink, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	switch c.Type {
	case "jsonl":
		return NewJSONL(c.Path, c.MaxBytes, c.Keep, o.Stdout)
	case "ocsf":
		return NewOCSF(c.Path, c.MaxBytes, c.Keep, o.Stdout, o.Version)
	case "webhook":
		secret := c.Secret
		if c.SecretEnv != "" {
			getenv := o.Getenv
			if getenv == nil {
				getenv = os.Getenv
			}
			if secret = getenv(c.SecretEnv); secret == "" {
				return nil, fmt.Errorf("sink %s: secret_env %s is empty or not set", c.SinkName(), c.SecretEnv)
			}
		}
		return NewWebhook(c.URL, []byte(secret), c.Headers, o.Client), nil
	case "slack":
		return NewSlack(c.URL, c.Link, o.Client), nil
	}
	return nil, fmt.Errorf("sink %s: unknown type %q", c.SinkName(), c.Type)
}
