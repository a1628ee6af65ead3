#!/usr/bin/env bash
# Stop the one-node dev cluster started by slurm/start_cluster.sh.
#
#   slurm/stop_cluster.sh [STATE_DIR]         (default: /tmp/dqnlab-slurm)
#
# Cancels the jobs still known to slurmctld (so their processes go away through Slurm),
# then stops each daemon by the PID recorded in STATE_DIR/pids/ -- SIGTERM, then SIGKILL
# after a bounded wait -- in reverse start order. It never matches processes by name.
# The state (configs, database, job history) stays in STATE_DIR; `rm -rf STATE_DIR`
# after stopping to start from scratch. Idempotent.
#
#   DQNLAB_SLURM_STOP_TIMEOUT  seconds to wait after SIGTERM before SIGKILL; default 15.
set -euo pipefail

STATE_DIR=${1:-/tmp/dqnlab-slurm}
STATE_DIR=$(realpath -m -- "$STATE_DIR")
PIDS=$STATE_DIR/pids
WAIT_S=${DQNLAB_SLURM_STOP_TIMEOUT:-15}
DAEMONS=(slurmd slurmctld slurmdbd mariadbd munged) # reverse start order

log() { echo "stop_cluster: $*"; }

if [[ ! -d $PIDS ]] || ! compgen -G "$PIDS/*.pid" >/dev/null; then
    log "no cluster recorded in $STATE_DIR (nothing to stop)"
    exit 0
fi

# runs PID NAME: PID is alive and still runs NAME (a zombie has an empty cmdline, and a
# recycled PID runs something else).
runs() {
    [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -- "$2"
}

# The PID recorded for NAME, if that process is alive and still runs NAME.
live_pid() {
    local name=$1 pidfile=$PIDS/$1.pid pid
    [[ -f $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    runs "$pid" "$name" || return 1
    echo "$pid"
}

# Cancel remaining jobs while slurmctld is still up, and give them a moment to finish.
if live_pid slurmctld >/dev/null && [[ -f $STATE_DIR/etc/slurm.conf ]]; then
    export SLURM_CONF=$STATE_DIR/etc/slurm.conf
    jobs=$(timeout 10 squeue -h -o %A 2>/dev/null || true)
    if [[ -n $jobs ]]; then
        log "cancelling jobs: ${jobs//$'\n'/ }"
        # shellcheck disable=SC2086
        timeout 10 scancel $jobs || true
        deadline=$((SECONDS + WAIT_S))
        while [[ -n $(timeout 5 squeue -h -o %A 2>/dev/null || true) ]] && ((SECONDS < deadline)); do
            sleep 0.5
        done
    fi
fi

for name in "${DAEMONS[@]}"; do
    if ! pid=$(live_pid "$name"); then
        rm -f "$PIDS/$name.pid"
        continue
    fi
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + WAIT_S))
    while runs "$pid" "$name" && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if runs "$pid" "$name"; then
        log "$name (pid $pid) ignored SIGTERM for ${WAIT_S}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 5))
        while runs "$pid" "$name" && ((SECONDS < deadline)); do
            sleep 0.2
        done
    fi
    rm -f "$PIDS/$name.pid"
    log "stopped $name (pid $pid)"
done
log "cluster in $STATE_DIR stopped"
