package match

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	bobu "github.com/BobuSumisu/aho-corasick"
	coregx "github.com/coregx/ahocorasick"
)

// benchValues are event values of the kinds contains lists are written for: ARNs, user
// agents, bucket and domain names, a command line. None contains a pattern of benchLiterals.
var benchValues = []string{
	arn,
	"aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0-13-amd64 exe/x86_64.debian.12 prompt/off command/s3.cp",
	"Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.6 cfg/retry-mode#legacy",
	"arn:aws:s3:::prod-data-lake-landing-zone-eu-west-1/exports/2026/11/20/part-00017.parquet",
	"ec2-34-245-10-17.eu-west-1.compute.amazonaws.com",
	"/bin/sh -c curl -s https://updates.example.org/install.sh | bash -s -- --quiet",
}

// benchLiterals returns n IOC-like values: random host and path fragments of 8 to 20
// characters, which no benchmark value contains (every lookup is a miss).
func benchLiterals(n int) []string {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_."
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range 7 + r.IntN(13) {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		out[i] = b.String()
	}
	return out
}

func benchBobu100k() bool { return os.Getenv("TRAILHOUND_BENCH_BOBU_100K") != "" }

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkAnyContains is the measurement behind the choice of Any: one op asks whether any
// of n case-insensitive |contains values occurs in one event value (a miss, the common case,
// which reads the whole value), with
//
//   - strings: one String per value, asked in turn (the matcher before Any);
//   - any: Any, our automaton, folding the value as it reads it;
//   - coregx, bobu: the Aho-Corasick modules github.com/coregx/ahocorasick (a full DFA) and
//     github.com/BobuSumisu/aho-corasick (what sigma-go uses), on the value lower-cased into
//     a buffer first — they compare bytes, not characters, so Unicode folding (the Kelvin
//     sign, the long s) would still need the per-value path.
//
// Each reports the heap the compiled matcher holds (MB) and its build time (build-ms).
// bobu at 100k values is skipped unless TRAILHOUND_BENCH_BOBU_100K is set: it needs 2.1 GB.
func BenchmarkAnyContains(b *testing.B) {
	values := make([][]byte, len(benchValues))
	for i, v := range benchValues {
		values[i] = []byte(v)
	}
	for _, n := range []int{10, 100, 1000, 100_000} {
		lits := benchLiterals(n)
		var buildMS, mb float64
		build := func(b *testing.B, fn func() any) any {
			h0, t0 := heapAlloc(), time.Now()
			m := fn()
			buildMS = float64(time.Since(t0).Microseconds()) / 1000
			mb = float64(heapAlloc()-h0) / (1 << 20)
			return m
		}
		run := func(b *testing.B, match func(v []byte) bool) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if match(values[i%len(values)]) {
					b.Fatal("a benchmark value matched")
				}
			}
			b.ReportMetric(buildMS, "build-ms")
			b.ReportMetric(mb, "MB")
		}
		b.Run(fmt.Sprintf("strings/n=%d", n), func(b *testing.B) {
			ms := build(b, func() any {
				ms := make([]*String, n)
				for i, l := range lits {
					ms[i] = mustString(b, Contains, l, Options{})
				}
				return ms
			}).([]*String)
			run(b, func(v []byte) bool { return anyOracle(ms, v) })
		})
		b.Run(fmt.Sprintf("any/n=%d", n), func(b *testing.B) {
			a := build(b, func() any {
				ms := make([]*String, n)
				for i, l := range lits {
					ms[i] = mustString(b, Contains, l, Options{})
				}
				a, _ := NewAny(ms)
				return a
			}).(*Any)
			run(b, a.Match)
		})
		lower := make([]byte, 0, 256)
		b.Run(fmt.Sprintf("coregx/n=%d", n), func(b *testing.B) {
			ac := build(b, func() any {
				ac, err := coregx.NewBuilder().AddStrings(lits).Build()
				if err != nil {
					b.Fatal(err)
				}
				return ac
			}).(*coregx.Automaton)
			run(b, func(v []byte) bool {
				lower = appendFolded(lower[:0], v)
				return ac.IsMatch(lower)
			})
		})
		b.Run(fmt.Sprintf("bobu/n=%d", n), func(b *testing.B) {
			if n > 1000 && !benchBobu100k() {
				b.Skip("needs 2.1 GB; set TRAILHOUND_BENCH_BOBU_100K=1 to run it")
			}
			tr := build(b, func() any { return bobu.NewTrieBuilder().AddStrings(lits).Build() }).(*bobu.Trie)
			run(b, func(v []byte) bool {
				lower = appendFolded(lower[:0], v)
				return tr.MatchFirst(lower) != nil
			})
		})
	}
}

// BenchmarkAny measures Any alone for each operation and case mode (one op: one value).
func BenchmarkAny(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 100_000} {
		lits := benchLiterals(n)
		for _, op := range []Op{Contains, StartsWith, EndsWith} {
			for _, cased := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s/cased=%v/n=%d", op, cased, n), func(b *testing.B) {
					ms := make([]*String, n)
					for i, l := range lits {
						ms[i] = mustString(b, op, l, Options{Cased: cased})
					}
					a, rest := NewAny(ms)
					if len(rest) > 0 {
						b.Fatalf("%d patterns left out", len(rest))
					}
					benchMatch(b, a, benchValues...)
				})
			}
		}
	}
}
