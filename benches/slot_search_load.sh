#!/usr/bin/env bash
# Load test of GP Connect "Search for free slots" (GET [base]/Slot) against the release build,
# on loopback only, with wrk (apt-get install wrk): a C client light enough to leave the 2 cores
# to the server and PostgreSQL.
#
# It starts a private PostgreSQL in a temporary folder (Unix socket only), generates the
# foundation benchmark's synthetic data set (`bookable synthetic`: 200 practices x 26 weeks from
# Monday 2 March 2026, about 6 million slots), registers the practices' ASID, serves the release
# build on 127.0.0.1, then runs wrk for each search below and prints its summary, the
# server's peak memory (VmHWM), the CPU time per request of the server and of PostgreSQL,
# and the CPU count. Everything it started is stopped on exit.
#
#   benches/slot_search_load.sh                      # the full data set
#   PRACTICES=20 WEEKS=4 DURATION=10s benches/slot_search_load.sh   # a quick run
#
# Settings (environment): PRACTICES, WEEKS, DURATION (wrk -d), CONNECTIONS (wrk -c, one run per
# value in the list), PORT (a free one),
# RUST_LOG for the server (default warn: per-request info lines are a cost of their own).
set -euo pipefail
cd "$(dirname "$0")/.."

PRACTICES=${PRACTICES:-200}
WEEKS=${WEEKS:-26}
DURATION=${DURATION:-30s}
CONNECTIONS=${CONNECTIONS:-10 50}
PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
export RUST_LOG=${RUST_LOG:-warn}
ASID=200000000359

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v psql >/dev/null || { echo "psql is needed: apt-get install postgresql" >&2; exit 1; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || bin=$(dirname "$(command -v initdb)")

cargo build --release --quiet
work=$(mktemp -d /tmp/bookable-load.XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$work"
  as_pg=(runuser -u postgres --)
fi
server_pid=""
cleanup() {
  # Every step may fail (set -e is in force here too) without skipping the next.
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"${as_pg[@]}" "$bin/initdb" -D "$work/data" -U bookable --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w \
  -o "-k $work -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB" \
  start >/dev/null
psql -q -h "$work" -U bookable -d postgres -c "CREATE DATABASE bookable"
db="postgres://bookable@/bookable?host=$work"

echo "== generating $PRACTICES practices x $WEEKS weeks"
time target/release/bookable --database-url "$db" synthetic --practices "$PRACTICES" --weeks "$WEEKS" --from 2026-03-02
psql -q -h "$work" -U bookable -d bookable -c "UPDATE practices SET asid = '$ASID'; ANALYZE"
psql -At -h "$work" -U bookable -d bookable -c "SELECT 'slots: ' || count(*) FROM slots"

target/release/bookable --database-url "$db" serve --bind "127.0.0.1:$PORT" >"$work/bookable.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.2
done
kill -0 "$server_pid" 2>/dev/null || { echo "the server did not start:" >&2; cat "$work/bookable.log" >&2; exit 1; }

# CPU time (user + system, in clock ticks of 10 ms) of a process, and of the server's backends.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_ticks() {
  local total=0 pid
  for pid in $(pgrep -u "$(stat -c %U "$work/data")" -f "postgres: bookable bookable"); do
    total=$((total + $(cpu_ticks "$pid")))
  done
  echo "$total"
}

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
iat=$(date +%s)
claims=$(cat <<JSON
{"iss":"https://consumer.example/","sub":"10019","aud":"http://127.0.0.1:$PORT/fhir","exp":$((iat + 300)),"iat":$iat,
 "reason_for_request":"directcare","requested_scope":"organization/*.read",
 "requesting_device":{"resourceType":"Device","identifier":[{"system":"https://consumer.example/device","value":"load"}],"model":"wrk","version":"1"},
 "requesting_organization":{"resourceType":"Organization","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"Y03032"}],"name":"Load test"},
 "requesting_practitioner":{"resourceType":"Practitioner","id":"10019","identifier":[{"system":"https://fhir.nhs.uk/Id/sds-user-id","value":"UNK"}],"name":[{"family":"Load"}]}}
JSON
)
jwt="$(printf '{"alg":"none","typ":"JWT"}' | b64url).$(printf '%s' "$claims" | b64url)."

ods=$(printf 'S%05d' $((PRACTICES / 2 + 1)))
base="http://127.0.0.1:$PORT/fhir/$ods/STU3/1/gpconnect/Slot"
filters="searchFilter=https%3A%2F%2Ffhir.nhs.uk%2FSTU3%2FCodeSystem%2FGPConnect-OrganisationType-1%7Curgent-care&searchFilter=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fods-organization-code%7CY03032"
includes="_include=Slot%3Aschedule&_include%3Arecurse=Schedule%3Aactor%3APractitioner&_include%3Arecurse=Schedule%3Aactor%3ALocation"

run() {
  local name=$1 url=$2
  local code
  code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Ssp-TraceID: 5a6e2a1c-0d7b-4f0e-9d43-2b8a3f1e6c70" \
    -H "Ssp-From: 918999198738" -H "Ssp-To: $ASID" -H "Ssp-InteractionID: urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1" \
    -H "Authorization: Bearer $jwt" "$url")
  [ "$code" = 200 ] || { echo "$name: HTTP $code: $(head -c 500 "$work/body")" >&2; exit 1; }
  echo "== $name: $(grep -o '"resourceType":"Slot"' "$work/body" | wc -l) slots, $(wc -c <"$work/body") bytes per response"
  local H=(-H "Ssp-TraceID: 5a6e2a1c-0d7b-4f0e-9d43-2b8a3f1e6c70" -H "Ssp-From: 918999198738" -H "Ssp-To: $ASID"
    -H "Ssp-InteractionID: urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1" -H "Authorization: Bearer $jwt")
  for c in $CONNECTIONS; do
    echo "wrk -t1 -c$c -d$DURATION --latency -H 'Ssp-TraceID: …' -H 'Ssp-From: …' -H 'Ssp-To: $ASID' -H 'Ssp-InteractionID: …slot-1' -H 'Authorization: Bearer …' '$url'"
    local server0 pg0 out n
    server0=$(cpu_ticks "$server_pid"); pg0=$(pg_ticks)
    out=$(wrk -t1 -c"$c" -d"$DURATION" --latency "${H[@]}" "$url")
    n=$(awk '/requests in/ {print $1}' <<<"$out")
    echo "$out" | grep -E "Requests/sec|Non-2xx|Socket errors|^ +(50|75|90|99)%|requests in" | sed 's/^ */  /'
    echo "  CPU per request: server $(( ($(cpu_ticks "$server_pid") - server0) * 10000 / n )) µs, PostgreSQL $(( ($(pg_ticks) - pg0) * 10000 / n )) µs"
  done
}

# The JWT is valid for 300 s from its iat: keep the runs inside that (4 x DURATION here).
# A short warm-up first, so every pooled connection has prepared the search.
wrk -t1 -c10 -d3s -H "Ssp-TraceID: 5a6e2a1c-0d7b-4f0e-9d43-2b8a3f1e6c70" -H "Ssp-From: 918999198738" -H "Ssp-To: $ASID" \
  -H "Ssp-InteractionID: urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1" -H "Authorization: Bearer $jwt" \
  "$base?start=ge2026-03-17&end=le2026-03-17&status=free&$includes&$filters" >/dev/null
run "one day (Tuesday 17 March 2026)" "$base?start=ge2026-03-17&end=le2026-03-17&status=free&$includes&$filters"
run "14 days across the spring clock change (16-29 March 2026)" "$base?start=ge2026-03-16&end=le2026-03-29&status=free&$includes&$filters"

echo "== server: peak RSS $(awk '/VmHWM/ {print $2, $3}' /proc/$server_pid/status), $(nproc) CPUs, $(uname -m)"
