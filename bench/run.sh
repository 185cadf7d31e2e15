#!/usr/bin/env bash
# Reproducible throughput benchmark of trailhound.
#
#   bench/run.sh [N_EVENTS] [CORPUS_DIR]
#
# Builds trailhound, writes a synthetic corpus of N_EVENTS (default 200000) CloudTrail events
# (gzip'd Records files in the S3 layout) into CORPUS_DIR (reused if it already holds
# .json.gz files; a temporary folder when not given), then measures on the same files:
#   zcat (reference, if installed), gunzip only, decode only and a hunt with the built-in
#   rules on one core; a hunt with the public rules on one core and on two; sigma-go with the
#   same public rules on a sample (2000 events) on one core.
# and prints a table with the ratios the project targets.
#
# Environment: REPEAT (runs per measurement, fastest kept; default 3), SIGMAGO_EVENTS
# (default 2000), SHARED (default /work/shared: its rules/ folder holds the public rules;
# without it the public-rules and sigma-go parts are skipped), FROM (a folder of real
# CloudTrail logs to replicate instead of synthetic events, e.g.
# $SHARED/data/cloudtrail/grycap-cloudtrail-tracker; read at run time, never copied).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-200000}
CORPUS=${2:-}
REPEAT=${REPEAT:-3}
SIGMAGO_EVENTS=${SIGMAGO_EVENTS:-2000}
SHARED=${SHARED:-/work/shared}
RULES=$SHARED/rules

work=$(mktemp -d "${TMPDIR:-/tmp}/trailhound-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
bin=$work/trailhound
echo "building trailhound..." >&2
go build -o "$bin" ./cmd/trailhound

if [[ -z $CORPUS ]]; then
	CORPUS=$work/corpus
fi
if [[ -d $CORPUS ]] && find "$CORPUS" -name '*.json.gz' -print -quit | grep -q .; then
	echo "reusing the corpus in $CORPUS" >&2
else
	from=()
	if [[ -n ${FROM:-} ]]; then
		from=(--from "$FROM")
	fi
	echo "writing $N events into $CORPUS..." >&2
	"$bin" bench corpus --events "$N" "${from[@]}" "$CORPUS" >&2
fi
# Warm the page cache so that every measurement reads from memory.
find "$CORPUS" -name '*.json.gz' -print0 | xargs -0 cat >/dev/null

# kv LINE KEY prints the value of KEY in a key=value line.
kv() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2; exit }'; }
# div A B prints A/B with two decimals ("n/a" when either is missing or B is zero).
div() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
# check VALUE OP TARGET prints "met" or "MISSED".
check() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { if (v == "n/a") print "n/a"; else if ((op == ">=" && v + 0 >= t) || (op == "<=" && v + 0 <= t)) print "met"; else print "MISSED" }'; }

rows=()
row() { # name line
	local l=$2
	rows+=("$(printf '| %s | %s | %s | %s | %s | %s | %s |' "$1" "$(kv "$l" workers)" "$(kv "$l" rules)" \
		"$(kv "$l" events_per_s)" "$(kv "$l" mb_per_s)" "$(kv "$l" events_per_cpu_s)" "$(kv "$l" maxrss_mb)")")
}

echo "measuring (REPEAT=$REPEAT)..." >&2
zcat_eps="" best=""
if command -v zcat >/dev/null; then
	best=""
	for _ in $(seq "$REPEAT"); do
		t0=$(date +%s.%N)
		find "$CORPUS" -name '*.json.gz' -print0 | xargs -0 cat | zcat >/dev/null
		t1=$(date +%s.%N)
		best=$(awk -v a="$t0" -v b="$t1" -v best="$best" 'BEGIN { d = b - a; if (best == "" || d < best) print d; else print best }')
	done
else
	echo "zcat not found: no zcat reference line" >&2
fi

mapfile -t base < <("$bin" bench --workers 1 --repeat "$REPEAT" --mode gunzip,decode,hunt "$CORPUS")
printf '%s\n' "${base[@]}"
gunzip=${base[0]} decode=${base[1]} builtin=${base[2]}
events=$(kv "$gunzip" events)
if [[ -n $best ]]; then
	zcat_eps=$(awk -v n="$events" -v s="$best" 'BEGIN { printf "%.0f", n / s }')
	echo "mode=zcat workers=1 events=$events elapsed_s=$best events_per_s=$zcat_eps"
	rows+=("| zcat (reference) | 1 | – | $zcat_eps | – | – | – |")
fi
row "gunzip only (klauspost)" "$gunzip"
row "decode only (split + parse)" "$decode"
row "hunt, built-in rules" "$builtin"

pub1="" pub2="" sg=""
if [[ -d $RULES ]]; then
	pub1=$("$bin" bench --workers 1 --repeat "$REPEAT" --mode hunt --no-builtin --rules "$RULES" "$CORPUS" 2> >(grep -v '^warning: rule not loaded' >&2))
	echo "$pub1"
	pub2=$("$bin" bench --workers 2 --repeat "$REPEAT" --mode hunt --no-builtin --rules "$RULES" "$CORPUS" 2> >(grep -v '^warning: rule not loaded' >&2))
	echo "$pub2"
	row "hunt, public rules" "$pub1"
	row "hunt, public rules" "$pub2"
	sgout=$(TRAILHOUND_BENCH_CORPUS=$CORPUS TRAILHOUND_BENCH_RULES=$RULES TRAILHOUND_BENCH_EVENTS=$SIGMAGO_EVENTS GOMAXPROCS=1 \
		go test -run '^TestSigmaGoBaseline$' -count=1 -v ./internal/conformance | grep '^impl=' || true)
	echo "$sgout"
	sg=$(grep '^impl=sigma-go' <<<"$sgout" || true)
	sgth=$(grep '^impl=trailhound' <<<"$sgout" || true)
	if [[ -n $sg ]]; then
		rows+=("| sigma-go v0.6.6, $(kv "$sg" events)-event sample | 1 | $(kv "$sg" rules_evaluated) | $(kv "$sg" events_per_s) | – | – | – |")
		rows+=("| trailhound matcher, same sample, no gunzip | 1 | $(kv "$sgth" rules) | $(kv "$sgth" events_per_s) | – | – | – |")
	fi
else
	echo "skipping the public-rules and sigma-go measurements: $RULES not found (set SHARED)" >&2
fi

echo
echo "corpus: $events events, $(kv "$gunzip" files) files, $(kv "$gunzip" mb) MB decompressed; $(nproc 2>/dev/null || echo '?') CPUs; $(go env GOVERSION) $(go env GOARCH)"
echo
echo "| run | cores | rules | events/s | MB/s | events/cpu-s | peak RSS (MB) |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
if [[ -n $pub1 ]]; then
	r1=$(div "$(kv "$pub1" events_per_s)" "$(kv "$gunzip" events_per_s)")
	r1c=$(div "$(kv "$pub1" events_per_cpu_s)" "$(kv "$gunzip" events_per_cpu_s)")
	r2=$(div "$(kv "$pub1" events_per_s)" "$(kv "$sg" events_per_s)")
	r3=$(div "$(kv "$pub2" events_per_s)" "$(kv "$pub1" events_per_s)")
	rss=$(printf '%s\n' "$(kv "$builtin" maxrss_mb)" "$(kv "$pub1" maxrss_mb)" "$(kv "$pub2" maxrss_mb)" | sort -g | tail -1)
	echo "| ratio | measured | target | |"
	echo "|---|---|---|---|"
	echo "| public rules / gunzip only, 1 core (events/s) | $r1 | ≥ 0.8 | $(check "$r1" '>=' 0.8) |"
	echo "| public rules / gunzip only, 1 core (events/cpu-s) | $r1c | ≥ 0.8 | $(check "$r1c" '>=' 0.8) |"
	echo "| trailhound public rules / sigma-go, 1 core | $r2 | ≥ 50 | $(check "$r2" '>=' 50) |"
	echo "| public rules, 2 cores / 1 core | $r3 | ≥ 1.8 | $(check "$r3" '>=' 1.8) |"
	echo "| peak RSS of a hunt (MB) | $rss | ≤ 300 | $(check "$rss" '<=' 300) |"
else
	r1=$(div "$(kv "$builtin" events_per_s)" "$(kv "$gunzip" events_per_s)")
	echo "built-in rules / gunzip only, 1 core: $r1 (public-rules ratios skipped)"
fi
