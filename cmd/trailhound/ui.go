package main

import (
	"fmt"
	"net"
	"os"
	"os/user"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/internal/enrich"
	"github.com/trailhound/trailhound/internal/remediate"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/source"
	"github.com/trailhound/trailhound/internal/store"
	"github.com/trailhound/trailhound/internal/web"
)

// defaultUIAddr is where trailhound ui listens unless told otherwise: loopback only.
const defaultUIAddr = "127.0.0.1:8710"

// envUIToken names the variable a token can come from instead of --token.
const envUIToken = "TRAILHOUND_UI_TOKEN"

func (a *app) uiCmd() *cobra.Command {
	var (
		rf              ruleFlags
		db, addr, token string
		prices, analyst string
		geoip           []string
		allowUnreadable bool
		in              inputFlags
	)
	cmd := &cobra.Command{
		Use:   "ui (PATH... | --db DIR)",
		Short: "Investigate in a browser: signals inbox, triage, identity graph, timeline",
		Long: `ui serves the web investigator over a store written by hunt --db (read-only: a hunt or
serve may be writing it at the same time, and the inbox shows new signals as they are
committed), or over logs, hunted once into a temporary store as investigate does.

It listens on 127.0.0.1 unless --addr says otherwise. On any address that is not loopback,
every request needs a token: --token, $` + envUIToken + `, or one generated at start and
printed once, in the URL to open. Triage (status and note per signal) is kept in the store
folder (triage.log); over logs it lasts as long as the temporary store.`,
		Example: `  trailhound hunt --db ./incident.db ./AWSLogs && trailhound ui --db ./incident.db
  trailhound ui ./AWSLogs
  trailhound ui --db ./incident.db --addr 0.0.0.0:8710    # prints the URL with its token`,
		RunE: func(cmd *cobra.Command, paths []string) error {
			if (db == "") == (len(paths) == 0) {
				return &usageError{err: fmt.Errorf("ui needs %s, or --db DIR with a store written by hunt --db (not both)", pathArg), path: cmd.CommandPath()}
			}
			if token == "" {
				token = os.Getenv(envUIToken)
			}
			ctx := cmd.Context()
			// Over a store the rules do not run (the signals are stored): they are loaded for
			// the coverage layer, without the warnings of a hunt.
			var set *ruleset.Set
			var enr *enrich.Enricher
			var err error
			if db != "" {
				var ro ruleset.Options
				if ro, err = rf.options(); err == nil {
					if set, err = a.loadRules(cmd, ro); err == nil {
						enr, err = openEnricher(geoip)
					}
				}
			} else {
				set, enr, err = a.rulesAndEnricher(cmd, rf, geoip)
			}
			if err != nil {
				return err
			}
			defer enr.Close()
			var pr *remediate.Prices
			if prices != "" {
				if pr, err = remediate.LoadPrices(prices); err != nil {
					return err
				}
			}
			src, err := in.sourceOptions(cmd, source.Options{Stdin: a.stdin}, paths)
			if err != nil {
				return err
			}
			st, _, done, err := a.investigationStore(ctx, db, paths, src, set, enr, allowUnreadable)
			if err != nil {
				return err
			}
			defer done()
			title := "trailhound ui --db " + db
			if db == "" {
				title = "trailhound ui " + strings.Join(paths, " ")
			}
			if analyst == "" {
				if u, err := user.Current(); err == nil {
					analyst = u.Username
				}
			}
			require := !web.Loopback(addr)
			h, err := web.New(web.Options{Store: st, Triage: store.OpenTriage(st.Dir()), Rules: set.Infos(), Token: token,
				RequireToken: require, Analyst: analyst, Enricher: enr, Prices: pr, Title: title, Logger: a.logger})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listening on %s: %w (choose another with --addr)", addr, err)
			}
			url := "http://" + ln.Addr().String() + "/"
			if require {
				url += "?token=" + h.Token()
			}
			fmt.Fprintf(a.stdout, "trailhound ui: open %s\n", url)
			if require && token == "" {
				fmt.Fprintln(a.stdout, "the token was generated for this run and is printed only here; every request needs it")
			}
			if db == "" {
				a.warnf("note: triage is kept in the temporary store and lost when ui stops; hunt --db DIR, then ui --db DIR keeps it\n")
			}
			return web.Serve(ctx, ln, h, a.logger)
		},
	}
	rf.add(cmd)
	in.add(cmd)
	f := cmd.Flags()
	f.StringVar(&db, "db", "", "serve the store written by hunt --db (read-only) instead of log paths")
	f.StringVar(&addr, "addr", defaultUIAddr, "address to listen on; any but loopback requires the token")
	f.StringVar(&token, "token", "", "token every request must carry off loopback (default $"+envUIToken+", else generated and printed)")
	f.StringVar(&analyst, "analyst", "", "name recorded with triage changes that do not give one (default: the OS user)")
	f.StringVar(&prices, "prices", "", "price table overriding the built-in cost estimate (same JSON format)")
	f.StringArrayVar(&geoip, "geoip", nil, "MaxMind DB (.mmdb) for ASN/country (repeatable; default $TRAILHOUND_GEOIP)")
	f.BoolVar(&allowUnreadable, "allow-unreadable", false, "serve even when files inside folders could not be read")
	return cmd
}
