package sample

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// File is one generated delivery file: its slash-separated path below the data directory
// (AWSLogs/...) and its gzip'd {"Records":[...]} bytes.
type File struct {
	Path string
	Data []byte
}

// Account is the AWS account ID of every event in the sample.
const Account = "111122223333"

// seed fixes the pseudo-random choices (IDs, names, order inside files) of the sample.
const seed = 0x7261696c686f756e // "trailhoun"

// Generate builds the sample. It is deterministic: every call returns the same files, in
// path order, with the same bytes (for a given compress/flate implementation). Events are
// grouped into one file per region and 5-minute slot, in random order inside a file as
// CloudTrail delivers them.
func Generate() ([]File, error) {
	b := &builder{rng: rng{state: seed}}
	b.day()

	type slot struct {
		region string
		start  time.Time
	}
	groups := map[slot][]*record{}
	var keys []slot
	for _, r := range b.records {
		k := slot{r.AWSRegion, r.at.Truncate(5 * time.Minute)}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	slices.SortFunc(keys, func(x, y slot) int {
		return cmp.Or(x.start.Compare(y.start), strings.Compare(x.region, y.region))
	})

	files := make([]File, 0, len(keys))
	for _, k := range keys {
		recs := groups[k]
		b.rng.shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		data, err := encode(recs)
		if err != nil {
			return nil, fmt.Errorf("encoding %s %s: %w", k.region, k.start.Format(time.RFC3339), err)
		}
		delivered := k.start.Add(5 * time.Minute)
		name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", Account, k.region, delivered.Format("20060102T1504Z"), b.rng.alnum(16))
		files = append(files, File{
			Path: fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/%s", Account, k.region, delivered.Format("2006/01/02"), name),
			Data: data,
		})
	}
	slices.SortFunc(files, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	return files, nil
}

// encode writes records as a gzip'd CloudTrail document. The gzip header carries no name and
// no modification time, so the bytes depend on the records alone.
func encode(recs []*record) ([]byte, error) {
	var raw bytes.Buffer
	raw.WriteString(`{"Records":[`)
	for i, r := range recs {
		if i > 0 {
			raw.WriteByte(',')
		}
		j, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		raw.Write(j)
	}
	raw.WriteString("]}")

	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// rng is splitmix64: tiny, and fixed forever, unlike the algorithms behind math/rand helpers.
type rng struct{ state uint64 }

func (g *rng) next() uint64 {
	g.state += 0x9e3779b97f4a7c15
	z := g.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); the modulo bias is irrelevant for a demo.
func (g *rng) intn(n int) int { return int(g.next() % uint64(n)) }

func (g *rng) shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		swap(i, g.intn(i+1))
	}
}

func (g *rng) alnum(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[g.intn(len(chars))]
	}
	return string(b)
}

// upper returns n characters of the alphabet AWS uses in access key and principal IDs.
func (g *rng) upper(n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[g.intn(len(chars))]
	}
	return string(b)
}

func (g *rng) uuid() string {
	hi, lo := g.next(), g.next()
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // RFC 4122 variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}
