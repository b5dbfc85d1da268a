#!/usr/bin/env bash
# Load test of the GP Connect appointment interactions (issue 14) against the release build, on
# loopback only, with wrk (apt-get install wrk) and a Lua script per interaction:
#   - Book (POST Appointment) latency at 10 concurrent consumers, each request a different free
#     slot of practice S00101 (the middle one), booked by an urgent-care consumer;
#   - Read (GET Appointment/{id}) and Retrieve (GET Patient/{id}/Appointment) latency at 10
#     concurrent consumers over the appointments just booked;
#   - booking throughput with 20 bookers on one practice (the next one, S00102).
# Like benches/slot_search_load.sh, it starts a private PostgreSQL in a temporary folder,
# generates the synthetic data set (200 practices x 26 weeks, about 6 million slots) from next
# Monday so every slot is in the future, adds 2,000 patients to each of the two practices, serves
# the release build and prints wrk's summary with the answers' status counts, the CPU per
# request of the server and PostgreSQL, and the server's peak memory. Everything it started is
# stopped on exit.
#
#   benches/appointments_load.sh                         # the full data set
#   PRACTICES=4 WEEKS=4 DURATION=5s benches/appointments_load.sh   # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."

PRACTICES=${PRACTICES:-200}
WEEKS=${WEEKS:-26}
DURATION=${DURATION:-15s}
PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
export RUST_LOG=${RUST_LOG:-warn}
ASID=200000000359
FROM=${FROM:-$(python3 -c 'import datetime; d = datetime.date.today(); print(d + datetime.timedelta(days=7 - d.weekday()))')}

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v psql >/dev/null || { echo "psql is needed: apt-get install postgresql" >&2; exit 1; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || bin=$(dirname "$(command -v initdb)")

cargo build --release --quiet
work=$(mktemp -d /tmp/bookable-appt-load.XXXXXX)
chmod 755 "$work"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$work"
  as_pg=(runuser -u postgres --)
fi
server_pid=""
cleanup() {
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
sql() { psql -q -At -h "$work" -U bookable -d bookable "$@"; }
psql -q -h "$work" -U bookable -d postgres -c "CREATE DATABASE bookable"
db="postgres://bookable@/bookable?host=$work"

echo "== generating $PRACTICES practices x $WEEKS weeks from $FROM"
time target/release/bookable --database-url "$db" synthetic --practices "$PRACTICES" --weeks "$WEEKS" --from "$FROM"
sql -c "UPDATE practices SET asid = '$ASID'"
book_ods=$(printf 'S%05d' $((PRACTICES / 2 + 1)))
burst_ods=$(printf 'S%05d' $((PRACTICES / 2 + 2)))
for ods in $book_ods $burst_ods; do
  sql -c "INSERT INTO patients (practice_id, nhs_number, nhs_number_verified, family_name, given_names, birth_date,
                                registration_type, registration_start)
          SELECT p.id, '9' || lpad(n::text, 9, '0'), true, 'Patient' || n, ARRAY['Sam'], DATE '1980-01-01',
                 'R', DATE '2000-01-01'
          FROM practices p, generate_series(1, 2000) n WHERE p.ods_code = '$ods'"
done
sql -c "ANALYZE"
echo "slots: $(sql -c 'SELECT count(*) FROM slots')"

target/release/bookable --database-url "$db" serve --bind "127.0.0.1:$PORT" >"$work/bookable.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.2
done
kill -0 "$server_pid" 2>/dev/null || { echo "the server did not start:" >&2; cat "$work/bookable.log" >&2; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_ticks() {
  local total=0 pid
  for pid in $(pgrep -u "$(stat -c %U "$work/data")" -f "postgres: bookable bookable"); do
    total=$((total + $(cpu_ticks "$pid")))
  done
  echo "$total"
}

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
# An audit JWT with `scope`, issued now (valid 300 s: made again for every run).
jwt() {
  local iat
  iat=$(date +%s)
  local claims="{\"iss\":\"https://consumer.example/\",\"sub\":\"10019\",\"aud\":\"http://127.0.0.1:$PORT/fhir\",\"exp\":$((iat + 300)),\"iat\":$iat,
 \"reason_for_request\":\"directcare\",\"requested_scope\":\"$1\",
 \"requesting_device\":{\"resourceType\":\"Device\",\"identifier\":[{\"system\":\"https://consumer.example/device\",\"value\":\"load\"}],\"model\":\"wrk\",\"version\":\"1\"},
 \"requesting_organization\":{\"resourceType\":\"Organization\",\"identifier\":[{\"system\":\"https://fhir.nhs.uk/Id/ods-organization-code\",\"value\":\"Y03032\"}],\"name\":\"Load test\"},
 \"requesting_practitioner\":{\"resourceType\":\"Practitioner\",\"id\":\"10019\",\"identifier\":[{\"system\":\"https://fhir.nhs.uk/Id/sds-user-id\",\"value\":\"UNK\"}],\"name\":[{\"family\":\"Load\"}]}}"
  echo "$(printf '{"alg":"none","typ":"JWT"}' | b64url).$(printf '%s' "$claims" | b64url)."
}

# Book bodies, one a line: free slots an urgent-care consumer (Y03032) may book, earliest first
# (the query module's rules for the synthetic schedules: bookable, open or urgent care, not a
# home visit, with a slot type and no slot-level restriction), each for another patient.
bodies() {
  local ods=$1 count=$2
  sql -F $'\t' -c "
    WITH p AS (SELECT id FROM practices WHERE ods_code = '$ods'),
    free AS (
      SELECT s.id, s.start_at, s.end_at, sc.location_id, row_number() OVER (ORDER BY s.start_at, s.id) AS n
      FROM slots s JOIN schedules sc ON sc.id = s.schedule_id
      WHERE s.practice_id = (SELECT id FROM p) AND s.status = 'free' AND s.gpc_bookable IS NULL
        AND sc.gpc_bookable AND sc.delivery_channel <> 'Visit' AND s.slot_type IS NOT NULL
        AND (sc.audiences = '{}' OR 'type:urgent-care' = ANY (sc.audiences))
        AND s.start_at > now() + interval '1 day'
      ORDER BY s.start_at, s.id LIMIT $count),
    pt AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM patients WHERE practice_id = (SELECT id FROM p))
    SELECT f.id, to_char(f.start_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
           to_char(f.end_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), f.location_id, pt.id
    FROM free f JOIN pt ON pt.n = 1 + (f.n - 1) % 2000 ORDER BY f.n" |
  python3 -c '
import json, sys
for line in sys.stdin:
    slot, start, end, location, patient = line.rstrip("\n").split("\t")
    print(json.dumps({
        "resourceType": "Appointment",
        "contained": [{"resourceType": "Organization", "id": "1",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y03032"}],
            "type": [{"coding": [{"system": "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1", "code": "urgent-care"}]}],
            "name": "Load test urgent care", "telecom": [{"system": "phone", "value": "0300 000 0000"}]}],
        "extension": [{"url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-BookingOrganisation-1",
                       "valueReference": {"reference": "#1"}}],
        "status": "booked", "description": "Load test booking", "start": start, "end": end,
        "slot": [{"reference": "Slot/" + slot}], "created": start,
        "participant": [{"actor": {"reference": "Patient/" + patient}, "status": "accepted"},
                        {"actor": {"reference": "Location/" + location}, "status": "accepted"}]}, separators=(",", ":")))
'
}

# A wrk script sending, in turn, the requests of file $LINES (a body to POST, else a path to GET),
# counting the answers by status.
cat >"$work/lines.lua" <<'LUA'
local lines = {}
for line in io.lines(os.getenv("LINES")) do lines[#lines + 1] = line end
local post = os.getenv("METHOD") == "POST"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) i = 0; counts = {} end
function request()
  i = i % #lines + 1
  if post then return wrk.format("POST", nil, nil, lines[i]) end
  return wrk.format("GET", lines[i])
end
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    local parts = {}
    for status, n in pairs(c) do parts[#parts + 1] = status .. ": " .. n end
    io.write("  answers: " .. table.concat(parts, ", ") .. "\n")
  end
end
LUA

run() {
  local name=$1 connections=$2 method=$3 lines=$4 interaction=$5 scope=$6 path=$7
  [ -s "$lines" ] || { echo "$name: no requests to send" >&2; exit 1; }
  echo "== $name: $connections connections, $(wc -l <"$lines") distinct requests"
  local server0 pg0 out n token
  token=$(jwt "$scope")
  server0=$(cpu_ticks "$server_pid"); pg0=$(pg_ticks)
  out=$(LINES=$lines METHOD=$method wrk -t1 -c"$connections" -d"$DURATION" --latency -s "$work/lines.lua" \
    -H "Ssp-TraceID: 5a6e2a1c-0d7b-4f0e-9d43-2b8a3f1e6c70" -H "Ssp-From: 918999198738" -H "Ssp-To: $ASID" \
    -H "Ssp-InteractionID: urn:nhs:names:services:gpconnect:fhir:rest:$interaction" \
    -H "Authorization: Bearer $token" -H "Content-Type: application/fhir+json" \
    "http://127.0.0.1:$PORT$path")
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$out" | grep -E "Requests/sec|Socket errors|^ +(50|75|90|99)%|requests in|answers" | sed 's/^ */  /'
  echo "  CPU per request: server $(( ($(cpu_ticks "$server_pid") - server0) * 10000 / n )) µs, PostgreSQL $(( ($(pg_ticks) - pg0) * 10000 / n )) µs"
}

base=/fhir/$book_ods/STU3/1/gpconnect
bodies $book_ods 8000 >"$work/book.jsonl"
run "Book ($book_ods)" 10 POST "$work/book.jsonl" create:appointment-1 'patient/*.write' "$base/Appointment"

sql -c "SELECT '$base/Appointment/' || a.id FROM appointments a JOIN practices p ON p.id = a.practice_id
        WHERE p.ods_code = '$book_ods' ORDER BY a.id" >"$work/read.txt"
run "Read ($book_ods)" 10 GET "$work/read.txt" read:appointment-1 'patient/*.read' "$base/metadata"

first=$(date +%F)
last=$(python3 -c "import datetime; print(datetime.date.today() + datetime.timedelta(days=60))")
sql -c "SELECT DISTINCT '$base/Patient/' || a.patient_id || '/Appointment?start=ge$first&start=le$last'
        FROM appointments a JOIN practices p ON p.id = a.practice_id WHERE p.ods_code = '$book_ods'" >"$work/retrieve.txt"
echo "  appointments per patient in the range: $(sql -c "SELECT round(count(*)::numeric / count(DISTINCT patient_id), 1) FROM appointments")"
run "Retrieve ($book_ods, $first to $last)" 10 GET "$work/retrieve.txt" search:patient_appointments-1 'patient/*.read' "$base/metadata"

burst=/fhir/$burst_ods/STU3/1/gpconnect
bodies $burst_ods 8000 >"$work/burst.jsonl"
run "Book: throughput of 20 bookers ($burst_ods)" 20 POST "$work/burst.jsonl" create:appointment-1 'patient/*.write' "$burst/Appointment"

echo "== appointments booked: $(sql -c 'SELECT count(*) FROM appointments'), events: $(sql -c 'SELECT count(*) FROM appointment_events')"
echo "== server: peak RSS $(awk '/VmHWM/ {print $2, $3}' /proc/$server_pid/status), $(nproc) CPUs, $(uname -m)"
