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
	cmd := &cobra.Command{Use: "db", Short: "Inspect a store written by hunt --db"}
	var format string
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
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			case "text", "":
				return r.writeText(a)
			}
			return fmt.Errorf("unknown format %q (want text or json)", format)
		},
	}
	info.Flags().StringVarP(&format, "format", "f", "text", "output format: text or json")
	cmd.AddCommand(info)
	return cmd
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
