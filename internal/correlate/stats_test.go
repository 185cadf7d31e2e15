package correlate

import (
	"reflect"
	"testing"
	"time"
)

// TestStatsAdd: every count is summed (a field added to Stats and forgotten by Add fails
// this test) and the watermark is the later one.
func TestStatsAdd(t *testing.T) {
	var a, b Stats
	va, vb := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	for i := range va.NumField() {
		switch f := va.Field(i); f.Kind() {
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(i + 1))
			vb.Field(i).SetInt(100)
		}
	}
	early, late := time.Unix(100, 0).UTC(), time.Unix(200, 0).UTC()
	a.Watermark, b.Watermark = late, early
	a.Add(b)
	for i := range va.NumField() {
		switch f := va.Field(i); f.Kind() {
		case reflect.Int, reflect.Int64:
			if got, want := f.Int(), int64(i+1+100); got != want {
				t.Errorf("%s = %d after Add, want %d", va.Type().Field(i).Name, got, want)
			}
		}
	}
	if !a.Watermark.Equal(late) {
		t.Errorf("watermark %v after adding an earlier one, want %v", a.Watermark, late)
	}
	var zero Stats
	zero.Add(Stats{Watermark: early})
	if !zero.Watermark.Equal(early) {
		t.Errorf("watermark %v, want %v", zero.Watermark, early)
	}
}
