package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/internal/safetext"
	"github.com/trailhound/trailhound/internal/store"
)

// dbCmd groups the commands on a store written by hunt --db.
func (a *app) dbCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Inspect, check and repair a store written by hunt --db"}
	var format string
	var check bool
	info := &cobra.Command{
		Use:   "info DIR",
		Short: "What a store holds: events, signals, and per account and region the hours covered",
		Long: `info prints the size of a store and, per account and region, how many events it holds,
the first and last hour with events and how many hours in between have none: the first
question of an investigation is whether the logs cover the time and place at all.`,
		Example: `  trailhound db info ./incident.db
  trailhound db info ./incident.db -f json | jq '.regions[] | select(.hours_without_events > 0)'`,
		Args: args(1, 1, "a DIR: a store written by hunt --db"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if check {
				if err := a.dbCheck(cmd, args[0], "text"); err != nil {
					return err
				}
				fmt.Fprintln(a.stdout)
			}
			st, err := store.Open(args[0], store.Options{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			act, err := st.Activity(cmd.Context())
			if err != nil {
				return err
			}
			sigs, err := st.Signals()
			if err != nil {
				return err
			}
			files, err := st.FilesRecorded()
			if err != nil {
				return err
			}
			r := dbReport{Dir: st.Dir(), Stats: st.Stats(), Signals: len(sigs), Files: files}
			for _, ra := range act.Regions {
				c := regionCoverage{Account: ra.Account, Region: ra.Region, Events: ra.Events}
				if n := len(ra.Hours); n > 0 {
					c.First = time.Unix(ra.Hours[0]*3600, 0).UTC()
					c.Last = time.Unix(ra.Hours[n-1]*3600, 0).UTC()
					c.HoursWithEvents = n
					c.HoursWithout = int(ra.Hours[n-1]-ra.Hours[0]+1) - n
				}
				r.Regions = append(r.Regions, c)
			}
			switch format {
			case "json":
				return a.writeIndentedJSON(r)
			case "text", "":
				return r.writeText(a)
			}
			return fmt.Errorf("unknown format %q (want text or json)", format)
		},
	}
	info.Flags().StringVarP(&format, "format", "f", "text", "output format: text or json")
	info.Flags().BoolVar(&check, "check", false, "first verify every file of the store (as db check does)")
	cmd.AddCommand(info, a.dbCheckCmd(), a.dbRepairCmd())
	return cmd
}

func (a *app) dbCheckCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "check DIR",
		Short: "Verify every file of a store against its manifest and its own checksums",
		Long: `check reads every file of a store written by hunt --db and verifies it: its size and
CRC-32C against the manifest, and its own framing and checksums (segment footers and bodies,
signal lines, the file ledger, the detection state). It changes nothing and may run while
hunt --db writes. Files the manifest does not list are shown as unreferenced (left by a run
that did not finish, or superseded; the next hunt --db removes them): that is not damage.

Exit status: 0 when every file is intact, 1 when a file is damaged or missing (or the store
could not be read); then 'trailhound db repair DIR' rebuilds what the files allow.`,
		Example: `  trailhound db check ./incident.db
  trailhound db check ./incident.db -f json | jq '.files[] | select(.status != "ok")'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.dbCheck(cmd, args[0], format)
		},
	}
	c.Flags().StringVarP(&format, "format", "f", "text", "output format: text or json")
	return c
}

// dbCheck runs store.Check, prints the report and fails when something is damaged.
func (a *app) dbCheck(cmd *cobra.Command, dir, format string) error {
	rep, err := store.Check(cmd.Context(), dir)
	if err != nil {
		return err
	}
	switch format {
	case "json":
		if err := a.writeIndentedJSON(rep); err != nil {
			return err
		}
	case "text", "":
		fmt.Fprintf(a.stdout, "store %s: generation %d, %d files checked, %d damaged or missing\n", safetext.Printable(dir), rep.Generation, len(rep.Files), rep.Damaged)
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		for _, f := range rep.Files {
			if f.Status == store.StatusOK {
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", safetext.Printable(f.Name), f.Kind, f.Status, safetext.Printable(f.Detail))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown format %q (want text or json)", format)
	}
	if !rep.OK() {
		return fmt.Errorf("store %s is damaged: %d file(s) damaged or missing; nothing was changed. `trailhound db repair %s` rebuilds the store from what its files' own checksums allow (it moves what it cannot use aside, never deletes), then hunt --db over the same logs restores what was lost", dir, rep.Damaged, dir)
	}
	return nil
}

func (a *app) dbRepairCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "repair DIR",
		Short: "Rebuild a damaged store from what its files' own checksums allow",
		Long: `repair makes a damaged store usable again and says what it could not recover. It never
deletes: files it does not take are moved to DIR/quarantine-<time>/.

With an intact manifest, damaged files are mended: a damaged segment is replaced by one
holding every event its intact blocks still give, a damaged chunk of signals by its intact
lines; a damaged file ledger or detection state is dropped. Without an intact manifest, one
is rebuilt from the segments' footers and the files' checksums, up to the newest generation
whose detection state is intact (later files, from a run that did not finish, are set aside
so that their logs are read again).

When events were lost, the file ledger is dropped: run hunt --db over the same logs again and
it stores (and evaluates) what is missing without storing anything twice. Stop hunt --db
first: repair takes the store's writer lock.`,
		Example: `  trailhound db check ./incident.db || trailhound db repair ./incident.db`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := store.Repair(cmd.Context(), args[0], store.Options{Logger: a.logger})
			if err != nil {
				return err
			}
			switch format {
			case "json":
				return a.writeIndentedJSON(rep)
			case "text", "":
			default:
				return fmt.Errorf("unknown format %q (want text or json)", format)
			}
			for _, n := range rep.Notes {
				fmt.Fprintln(a.stdout, safetext.Printable(n))
			}
			lost := func(n int) string {
				if n < 0 {
					return "an unknown number"
				}
				return fmt.Sprint(n)
			}
			fmt.Fprintf(a.stdout, "store %s: generation %d, %d events in %d segments, %d signals; %d events read back from damaged segments, %s lost; %s signals lost\n",
				safetext.Printable(rep.Dir), rep.Generation, rep.Events, rep.Segments, rep.Signals, rep.SalvagedEvents, lost(rep.LostEvents), lost(rep.LostSignals))
			return nil
		},
	}
	c.Flags().StringVarP(&format, "format", "f", "text", "output format: text or json")
	return c
}

// dbReport is what db info prints.
type dbReport struct {
	Dir     string      `json:"dir"`
	Stats   store.Stats `json:"stats"`
	Signals int         `json:"signals"`
	// Files counts the input files stored whole, which hunt --db skips while unchanged.
	Files   int              `json:"files_recorded"`
	Regions []regionCoverage `json:"regions"`
}

// regionCoverage is the activity of one account and region, by hour.
type regionCoverage struct {
	Account string    `json:"account"`
	Region  string    `json:"region"`
	Events  int       `json:"events"`
	First   time.Time `json:"first_hour"`
	Last    time.Time `json:"last_hour"`
	// HoursWithEvents and HoursWithout count the hours from First to Last with and without
	// any event.
	HoursWithEvents int `json:"hours_with_events"`
	HoursWithout    int `json:"hours_without_events"`
}

func (r dbReport) writeText(a *app) error {
	s := r.Stats
	fmt.Fprintf(a.stdout, "store %s: %d events in %d segments, %.1f MB (%.0f bytes/event), %d signals, %d input files stored whole\n\n",
		safetext.Printable(r.Dir), s.Events, s.Segments, float64(s.Bytes)/1e6, s.BytesPerEvent, r.Signals, r.Files)
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tREGION\tEVENTS\tFIRST HOUR\tLAST HOUR\tHOURS WITHOUT EVENTS")
	const hour = "2006-01-02 15:00Z"
	for _, c := range r.Regions {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d of %d\n", safetext.Printable(c.Account), safetext.Printable(c.Region), c.Events,
			c.First.Format(hour), c.Last.Format(hour), c.HoursWithout, c.HoursWithout+c.HoursWithEvents)
	}
	return tw.Flush()
}

// writeIndentedJSON writes v to stdout as indented JSON (the db commands' -f json).
func (a *app) writeIndentedJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
