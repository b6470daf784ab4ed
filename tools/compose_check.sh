#!/usr/bin/env bash
# Start compose.yaml's stack on this Docker host, check it end to end, and tear it down again (always).
#
#   tools/compose_check.sh            # needs docker, docker-compose (v1 or `docker compose`), curl, python3;
#                                     # echoscu (dcmtk) for the DICOM check; debootstrap only if the
#                                     # stand-in base images must be built (tools/compose-standins/README.md)
#
# Builds the stand-ins for python:3.11-slim, postgres:16 and redis:7 when those tags are missing (never over
# a real image), builds the app image `pacs-academy` with host networking (pip needs PyPI), runs
# `docker-compose up -d` without --build, waits for the sites' healthchecks, runs the checks (PASS/FAIL
# each) and `docker-compose down -v` at the end. Exit status: 0 when every check passed.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
STANDINS="$ROOT/tools/compose-standins"
BASE_TAG="pacs-standin/bookworm:minbase"
export DOCKER_BUILDKIT=0                     # the legacy builder: this daemon has no buildx
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-pacscheck}"   # its own volumes: `down -v` drops only these
export POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-check-pg-$(python3 -c 'import secrets; print(secrets.token_hex(8))')}"
export ACADEMY_SECRET_KEY="${ACADEMY_SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-300}"

if docker-compose version >/dev/null 2>&1; then COMPOSE=(docker-compose); else COMPOSE=(docker compose); fi
dc() { "${COMPOSE[@]}" -f "$ROOT/compose.yaml" "$@"; }

WORK="$(mktemp -d)"
FAILS=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
note() { echo "---- $*"; }
now() { date +%s; }

cleanup() {
    local rc=$?
    local t=$(now)
    note "tearing down: ${COMPOSE[*]} down -v"
    dc down -v --remove-orphans >"$WORK/down.log" 2>&1 || { echo "down failed:"; cat "$WORK/down.log"; }
    echo "down -v took $(( $(now) - t )) s"
    rm -rf "$WORK"
    exit "$rc"
}

is_standin() { [ "$(docker image inspect -f '{{index .Config.Labels "org.pacs-academy.compose-standin"}}' "$1" 2>/dev/null)" = 1 ]; }

build_base() {
    docker image inspect "$BASE_TAG" >/dev/null 2>&1 && return 0
    command -v debootstrap >/dev/null || { echo "debootstrap is needed to build $BASE_TAG"; return 1; }
    local rootfs="$WORK/rootfs"
    note "debootstrap bookworm (minbase) -> $BASE_TAG"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 \
        || { tail -20 "$WORK/debootstrap.log"; return 1; }
    cat >"$rootfs/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
    # this host's extra CA certificates (a TLS-inspecting egress proxy, as in many hospitals): the stand-ins
    # trust what the host trusts, so pip reaches PyPI during the app build; ca-certificates picks them up
    mkdir -p "$rootfs/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
    tar -C "$rootfs" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . \
        | docker import -c 'CMD ["/bin/bash"]' -c 'ENV LANG=C.UTF-8' - "$BASE_TAG" >/dev/null || return 1
    rm -rf "$rootfs"
}

build_standins() {
    local tag dir
    for pair in "python:3.11-slim python" "postgres:16 postgres" "redis:7 redis"; do
        read -r tag dir <<<"$pair"
        if docker image inspect "$tag" >/dev/null 2>&1; then
            is_standin "$tag" && echo "stand-in $tag present" || echo "$tag present (not a stand-in): used as is"
            continue
        fi
        build_base || return 1
        note "building stand-in $tag"
        docker build --network host -t "$tag" "$STANDINS/$dir" >"$WORK/build-$dir.log" 2>&1 \
            || { tail -30 "$WORK/build-$dir.log"; return 1; }
    done
}

container() { dc ps -q "$1" 2>/dev/null | head -1; }
state() { local id; id="$(container "$1")"; [ -n "$id" ] && docker inspect -f "$2" "$id" 2>/dev/null; }

trap cleanup EXIT
trap 'exit 130' INT TERM

T0=$(now)
build_standins || { fail "stand-in base images built"; exit 1; }
T1=$(now)
note "building the app image: docker build --network host -t pacs-academy ."
if docker build --network host -t pacs-academy . >"$WORK/build-app.log" 2>&1; then
    T2=$(now); echo "app image built in $((T2 - T1)) s (stand-ins: $((T1 - T0)) s)"
else
    tail -40 "$WORK/build-app.log"; fail "app image built"; exit 1
fi

note "${COMPOSE[*]} up -d (project $COMPOSE_PROJECT_NAME)"
dc down -v --remove-orphans >/dev/null 2>&1   # a previous run's leftovers
T3=$(now)
if ! dc up -d >"$WORK/up.log" 2>&1; then
    cat "$WORK/up.log"; fail "docker-compose up -d"; dc ps; dc logs --no-color --tail=50; exit 1
fi
T4=$(now); echo "up -d returned after $((T4 - T3)) s"

# wait for both sites' healthchecks (or a container that died)
healthy=""
while [ $(( $(now) - T3 )) -lt "$HEALTH_TIMEOUT" ]; do
    h1="$(state site1 '{{.State.Health.Status}}')"; h2="$(state site2 '{{.State.Health.Status}}')"
    if [ "$h1" = healthy ] && [ "$h2" = healthy ]; then healthy=1; break; fi
    if [ "$h1" = unhealthy ] || [ "$h2" = unhealthy ]; then break; fi
    sleep 2
done
T5=$(now)
echo "site1/site2 health $((T5 - T3)) s after up: site1 ${h1:-none}, site2 ${h2:-none}"

# --- checks -----------------------------------------------------------------------------------------------
init_state="$(state init '{{.State.Status}} {{.State.ExitCode}}')"
[ "$init_state" = "exited 0" ] && pass "init exited 0" || fail "init exited 0 (got: ${init_state:-no container})"

for svc in postgres redis sandbox site1 site2 maintenance; do
    st="$(state "$svc" '{{.State.Status}} restarts={{.RestartCount}}')"
    [ "$st" = "running restarts=0" ] && pass "$svc running (no restarts)" || fail "$svc running (got: ${st:-no container})"
done
for svc in postgres redis site1 site2; do
    h="$(state "$svc" '{{.State.Health.Status}}')"
    [ "$h" = healthy ] && pass "$svc healthcheck healthy" || fail "$svc healthcheck healthy (got: ${h:-none})"
done

# compose's network and SANDBOX_ALLOWED_NETWORKS agree, and the sites' addresses are in it
net="$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "${COMPOSE_PROJECT_NAME}_hospital" 2>/dev/null)"
allowed="$(dc exec -T site1 printenv SANDBOX_ALLOWED_NETWORKS 2>/dev/null | tr -d '\r')"
ip1="$(state site1 '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}')"
if [ "$net" = 172.28.0.0/16 ] && [ "$allowed" = "$net" ] && python3 -c 'import ipaddress,sys; sys.exit(ipaddress.ip_address(sys.argv[1]) not in ipaddress.ip_network(sys.argv[2]))' "$ip1" "$net"; then
    pass "compose network $net = SANDBOX_ALLOWED_NETWORKS; site1 at $ip1"
else fail "network ($net) / SANDBOX_ALLOWED_NETWORKS ($allowed) / site1 address ($ip1)"; fi

healthz() {  # port: 200, status ok, database ok, and (academy/health.py on a site that is a client of the
             # sandbox service) the service it uses and that the sandbox database answers
    local port=$1 code
    code="$(curl -s -o "$WORK/healthz-$port.json" -w '%{http_code}' "http://127.0.0.1:$port/healthz")"
    [ "$code" = 200 ] && python3 - "$WORK/healthz-$port.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
checks = doc["checks"]
ok = (doc["status"] == "ok" and checks["database"] == "ok" and checks.get("sandbox_service") == "sandbox:11112"
      and checks["sandbox"]["database"]["ok"] is True)
sys.exit(0 if ok else 1)
EOF
}
for port in 8001 8002; do
    if healthz "$port"; then pass "GET :$port/healthz 200 ($(tr -d '\n ' <"$WORK/healthz-$port.json"))"
    else fail "GET :$port/healthz: $(cat "$WORK/healthz-$port.json" 2>/dev/null)"; fi
done

# The sites are clients of the sandbox service, so their /healthz does not report the sandbox's listeners
# (academy/health.py: those are watched where they run); they are checked where they are reached: from a
# site over the compose network here, and from this host through the published ports below.
if dc exec -T site1 python - >"$WORK/listeners.txt" 2>&1 <<'EOF'
import socket
for port in (11112, 2575):
    socket.create_connection(("sandbox", port), timeout=5).close()
    print(f"sandbox:{port} open", end="; ")
EOF
then pass "sandbox DICOM and HL7 listeners reachable from site1 over the compose network ($(cat "$WORK/listeners.txt"))"
else fail "sandbox listeners reachable from site1: $(cat "$WORK/listeners.txt")"; fi

# a site admin, created the way compose.yaml's header says, logs in on both sites
ADMIN_EMAIL="compose-check@hospital.org"
ADMIN_PASSWORD="Check-$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')"
if printf '%s\n' "$ADMIN_PASSWORD" | dc run --rm -T init flask --app app user create "$ADMIN_EMAIL" \
        --role site_admin --password-stdin >"$WORK/user.log" 2>&1; then
    pass "docker-compose run --rm init flask --app app user create ... --role site_admin ($(grep -h Created "$WORK/user.log"))"
else
    fail "user create: $(tail -5 "$WORK/user.log")"
fi
login() {  # port: GET the form, POST it with its CSRF token; expect 302 to /dashboard
    local port=$1 jar="$WORK/jar-$1" token code location
    curl -s -c "$jar" -b "$jar" "http://127.0.0.1:$port/login" >"$WORK/login-$port.html"
    token="$(python3 -c 'import re,sys; m=re.search(r"name=\"csrf_token\"[^>]*value=\"([^\"]+)\"", open(sys.argv[1]).read()); print(m.group(1) if m else "")' "$WORK/login-$port.html")"
    [ -n "$token" ] || { echo "no csrf_token in the form"; return 1; }
    read -r code location < <(curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' -c "$jar" -b "$jar" \
        --data-urlencode "csrf_token=$token" --data-urlencode "email=$ADMIN_EMAIL" \
        --data-urlencode "password=$ADMIN_PASSWORD" "http://127.0.0.1:$port/login")
    echo "HTTP $code -> $location"
    [ "$code" = 302 ] && [[ "$location" == */dashboard ]] || return 1
    code="$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" "http://127.0.0.1:$port/dashboard")"
    echo "; GET /dashboard with the session: HTTP $code"
    [ "$code" = 200 ]
}
for port in 8001 8002; do
    if out="$(login "$port" 2>&1)"; then pass "site admin logs in on :$port ($(echo $out))"
    else fail "site admin logs in on :$port ($(echo $out))"; fi
done

for port in 8001 8002; do
    healthz "$port" && pass "GET :$port/healthz after logins 200 ($(tr -d '\n ' <"$WORK/healthz-$port.json"))" \
        || fail "GET :$port/healthz after logins: $(cat "$WORK/healthz-$port.json" 2>/dev/null)"
done

# DICOM from the host: a partition's archive answers a C-ECHO from its workstation
if dc exec -T sandbox python -m sandbox partition create CHK >"$WORK/partition.log" 2>&1; then
    pass "docker-compose exec sandbox python -m sandbox partition create CHK"
else fail "partition create: $(tail -5 "$WORK/partition.log")"; fi
if command -v echoscu >/dev/null; then
    if echoscu -v -to 10 -aet CHK_WS -aec CHK_PACS 127.0.0.1 11112 >"$WORK/echo.log" 2>&1 \
            && grep -q "Received Echo Response (Success)" "$WORK/echo.log"; then
        pass "echoscu -aet CHK_WS -aec CHK_PACS 127.0.0.1 11112: Echo Response (Success)"
    else fail "echoscu C-ECHO to CHK_PACS: $(tail -5 "$WORK/echo.log")"; fi
    echoscu -v -to 10 -aet NOBODY -aec NOSUCH_PACS 127.0.0.1 11112 >"$WORK/echo-rj.log" 2>&1
    grep -q "Association Rejected" "$WORK/echo-rj.log" \
        && pass "echoscu to an unknown called AE: association answered with A-ASSOCIATE-RJ" \
        || fail "echoscu unknown called AE: $(tail -5 "$WORK/echo-rj.log")"
else
    fail "echoscu (dcmtk) not installed on this host"
fi

# HL7 from the host: an ADT^A01 to the partition's RIS over MLLP is acknowledged (MSA|AA)
if python3 - >"$WORK/hl7.txt" 2>&1 <<'EOF'
import socket, sys
msg = ("MSH|^~\\&|CHK_HIS|HOSP|CHK_RIS|CHK|20261128120000||ADT^A01|CHECK1|P|2.5\r"
       "EVN|A01|20261128120000\rPID|1||CHECK123^^^HOSP||DOE^JOHN\r")
with socket.create_connection(("127.0.0.1", 2575), timeout=10) as s:
    s.sendall(b"\x0b" + msg.encode() + b"\x1c\r")
    reply = b""
    while not reply.endswith(b"\x1c\r"):
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
msa = [seg for seg in reply.strip(b"\x0b\x1c\r").decode().split("\r") if seg.startswith("MSA")]
print(msa[0] if msa else repr(reply))
sys.exit(0 if msa and msa[0].startswith("MSA|AA|CHECK1") else 1)
EOF
then pass "HL7 ADT^A01 over MLLP to 127.0.0.1:2575 (MSH-6 CHK): $(cat "$WORK/hl7.txt")"
else fail "HL7 over MLLP to 127.0.0.1:2575: $(cat "$WORK/hl7.txt")"; fi

# the maintenance loop has run `flask maintenance` at least once, successfully
ok=""
for _ in $(seq 1 30); do
    dc logs --no-color maintenance >"$WORK/maintenance.log" 2>&1
    if grep -q "exams_closed" "$WORK/maintenance.log" \
            && ! grep -qE "Traceback|Error:" "$WORK/maintenance.log"; then ok=1; break; fi
    sleep 2
done
[ -n "$ok" ] && pass "maintenance ran (log: $(grep -v '^Attaching' "$WORK/maintenance.log" | tail -1 | sed 's/^maintenance[^|]*| //'))" \
    || fail "maintenance log shows a successful run: $(tail -5 "$WORK/maintenance.log")"

# stopping: maintenance's shell (PID 1) ends on SIGTERM at once, not after docker's 10 s SIGKILL
ts=$(now); dc stop -t 10 maintenance >/dev/null 2>&1; te=$(now)
st="$(state maintenance '{{.State.Status}} {{.State.ExitCode}}')"
[ "$st" = "exited 0" ] && [ $((te - ts)) -lt 8 ] && pass "maintenance stops on SIGTERM ($((te - ts)) s, exit 0)" \
    || fail "maintenance stops on SIGTERM (took $((te - ts)) s; state: $st)"

T6=$(now)
echo "timings: stand-ins $((T1 - T0)) s, app build $((T2 - T1)) s, up -d $((T4 - T3)) s, up -> healthy $((T5 - T3)) s, checks $((T6 - T5)) s"
if [ "$FAILS" -ne 0 ]; then
    echo "$FAILS check(s) FAILED"; dc ps; dc logs --no-color --tail=40 >"$WORK/all.log" 2>&1; tail -150 "$WORK/all.log"
    exit 1
fi
echo "ALL CHECKS PASSED"
exit 0
