package correlate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // every error line, in order
	}{
		{
			name: "all problems reported, sorted",
			cfg: Config{MaxGroups: -1, Correlations: []Correlation{
				{ID: "b", Type: EventCount, Rules: []string{"A"}},
				{ID: "a", Type: "value_sum", Rules: []string{"A", "A"}, Timespan: time.Minute},
			}},
			want: []string{
				`correlate config: MaxGroups is negative`,
				`correlation "a": rule "A" listed twice`,
				`correlation "a": unknown type "value_sum"`,
				`correlation "b": event_count needs a condition`,
				`correlation "b": event_count needs a positive timespan`,
			},
		},
		{
			name: "fields and conditions by type",
			cfg: Config{Correlations: []Correlation{
				{ID: "v", Type: ValueCount, Rules: []string{"A"}, Timespan: time.Minute, Condition: gte(1)},
				{ID: "n", Type: NewValue, Rules: []string{"A"}, Condition: gte(1), Learning: -1},
				{ID: "t", Type: Temporal, Rules: []string{"A"}, Timespan: time.Minute, ValueFields: []string{"x"},
					Forget: time.Hour, Condition: Condition{{"between", 1}}},
			}},
			want: []string{
				`correlation "n": negative duration`,
				`correlation "n": new_value needs a field`,
				`correlation "n": new_value takes no condition`,
				`correlation "t": learning and forget are for new_value and baseline_count only`,
				`correlation "t": temporal needs at least two rules`,
				`correlation "t": temporal takes no field`,
				`correlation "t": unknown condition operator "between"`,
				`correlation "v": value_count needs a field`,
			},
		},
		{
			name: "baseline_count",
			cfg: Config{Correlations: []Correlation{
				{ID: "b1", Type: BaselineCount, Rules: []string{"A"}, Timespan: time.Minute},
				{ID: "b2", Type: BaselineCount, Rules: []string{"A"}, Timespan: time.Minute, Condition: Condition{{LT, 9}, {GTE, 0}}},
				{ID: "b3", Type: BaselineCount, Rules: []string{"A"}, Timespan: time.Minute, Condition: gte(5), Factor: 0.5},
				{ID: "b4", Type: BaselineCount, Rules: []string{"A"}, Timespan: time.Hour, Condition: gte(5), Forget: time.Minute},
				{ID: "b5", Type: BaselineCount, Rules: []string{"A"}, Timespan: time.Minute, Condition: gte(5), Period: time.Minute, Forget: 1000 * time.Minute},
				{ID: "b6", Type: BaselineCount, Rules: []string{"A"}, Timespan: 2 * time.Hour, Condition: gte(5), Period: time.Hour},
				{ID: "e", Type: EventCount, Rules: []string{"A"}, Timespan: time.Minute, Condition: gte(5), Factor: 2, Period: time.Hour},
			}},
			want: []string{
				`correlation "b1": baseline_count needs a condition with a floor (gt or gte, at least 1)`,
				`correlation "b2": baseline_count needs a condition with a floor (gt or gte, at least 1)`,
				`correlation "b3": factor 0.5 is not between 1 and 1000000`,
				`correlation "b4": forget (1m0s) is shorter than the period (24h0m0s)`,
				`correlation "b5": forget (16h40m0s) spans more than 400 periods of 1m0s`,
				`correlation "b6": timespan (2h0m0s) is longer than the period (1h0m0s)`,
				`correlation "e": factor and period are for baseline_count only`,
			},
		},
		{
			name: "cycle and duplicate id",
			cfg: Config{Correlations: []Correlation{
				{ID: "x", Type: EventCount, Rules: []string{"y"}, Timespan: time.Minute, Condition: gte(1)},
				{ID: "y", Type: EventCount, Rules: []string{"x"}, Timespan: time.Minute, Condition: gte(1)},
				{ID: "y", Type: EventCount, Rules: []string{"z"}, Timespan: time.Minute, Condition: gte(1)},
				{Type: EventCount, Rules: []string{"z"}, Timespan: time.Minute, Condition: gte(1)},
			}},
			want: []string{
				`correlate config: correlation 4 has no id`,
				`correlation "x": correlations reference each other in a cycle`,
				`correlation "y": duplicate id`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil {
				t.Fatalf("New: no error, want %q", tt.want)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("New: error %v is not a *ConfigError", err)
			}
			got := strings.Split(strings.TrimPrefix(err.Error(), "configuring correlations: "), "\n")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	e, err := New(Config{Correlations: []Correlation{bruteForce, manyFailed, newValue}})
	if err != nil {
		t.Fatal(err)
	}
	got := e.Correlations()
	var ids []string
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	// Topological: "many" before "brute", which references it.
	if diff := cmp.Diff([]string{"many", "brute", "n"}, ids); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Condition{{GTE, 2}}, got[1].Condition); diff != "" {
		t.Errorf("temporal_ordered default condition (-want +got):\n%s", diff)
	}
	if got[1].KeepAlive != 10*time.Minute || got[2].KeepAlive != DefaultKeepAlive {
		t.Errorf("KeepAlive = %v, %v; want timespan 10m, and %v without timespan", got[1].KeepAlive, got[2].KeepAlive, DefaultKeepAlive)
	}
	if got[0].MaxDuration != DefaultMaxDuration {
		t.Errorf("MaxDuration = %v, want %v", got[0].MaxDuration, DefaultMaxDuration)
	}
	if !e.Wants("fail") || !e.Wants("ok") || e.Wants("many") || e.Wants("other") {
		t.Errorf("Wants: fail %v ok %v many %v other %v; want true true false false",
			e.Wants("fail"), e.Wants("ok"), e.Wants("many"), e.Wants("other"))
	}
}

func TestConditionHolds(t *testing.T) {
	tests := []struct {
		c    Condition
		n    int
		want bool
	}{
		{Condition{{GT, 2}}, 2, false}, {Condition{{GT, 2}}, 3, true},
		{Condition{{GTE, 2}}, 2, true}, {Condition{{LT, 2}}, 2, false},
		{Condition{{LTE, 2}}, 2, true}, {Condition{{EQ, 2}}, 2, true},
		{Condition{{NEQ, 2}}, 2, false}, {Condition{{GT, 100}, {LTE, 200}}, 200, true},
		{Condition{{GT, 100}, {LTE, 200}}, 201, false}, {nil, 0, true},
	}
	for _, tt := range tests {
		if got := tt.c.Holds(tt.n); got != tt.want {
			t.Errorf("%v.Holds(%d) = %v, want %v", tt.c, tt.n, got, tt.want)
		}
	}
}
