package simulate

import (
	"context"
	"strings"
	"testing"
)

// TestBusyShapes: the busy options add what they say, and attacker infrastructure moves
// mostly out of the published range, while the attacks keep their steps.
func TestBusyShapes(t *testing.T) {
	opts := Options{Seed: 5, Days: 2, EventsPerDay: 2000, S3Readers: 2, Scanners: true, UnlistedInfra: true,
		Attacks: []Attack{AttackLeakedKeyAdmin, AttackECSCryptomining}}
	plain := opts
	plain.S3Readers, plain.Scanners, plain.UnlistedInfra = 0, false, false
	busy, err := Generate(context.Background(), opts, discardSink{})
	if err != nil {
		t.Fatal(err)
	}
	base, err := Generate(context.Background(), plain, discardSink{})
	if err != nil {
		t.Fatal(err)
	}
	// Two readers of 3 to 6 jobs of 210 to 1170 objects a day, and a scanner pass an hour
	// per account: thousands of events a day on top of the background.
	if extra := busy.Stats.Events - base.Stats.Events; extra < 2*2*2*3*210 {
		t.Errorf("busy shapes added %d events, want thousands", extra)
	}
	listed, all := 0, 0
	for _, a := range busy.Attacks {
		for _, ip := range a.SourceIPs {
			all++
			if strings.HasPrefix(ip, "140.213.52.") {
				listed++
			}
		}
	}
	if all == 0 || listed*2 > all {
		t.Errorf("%d of %d attacker addresses in the published range; want most outside it", listed, all)
	}
	for i := range busy.Attacks {
		if got, want := len(busy.Attacks[i].Steps), len(base.Attacks[i].Steps); got == 0 || got < want/2 {
			t.Errorf("attack %d has %d steps with the busy options, %d without", busy.Attacks[i].Attack, got, want)
		}
	}
}

// discardSink drops what it is given.
type discardSink struct{}

func (discardSink) WriteFile(string, []byte) error { return nil }
