#!/usr/bin/env bash
# trailhound serve on a backlog, against hunt --db on the same files and cores.
#
#   bench/serve.sh [EVENTS_PER_DAY] [DAYS]
#
# Simulates DAYS (default 7) of CloudTrail with EVENTS_PER_DAY (default 140000: about 1M
# events in all) into a folder that VersityGW (a separate process, found on PATH or where
# .ci/run installs it) serves as the bucket "trail"; then measures, one at a time:
#   hunt --db over the files on disk; hunt --db over s3://trail/AWSLogs/ through VersityGW;
#   serve listing the same bucket from an empty store until it has read every event.
# ONLY_SERVE=1 measures serve alone; PROFILE=DIR writes serve's CPU and memory profiles
# there (serve.cpu; serve.mem, whose inuse_space is what it holds at the end); SERVE_FLAGS
# adds flags to serve's command line (--open-early=false, say). Each line
# gives the events, the seconds from start to the last commit, events/s and the peak
# resident set (VmHWM; /usr/bin/time for hunt, /proc for serve).
set -euo pipefail
cd "$(dirname "$0")/.."

PER_DAY=${1:-140000}
DAYS=${2:-7}
gw=$(command -v versitygw || echo "${XDG_CACHE_HOME:-$HOME/.cache}/trailhound/bin/versitygw")
[[ -x $gw ]] || { echo "versitygw not found (.ci/run installs it)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/trailhound-serve-bench.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
bin=$work/trailhound
go build -o "$bin" ./cmd/trailhound
mkdir -p "$work/root"
"$bin" simulate -q --out "$work/root/trail" --days "$DAYS" --events-per-day "$PER_DAY" --no-digests >/dev/null
port=$((20000 + RANDOM % 20000))
"$gw" --access benchkey --secret benchsecret --port "127.0.0.1:$port" posix "$work/root" >"$work/gw.log" 2>&1 &
pids+=($!)
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1 \
	AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

measure() { # name, command...
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
	read -r secs kb <"$work/time"
	events=$(sed -n 's/^events: \([0-9]*\) read.*/\1/p' "$work/err")
	printf '%-16s %9d events %8.1f s %9.0f events/s %6d MiB peak RSS\n' "$name" "$events" "$secs" "$(echo "$events / $secs" | bc -l)" $((kb / 1024))
}
if [[ -z ${ONLY_SERVE:-} ]]; then
	measure "hunt --db local" "$bin" hunt --db "$work/db-local" -f jsonl "$work/root/trail/AWSLogs"
	measure "hunt --db s3://" "$bin" hunt --db "$work/db-s3" -f jsonl s3://trail/AWSLogs/
	want=$events
else
	want=$("$bin" hunt -f jsonl "$work/root/trail/AWSLogs" 2>&1 >/dev/null | sed -n 's/^events: \([0-9]*\) read.*/\1/p')
fi

lport=$((40000 + RANDOM % 20000))
start=$(date +%s.%N)
prof=()
if [[ -n ${PROFILE:-} ]]; then
	mkdir -p "$PROFILE"
	prof=(--cpuprofile "$PROFILE/serve.cpu" --memprofile "$PROFILE/serve.mem")
fi
"$bin" "${prof[@]}" serve --db "$work/db-serve" --trail s3://trail/AWSLogs/ --poll 1h --listen "127.0.0.1:$lport" \
	--sink "jsonl:$work/serve.jsonl" --log-level warn ${SERVE_FLAGS:-} 2>"$work/serve.log" &
spid=$!
pids+=($spid)
committed() { curl -s "http://127.0.0.1:$lport/metrics" | sed -n 's/^trailhound_events_committed_total \([0-9.e+]*\)$/\1/p'; }
while :; do
	n=$(committed || true)
	if [[ -n $n ]] && [[ $(printf '%.0f' "$n") -ge $want ]]; then
		break
	fi
	kill -0 $spid 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
	sleep 0.2
done
end=$(date +%s.%N)
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$spid/status")
commit=$(curl -s "http://127.0.0.1:$lport/metrics" | awk '/^trailhound_commit_duration_seconds_sum/{s=$2} /^trailhound_commit_duration_seconds_count/{c=$2} END{printf "%.1f ms/commit over %d commits", 1000*s/c, c}')
kill -TERM $spid
wait $spid || true
secs=$(echo "$end - $start" | bc -l)
printf '%-16s %9d events %8.1f s %9.0f events/s %6d MiB peak RSS (%s)\n' "serve" "$want" "$secs" "$(echo "$want / $secs" | bc -l)" $((hwm / 1024)) "$commit"
