package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/internal/serve"
	"github.com/trailhound/trailhound/internal/sink"
	"github.com/trailhound/trailhound/internal/source"
	"github.com/trailhound/trailhound/internal/store"
	"github.com/trailhound/trailhound/internal/web"
)

func (a *app) serveCmd() *cobra.Command {
	var (
		configFile                string
		cfg                       serve.Config
		rf                        ruleFlags
		in                        inputFlags
		geoip, trails, sqsQueues  []string
		eventQueues, sinkFlags    []string
		natsURL, natsSubject      string
		lateness, group, poll     time.Duration
		quietAdvance              time.Duration
		logFormat, logLevel, addr string
		db                        string
		noUI, openEarly           bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Watch trails in S3 and alert within seconds of delivery (a long-running service)",
		Long: `serve watches CloudTrail where it lives: it lists S3 prefixes for new objects (every
--poll), reads S3 event notifications from SQS or NATS and CloudTrail events from an SQS queue
fed by an EventBridge rule, evaluates them with the engine of hunt --db, and sends every
signal's revisions (open, updated, closed) to its sinks. Each batch is committed to the store
as one generation (events, signals, state, checkpoints, sink outboxes) before any message is
acknowledged: a process killed at any moment loses nothing and stores nothing twice.

Everything can be said in a YAML file (--config); flags override it. /metrics, /healthz and
/readyz are served on --listen (127.0.0.1:9790). SIGTERM or Ctrl-C finishes the batch under
way, commits it and exits 0.`,
		Example: `  trailhound serve --db /var/lib/trailhound --trail s3://my-trail-bucket/AWSLogs/
  trailhound serve --config /etc/trailhound/serve.yaml
  trailhound serve --db ./db --trail s3://trail/AWSLogs/ --sqs-queue https://sqs.us-east-1.amazonaws.com/111122223333/trail-objects --sink jsonl:/var/log/trailhound/signals.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configFile != "" {
				var err error
				if cfg, err = serve.LoadConfig(configFile); err != nil {
					return err
				}
			}
			f := cmd.Flags()
			set := func(name string, apply func()) {
				if f.Changed(name) {
					apply()
				}
			}
			set("db", func() { cfg.DB = db })
			set("no-ui", func() { cfg.UI.Disabled = noUI })
			set("listen", func() { cfg.Listen = addr })
			set("log-format", func() { cfg.Log.Format = logFormat })
			set("log-level", func() { cfg.Log.Level = logLevel })
			set("lateness", func() { d := serve.Duration(lateness); cfg.Lateness = &d })
			set("open-early", func() { cfg.OpenEarly = &openEarly })
			set("quiet-advance", func() { d := serve.Duration(quietAdvance); cfg.QuietAdvance = &d })
			set("group-window", func() { cfg.GroupWindow = serve.Duration(group) })
			set("since", func() { cfg.Since = in.since })
			set("until", func() { cfg.Until = in.until })
			set("account", func() { cfg.Accounts = in.accounts })
			set("region", func() { cfg.Regions = in.regions })
			set("profile", func() { cfg.AWS.Profile = in.profile })
			set("aws-region", func() { cfg.AWS.Region = in.awsRegion })
			set("s3-path-style", func() { cfg.AWS.S3PathStyle = &in.pathStyle })
			set("rules", func() { cfg.Rules = rf.paths })
			set("no-builtin", func() { cfg.NoBuiltin = rf.noBuiltin })
			set("ioc", func() { cfg.IOC = rf.iocs })
			set("geoip", func() { cfg.GeoIP = geoip })
			for _, t := range trails {
				cfg.Trails = append(cfg.Trails, serve.TrailConfig{URL: t, Poll: serve.Duration(poll)})
			}
			if f.Changed("poll") {
				for i := range cfg.Trails {
					cfg.Trails[i].Poll = serve.Duration(poll)
				}
			}
			for _, q := range sqsQueues {
				cfg.Notifications.SQS = append(cfg.Notifications.SQS, serve.QueueConfig{URL: q})
			}
			for _, q := range eventQueues {
				cfg.Events = append(cfg.Events, serve.QueueConfig{URL: q})
			}
			if natsURL != "" || natsSubject != "" {
				cfg.Notifications.NATS = append(cfg.Notifications.NATS, serve.NATSConfig{URL: natsURL, Subject: natsSubject})
			}
			if len(sinkFlags) > 0 {
				cfg.Sinks = nil
				for _, s := range sinkFlags {
					sc, err := parseSinkFlag(s)
					if err != nil {
						return &usageError{err: err, path: cmd.CommandPath()}
					}
					cfg.Sinks = append(cfg.Sinks, sc)
				}
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			return a.serve(cmd, cfg)
		},
	}
	rf.add(cmd)
	in.add(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&configFile, "config", "c", "", "YAML configuration (README: Run it as a service); flags override it")
	fl.StringVar(&db, "db", "", "the store to commit to (created if missing)")
	fl.StringVar(&addr, "listen", serve.DefaultListen, "address of the web investigator (under /), /metrics, /healthz and /readyz")
	fl.BoolVar(&noUI, "no-ui", false, "serve no web investigator, only /metrics, /healthz and /readyz")
	fl.StringArrayVar(&trails, "trail", nil, "s3://bucket/prefix to list for new objects (repeatable)")
	fl.DurationVar(&poll, "poll", 30*time.Second, "listing interval of --trail (negative: list once at start)")
	fl.StringArrayVar(&sqsQueues, "sqs-queue", nil, "SQS queue URL receiving S3 event notifications (plain, SNS-wrapped or EventBridge Object Created; repeatable)")
	fl.StringArrayVar(&eventQueues, "events-queue", nil, `SQS queue URL an EventBridge rule fills with "AWS API Call via CloudTrail" events (repeatable)`)
	fl.StringVar(&natsURL, "nats-url", "", "NATS server an S3-compatible server publishes S3 events to")
	fl.StringVar(&natsSubject, "nats-subject", "", "NATS subject of the S3 events (kept in a JetStream stream until committed)")
	fl.StringArrayVar(&sinkFlags, "sink", nil, "where signals go: jsonl (stdout), jsonl:FILE, ocsf:FILE, webhook:URL, slack:URL (repeatable; the config file says more: min_level, secret, headers)")
	fl.StringArrayVar(&geoip, "geoip", nil, "MaxMind DB (.mmdb) for ASN/country (repeatable; default $TRAILHOUND_GEOIP)")
	fl.DurationVar(&lateness, "lateness", 15*time.Minute, "allowed lateness behind the latest event time; windows are decided as hunt --db decides them. A correlation's signal opens once the watermark passes the event that completes it (a rule's opens at once, see --open-early): 0s evaluates every batch at once, at the cost of batch-equivalent grouping of events delivered out of order")
	fl.BoolVar(&openEarly, "open-early", true, "open a rule's signal in the batch that reads its first event, before the watermark evaluates it (a signal an earlier late event supersedes closes with superseded_by)")
	fl.DurationVar(&quietAdvance, "quiet-advance", time.Minute, "after this long without anything to read, event time advances with the clock, so the last events of a quiet trail are evaluated and their signals open and close (0s: only later events advance it)")
	fl.DurationVar(&group, "group-window", time.Hour, "group a rule's matches by one actor in one account within this window into one signal")
	fl.StringVar(&logFormat, "log-format", "json", "log format: json or text")
	fl.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// parseSinkFlag reads --sink TYPE[:TARGET].
func parseSinkFlag(s string) (sink.Config, error) {
	typ, target, _ := cutColon(s)
	c := sink.Config{Type: typ}
	switch typ {
	case "jsonl", "ocsf":
		c.Path = target
	case "webhook", "slack":
		c.URL = target
	default:
		return c, fmt.Errorf("--sink %q: want jsonl[:FILE], ocsf[:FILE], webhook:URL or slack:URL", s)
	}
	return c, c.Validate()
}

func cutColon(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// serve runs the service of cfg until the command's context is done.
func (a *app) serve(cmd *cobra.Command, cfg serve.Config) error {
	ctx := cmd.Context()
	if token, require := uiToken(cfg); !cfg.UI.Disabled && require && token == "" {
		return fmt.Errorf("listen %s is not loopback: the web investigator then needs a token on every request; set ui.token in the config or $%s (or ui.disabled: true, --no-ui)", cfg.Listen, envUIToken)
	}
	logger := serviceLogger(a, cfg.Log)
	rf := ruleFlags{paths: cfg.Rules, noBuiltin: cfg.NoBuiltin, iocFlags: iocFlags{iocs: cfg.IOC}}
	set, enr, err := a.rulesAndEnricher(cmd, rf, cfg.GeoIP)
	if err != nil {
		return err
	}
	defer enr.Close()
	opts := serve.Options{Logger: logger, Rules: set, Enricher: enr, Version: version(), Stdout: a.stdout}
	s3c := source.S3Config{Profile: cfg.AWS.Profile, Region: cfg.AWS.Region, PathStyle: cfg.AWS.S3PathStyle}
	if len(cfg.Trails) > 0 || len(cfg.Notifications.SQS) > 0 || len(cfg.Notifications.NATS) > 0 {
		if opts.S3, err = source.NewS3Client(ctx, s3c); err != nil {
			return err
		}
	}
	if len(cfg.Notifications.SQS) > 0 || len(cfg.Events) > 0 {
		awsCfg, err := source.LoadAWSConfig(ctx, s3c)
		if err != nil {
			return err
		}
		opts.SQS = sqs.NewFromConfig(awsCfg)
	}
	if crash := newCrashPoints(os.Getenv(crashEnv)); crash != nil {
		opts.Fault = func(p string) { crash.at(p) }
	}
	svc, err := serve.New(cfg, opts)
	if err != nil {
		return err
	}
	if !cfg.UI.Disabled {
		// The investigator reads the store the service writes; off loopback every request
		// needs the token, as trailhound ui's. A service has no terminal to print a
		// generated token to (stdout may be a sink, stderr its log): off loopback it must be
		// given.
		token, require := uiToken(cfg)
		analyst := cfg.UI.Analyst
		if analyst == "" {
			if u, err := user.Current(); err == nil {
				analyst = u.Username
			}
		}
		h, err := web.New(web.Options{Store: svc.Store(), Triage: store.OpenTriage(svc.Store().Dir()), Rules: set.Infos(), Token: token,
			RequireToken: require, Analyst: analyst, Enricher: enr, Title: "trailhound serve --db " + cfg.DB, Logger: logger})
		if err != nil {
			return err
		}
		svc.SetUI(h)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	logger.Info("serving", "listen", ln.Addr().String(), "investigator", !cfg.UI.Disabled, "db", cfg.DB, "trails", len(cfg.Trails),
		"notification_queues", len(cfg.Notifications.SQS)+len(cfg.Notifications.NATS), "event_queues", len(cfg.Events), "sinks", len(cfg.Sinks))
	err = svc.Run(ctx)
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	if err != nil {
		return err
	}
	// Stopped by SIGTERM or Ctrl-C after the last commit: exit 0.
	logger.Info("stopped: the last batch is committed")
	return nil
}

// uiToken returns the investigator's token (ui.token, else $TRAILHOUND_UI_TOKEN) and whether
// every request needs it (listen is not loopback).
func uiToken(cfg serve.Config) (token string, require bool) {
	token = cfg.UI.Token
	if token == "" {
		token = os.Getenv(envUIToken)
	}
	return token, !web.Loopback(cfg.Listen)
}

// serviceLogger is the logger of the service: JSON or text on stderr at the level asked.
func serviceLogger(a *app, c serve.LogConfig) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(a.stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(a.stderr, opts))
}
