package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/internal/ioc"
	"github.com/trailhound/trailhound/internal/safetext"
)

func (a *app) iocCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "ioc", Short: "Show the IOC lists rules reach through |expand placeholders"}
	var (
		f      iocFlags
		values bool
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List loaded IOC lists and allowlists: placeholder, entries, sources, what each is for (-v: the values)",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			set, err := ioc.Load(!f.noBuiltinIOCs, f.iocs...)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PLACEHOLDER\tENTRIES\tSOURCES\tABOUT")
			for _, l := range set.Lists() {
				fmt.Fprintf(tw, "%%%s%%\t%d\t%s\t%s\n", l.Name, len(l.Values), strings.Join(l.Sources, ", "), safetext.Printable(clipAbout(l.About)))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if values || a.verbose {
				for _, l := range set.Lists() {
					fmt.Fprintf(a.stdout, "\n%%%s%%:\n", l.Name)
					for _, v := range l.Values {
						fmt.Fprintf(a.stdout, "  %s\n", v)
					}
				}
			}
			return nil
		},
	}
	f.add(list)
	list.Flags().BoolVar(&values, "values", false, "print every value")
	cmd.AddCommand(list)
	return cmd
}

// clipAbout shortens a list's description for its table row.
func clipAbout(s string) string {
	const n = 72
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
