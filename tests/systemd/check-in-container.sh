#!/bin/bash
# SPDX-License-Identifier: LicenseRef-Proprietary
#
# Runs as a oneshot unit inside the test container (see run-systemd-tests.sh),
# under a real systemd, after multi-user.target.  Prints one line per check,
# "ok", "not ok" or "skip", and exits with the number of failures.
#
# Never calls `systemctl is-system-running --wait`: this unit is part of the
# boot transaction.
set -u
export SYSTEMD_PAGER= SYSTEMD_COLORS=0 LC_ALL=C.UTF-8

. /etc/payram/test-params
SVC=payram-updater.service
SOCK=payram-updater.socket
URL=http://127.0.0.1:2359
ENV=/etc/payram/updater.env
POLICY_OK=file:///etc/payram/upgrade-policy.json
POLICY_BP=file:///etc/payram/upgrade-policy.breakpoint-2.0.0-bf2fca9.json

MID_JOB_STARTED=add00f488ff8492fb827e7140021d6dc
MID_JOB_READY=bcd67fbce9424599b3bb3d8ad4b853cc
MID_JOB_FAILED=533bbc14e7b746239576559dc1d9d7f8
MID_CONFIG_RELOADED=5d5334c4c4c24a118301ccdbc6198085
MID_CONFIG_REFUSED=b8600d84e8b24f7398d8e62a233083ff

failures=0 n=0 T0=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - T0) / 1000000 )); }
ok()   { n=$((n + 1)); printf 'ok %d - %s  [%s ms]\n' $n "$1" "$(ms)"; }
nok()  { n=$((n + 1)); failures=$((failures + 1)); printf 'not ok %d - %s  [%s ms]\n' $n "$1" "$(ms)"; shift; for l in "$@"; do printf '#   %s\n' "$l"; done; }
skip() { n=$((n + 1)); printf 'ok %d - %s # SKIP %s\n' $n "$1" "$2"; }
# check NAME COMMAND...: ok when COMMAND succeeds
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "failed: $*"; fi; }

prop() { systemctl show -P "$2" "$1"; }
active() { prop "$1" ActiveState; }
# wait_for SECONDS COMMAND...: polls every 50 ms
wait_for() { local end=$(( $(date +%s%N) + $1 * 1000000000 )); shift
        until "$@"; do [ "$(date +%s%N)" -lt $end ] || return 1; sleep 0.05; done; }
is_state() { [ "$(active "$1")" = "$2" ]; }

# http METHOD PATH [BODY]: sets CODE and BODY
http() {
        local out
        if [ $# -ge 3 ]; then
                out=$(curl -s --max-time 20 -w '\n%{http_code}' -X "$1" -H 'Content-Type: application/json' \
                        --data-binary "$3" "$URL$2")
        else
                out=$(curl -s --max-time 20 -w '\n%{http_code}' -X "$1" "$URL$2")
        fi
        CODE=${out##*$'\n'} BODY=${out%$'\n'*}
}
# jget JSON KEY: a top-level string field
jget() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null; }
post_job() { http POST /upgrade "{\"mode\":\"DASHBOARD\",\"requested_target\":\"latest\",\"current_version\":\"2.0.5\"}"; }
set_env() { # set_env POLICY_URL [EXTRA LINE]
        printf 'POLICY_URL=%s\nRUNTIME_MANIFEST_URL=file:///etc/payram/runtime-manifest.json\nFETCH_TIMEOUT_SECONDS=10\n%s\n' \
                "$1" "${2:-}" > "$ENV"
}
# journal_json ARGS...: entries of the service as JSON lines, after a sync
journal_json() { journalctl --sync; journalctl -u $SVC -o json --no-pager "$@"; }
has_mid() { journal_json MESSAGE_ID="$1" | grep -q .; }

echo "# systemd $(systemctl --version | sed -n '1s/systemd //p'), cgroup fs $(stat -f -c %T /sys/fs/cgroup)"

# ---- 1. socket activation
check "socket unit is active at boot" is_state $SOCK active
check "service is inactive before the first request" is_state $SVC inactive
http GET /health
if [ "$CODE" = 200 ] && [ "$(jget "$BODY" status)" = healthy ]; then ok "GET /health answers 200 healthy through the socket"
else nok "GET /health answers 200 healthy through the socket" "code $CODE body $BODY"; fi
check "the first request activated the service" is_state $SVC active
PID=$(prop $SVC MainPID)
check "Type=notify: the service is active with a main PID" test "$PID" -gt 0

# ---- 2. STATUS=
st=$(prop $SVC StatusText)
if [[ $st == Idle* ]]; then ok "StatusText is the STATUS= line ($st)"; else nok "StatusText is the STATUS= line" "got '$st'"; fi
if systemctl status $SVC --no-pager 2>&1 | grep -q "Status: \"Idle"; then ok "systemctl status shows the STATUS= line"
else nok "systemctl status shows the STATUS= line" "$(systemctl status $SVC --no-pager 2>&1 | head -8)"; fi

# ---- 3. the hardening is in effect
caps=$(awk '/^CapBnd:/{print $2}' /proc/$PID/status)
nnp=$(awk '/^NoNewPrivs:/{print $2}' /proc/$PID/status)
sec=$(awk '/^Seccomp:/{print $2}' /proc/$PID/status)
if [ "$caps" = 0000000000000000 ] && [ "$nnp" = 1 ] && [ "$sec" = 2 ]; then ok "no capabilities, NoNewPrivileges, seccomp filter"
else nok "no capabilities, NoNewPrivileges, seccomp filter" "CapBnd $caps NoNewPrivs $nnp Seccomp $sec"; fi
rw=$(nsenter -t "$PID" -m sh -c 'for d in /etc/payram /run /usr /var/lib; do touch $d/.w 2>/dev/null && echo $d && rm $d/.w; done')
if [ -z "$rw" ]; then ok "ProtectSystem=strict: /etc, /run, /usr, /var/lib are read-only for the service"
else nok "ProtectSystem=strict: /etc, /run, /usr, /var/lib are read-only for the service" "writable: $rw"; fi
check "StateDirectory= and LogsDirectory= are writable for the service" \
        nsenter -t "$PID" -m sh -c 'touch /var/lib/payram/.w /var/log/payram/.w && rm /var/lib/payram/.w /var/log/payram/.w'
# A socket like dockerd's, created in /run after the service started: the
# service reaches it although its /run is read-only (no ReadWritePaths= needed).
/usr/bin/python3 - <<'EOF' &
import os, socket
s = socket.socket(socket.AF_UNIX); s.bind("/run/docker.sock"); os.chmod("/run/docker.sock", 0o660); s.listen(1)
c, _ = s.accept(); c.sendall(b"pong"); c.close()
EOF
fake=$!
wait_for 5 test -S /run/docker.sock
got=$(nsenter -t "$PID" -m setpriv --bounding-set=-all --inh-caps=-all /usr/bin/python3 -c '
import socket; c = socket.socket(socket.AF_UNIX); c.connect("/run/docker.sock"); print(c.recv(4).decode())' 2>&1)
if [ "$got" = pong ]; then ok "a root-owned /run/docker.sock is reachable in the service's namespace without capabilities"
else nok "a root-owned /run/docker.sock is reachable in the service's namespace without capabilities" "$got"; fi
kill $fake 2>/dev/null; wait $fake 2>/dev/null; rm -f /run/docker.sock

# ---- 4. a dry-run job and its journal entries
post_job
JOB=$(jget "$BODY" job_id)
if [ "$CODE" = 201 ] && [ "$(jget "$BODY" state)" = READY ] && [ "$(jget "$BODY" resolved_target)" = 3.3.0 ] && [ -n "$JOB" ]; then
        ok "POST /upgrade DASHBOARD latest from 2.0.5: 201 READY 3.3.0 (job $JOB)"
else nok "POST /upgrade DASHBOARD latest from 2.0.5: 201 READY 3.3.0" "code $CODE body $BODY"; fi
st=$(prop $SVC StatusText)
if [[ $st == *"$JOB READY for 3.3.0"* ]]; then ok "StatusText follows the job ($st)"; else nok "StatusText follows the job" "got '$st'"; fi

journal_fields_ok() {
        journal_json PAYRAM_JOB_ID="$JOB" | /usr/bin/python3 -c '
import json, sys
want = ["PAYRAM_JOB_ID", "PAYRAM_STATE", "PAYRAM_MODE", "PAYRAM_REQUESTED_TARGET",
        "PAYRAM_RESOLVED_TARGET", "PAYRAM_ERROR_CODE"]
entries = [json.loads(l) for l in sys.stdin if l.strip()]
mids = {e.get("MESSAGE_ID") for e in entries}
bad = [e.get("MESSAGE") for e in entries if any(k not in e for k in want)]
last = entries[-1] if entries else {}
ok = (len(entries) >= 2 and not bad and {sys.argv[1], sys.argv[2]} <= mids
      and all(e["PAYRAM_JOB_ID"] == sys.argv[3] and e.get("_SYSTEMD_UNIT") == "payram-updater.service" for e in entries)
      and last.get("PAYRAM_STATE") == "READY" and last.get("PAYRAM_MODE") == "DASHBOARD"
      and last.get("PAYRAM_REQUESTED_TARGET") == "latest" and last.get("PAYRAM_RESOLVED_TARGET") == "3.3.0"
      and last.get("PAYRAM_ERROR_CODE") == "")
print("# %d entries, MESSAGE_IDs %s, last %s" % (len(entries), sorted(m for m in mids if m),
      {k: last.get(k) for k in want}), file=sys.stderr)
sys.exit(0 if ok else 1)' $MID_JOB_STARTED $MID_JOB_READY "$JOB"
}
if wait_for 5 journal_fields_ok 2>/dev/null; then
        journal_fields_ok
        ok "journalctl -u payram-updater PAYRAM_JOB_ID=$JOB: all six PAYRAM_* fields, job-started and job-ready MESSAGE_IDs"
else nok "journalctl -u payram-updater PAYRAM_JOB_ID=$JOB: all six PAYRAM_* fields, MESSAGE_IDs" "$(journal_fields_ok 2>&1)"; fi

# ---- 5. the catalog explains the entries
journalctl --update-catalog 2>&1
if journalctl --list-catalog --no-pager | grep -q "^$MID_CONFIG_REFUSED"; then ok "journalctl --update-catalog picked up payram-updater.catalog (5 entries: $(journalctl --list-catalog --no-pager | grep -c 'payram'))"
else nok "journalctl --update-catalog picked up payram-updater.catalog"; fi
x=$(journalctl -x -u $SVC --no-pager MESSAGE_ID=$MID_JOB_READY PAYRAM_JOB_ID="$JOB" 2>&1)
if grep -q "Subject: Payram upgrade job $JOB is ready to upgrade to 3.3.0" <<< "$x" && grep -q "Defined-By: payram-updater" <<< "$x"; then
        ok "journalctl -x explains the job-ready entry, fields substituted"
else nok "journalctl -x explains the job-ready entry" "$x"; fi

# ---- 6. reload: in effect when systemctl returns, same process
set_env $POLICY_BP
t=$(date +%s%N)
systemctl reload $SVC; r=$?
post_job
if [ $r = 0 ] && [ "$CODE" = 422 ] && [ "$(jget "$BODY" error_code)" = MANUAL_UPGRADE_REQUIRED ] && [ "$(jget "$BODY" resolved_target)" = 2.0.0 ]; then
        ok "systemctl reload returned ($(( ($(date +%s%N) - t) / 1000000 )) ms) with the breakpoint policy in effect: the very next job is 422 MANUAL_UPGRADE_REQUIRED 2.0.0"
else nok "systemctl reload returns with the new policy in effect" "reload rc $r, code $CODE body $BODY"; fi
JOB=$(jget "$BODY" job_id)
check "reload kept the main PID" test "$(prop $SVC MainPID)" = "$PID"
check "a CONFIG_RELOADED entry is in the journal" has_mid $MID_CONFIG_RELOADED
check "the failed job has a job-failed entry" wait_for 3 has_mid $MID_JOB_FAILED

# ---- 7. an invalid configuration is refused, the old one keeps serving
set_env $POLICY_OK "FETCH_TIMEOUT_SECONDS=ten"
systemctl reload $SVC; r=$?
refused=$(journal_json MESSAGE_ID=$MID_CONFIG_REFUSED | /usr/bin/python3 -c 'import json,sys; [print(json.loads(l)["MESSAGE"]) for l in sys.stdin]')
if [ $r != 0 ] && grep -q "FETCH_TIMEOUT_SECONDS" <<< "$refused"; then ok "an invalid file is refused: systemctl reload fails (rc $r), a CONFIG_REFUSED entry names the key: ${refused##*$'\n'}"
else nok "an invalid file is refused: systemctl reload fails, a CONFIG_REFUSED entry names the key" "reload rc $r; entries: $refused"; fi
check "after the refused reload the service is active, same PID" test "$(active $SVC)/$(prop $SVC MainPID)" = "active/$PID"
post_job
if [ "$CODE" = 422 ] && [ "$(jget "$BODY" resolved_target)" = 2.0.0 ]; then ok "the previous configuration (breakpoint policy) still serves"
else nok "the previous configuration still serves" "code $CODE body $BODY"; fi
JOB=$(jget "$BODY" job_id)
x=$(journalctl -x -u $SVC --no-pager MESSAGE_ID=$MID_CONFIG_REFUSED 2>&1)
check "journalctl -x explains the refusal" grep -q "Subject: payram-updater refused the reloaded configuration" <<< "$x"

# ---- 8. job state survives a restart (with a valid file again: a restart,
# unlike a reload, cannot keep the old configuration)
set_env $POLICY_BP
systemctl restart $SVC; r=$?
http GET /upgrade/status
if [ $r = 0 ] && [ "$(prop $SVC MainPID)" != "$PID" ] && [ "$(jget "$BODY" job_id)" = "$JOB" ] && [ "$(jget "$BODY" state)" = FAILED ]; then
        ok "after systemctl restart (new PID) /upgrade/status still shows job $JOB FAILED"
else nok "job state survives systemctl restart" "restart rc $r, body $BODY"; fi
PID=$(prop $SVC MainPID)

# ---- 9. the watchdog kills a stalled loop, systemd restarts it, the socket keeps accepting
if [ "$TEST_HOOKS" = 1 ]; then
        n0=$(prop $SVC NRestarts)
        kill -USR2 "$PID"
        t=$(date +%s%N)
        # A request during the outage: it waits in the socket's backlog.
        http GET /health
        el=$(( ($(date +%s%N) - t) / 1000000 ))
        if [ "$CODE" = 200 ]; then ok "a request sent while the loop is stalled is answered by the restarted service (${el} ms)"
        else nok "a request during the watchdog outage is answered" "code $CODE after $el ms"; fi
        npid=$(prop $SVC MainPID)
        check "the service was restarted (new PID, NRestarts $n0 -> $(prop $SVC NRestarts))" \
                test "$npid" != "$PID" -a "$(prop $SVC NRestarts)" -gt "$n0"
        wd=$(journal_json UNIT_RESULT=watchdog | /usr/bin/python3 -c 'import json,sys; [print(json.loads(l)["MESSAGE"]) for l in sys.stdin]')
        ab=$(journalctl -u $SVC --no-pager -o cat | grep -E "Watchdog timeout|SIGABRT|status=6/ABRT" | tr '\n' '|')
        if [ -n "$wd" ] && [ -n "$ab" ]; then ok "systemd logged Result=watchdog and the SIGABRT kill: $ab"
        else nok "systemd logged Result=watchdog and SIGABRT" "unit result: $wd" "$ab"; fi
        check "the socket stayed active throughout" is_state $SOCK active
        PID=$npid
else
        skip "watchdog kill and restart" "build without -Dtest_hooks=true"
fi

# ---- 10. the Docker bridge drop-in, FreeBind and the IP allow list
# 172.17.0.1 did not exist when the socket was bound at boot (FreeBind=yes).
ip addr add 172.17.0.1/32 dev lo
ip addr add 10.66.0.1/32 dev lo
if curl -s --max-time 5 http://172.17.0.1:2359/health | grep -q healthy; then
        ok "the docker-bridge drop-in listens on 172.17.0.1:2359 although the address appeared after boot"
else nok "the docker-bridge drop-in listens on 172.17.0.1:2359"; fi
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
        if curl -s --max-time 2 --interface 10.66.0.1 http://172.17.0.1:2359/health >/dev/null; then
                nok "IPAddressDeny=any refuses a client outside loopback and 172.17.0.0/16"
        else ok "IPAddressDeny=any refuses a client outside loopback and 172.17.0.0/16 (source 10.66.0.1)"; fi
else
        skip "IPAddressDeny=any refuses other clients" "cgroup v1/hybrid container: no BPF firewall"
fi
ip addr del 172.17.0.1/32 dev lo; ip addr del 10.66.0.1/32 dev lo

# ---- 11. idle exit and re-activation with the last job intact
set_env $POLICY_OK "IDLE_EXIT_SECONDS=2"
systemctl reload $SVC
t=$(date +%s%N)
if wait_for 10 is_state $SVC inactive; then
        ok "IDLE_EXIT_SECONDS=2: the service went inactive after $(( ($(date +%s%N) - t) / 1000000 )) ms without connections (Result=$(prop $SVC Result))"
else nok "IDLE_EXIT_SECONDS=2: the service goes inactive" "state $(active $SVC)"; fi
check "the socket is still active" is_state $SOCK active
http GET /upgrade/status
if [ "$(jget "$BODY" job_id)" = "$JOB" ] && is_state $SVC active; then ok "the next request re-activated it, last job $JOB intact"
else nok "the next request re-activates it with its last job" "state $(active $SVC) body $BODY"; fi

echo "# $failures of $n checks failed; $(ms) ms"
exit $(( failures > 0 ? 1 : 0 ))
