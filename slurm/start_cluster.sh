#!/usr/bin/env bash
# Start a real one-node SLURM cluster (with accounting) on localhost, for tests.
#
#   slurm/start_cluster.sh [STATE_DIR]        (default: /tmp/dqnlab-slurm)
#
# Everything lives under STATE_DIR: configs (etc/), the munge key, the MariaDB datadir,
# daemon logs (log/), spool/state directories and the daemons' PIDs (pids/*.pid).
# Nothing under /etc is read or written: clients find the cluster via SLURM_CONF,
# which this script prints and also writes to STATE_DIR/env.sh.
#
# Daemons: munged -> mariadbd -> slurmdbd -> slurmctld -> slurmd, all run as root in the
# foreground of a detached session (setsid), so the recorded PID *is* the daemon.
# Idempotent: when the recorded daemons are alive it says so and exits 0.
#
# Environment knobs:
#   DQNLAB_SLURM_PORT_BASE   first of 4 consecutive TCP ports (slurmctld, slurmd, slurmdbd,
#                            mariadb), all bound to 127.0.0.1; default 6817.
#   DQNLAB_SLURM_START_TIMEOUT  seconds to wait for each readiness check; default 60.
#
# See slurm/README.md for the design and the pitfalls this works around.
set -euo pipefail

STATE_DIR=${1:-/tmp/dqnlab-slurm}
STATE_DIR=$(realpath -m -- "$STATE_DIR")
PORT_BASE=${DQNLAB_SLURM_PORT_BASE:-6817}
WAIT_S=${DQNLAB_SLURM_START_TIMEOUT:-60}
CLUSTER=dqnlab
ACCOUNT=dqnlab

CTLD_PORT=$PORT_BASE
SLURMD_PORT=$((PORT_BASE + 1))
DBD_PORT=$((PORT_BASE + 2))
DB_PORT=$((PORT_BASE + 3))

ETC=$STATE_DIR/etc
RUN=$STATE_DIR/run
LOG=$STATE_DIR/log
PIDS=$STATE_DIR/pids
MUNGE_DIR=$STATE_DIR/munge          # key + seed, mode 700
MUNGE_SOCK_DIR=$STATE_DIR/munge-run # socket dir, mode 755 (munged refuses writable dirs)
MUNGE_SOCK=$MUNGE_SOCK_DIR/munge.socket
DB_DIR=$STATE_DIR/mysql
DB_SOCK=$RUN/mysqld.sock
SLURM_CONF_FILE=$ETC/slurm.conf

log() { echo "start_cluster: $*"; }
die() {
    echo "start_cluster: ERROR: $*" >&2
    exit 1
}

if [[ $(id -u) -ne 0 ]]; then
    die "must run as root (the daemons run as root; see slurm/README.md)"
fi
for exe in munged mungekey mariadbd mariadb-install-db mariadb slurmdbd slurmctld slurmd \
    sinfo sacct sacctmgr scontrol; do
    command -v "$exe" >/dev/null 2>&1 || die "'$exe' not found; run slurm/install_dev_cluster.sh first"
done

HOST=$(hostname -s)
# The daemons' names, in start order. stop_cluster.sh stops them in reverse.
DAEMONS=(munged mariadbd slurmdbd slurmctld slurmd)

# ---------------------------------------------------------------------------------------
# Already running?
# ---------------------------------------------------------------------------------------
# pid_alive NAME: the PID recorded for NAME is alive and still runs that program
# (guards against PID reuse after a reboot or a crash).
pid_alive() {
    local name=$1 pidfile=$PIDS/$1.pid pid
    [[ -f $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$name" || return 1
}

alive=0
for d in "${DAEMONS[@]}"; do
    if pid_alive "$d"; then alive=$((alive + 1)); fi
done
if [[ $alive -eq ${#DAEMONS[@]} ]]; then
    log "already running (state dir $STATE_DIR)"
    cat "$STATE_DIR/env.sh"
    exit 0
elif [[ $alive -gt 0 ]]; then
    log "found a partially running cluster ($alive/${#DAEMONS[@]} daemons); stopping it first"
    "$(dirname -- "${BASH_SOURCE[0]}")/stop_cluster.sh" "$STATE_DIR"
fi

mkdir -p "$ETC" "$RUN" "$LOG" "$PIDS" "$MUNGE_DIR" "$MUNGE_SOCK_DIR" \
    "$STATE_DIR/spool/slurmctld" "$STATE_DIR/spool/slurmd"
chmod 755 "$STATE_DIR" "$MUNGE_SOCK_DIR"
chmod 700 "$MUNGE_DIR"
rm -f "$PIDS"/*.pid "$MUNGE_SOCK" "$MUNGE_SOCK.lock" "$DB_SOCK"

# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------
# wait_for DESCRIPTION CMD...: retry CMD (each try bounded by `timeout 5`) until it
# succeeds or WAIT_S seconds have passed.
wait_for() {
    local what=$1
    shift
    local deadline=$((SECONDS + WAIT_S))
    until timeout 5 "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            die "timed out after ${WAIT_S}s waiting for $what (logs: $LOG/)"
        fi
        sleep 0.5
    done
}

# launch NAME CMD...: start CMD in its own session, stdout/stderr to log/NAME.out,
# record its PID in pids/NAME.pid, and fail early if it dies at once.
launch() {
    local name=$1
    shift
    setsid "$@" </dev/null >>"$LOG/$name.out" 2>&1 &
    local pid=$!
    echo "$pid" >"$PIDS/$name.pid"
    sleep 0.2
    if ! kill -0 "$pid" 2>/dev/null; then
        tail -n 20 "$LOG/$name.out" >&2 || true
        die "$name exited immediately (see $LOG/$name.out)"
    fi
    log "started $name (pid $pid)"
}

# ---------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------
# Node hardware exactly as slurmd detects it (otherwise slurmd drains the node).
node_hw=$(slurmd -C | head -n 1)
hw() { sed -n "s/.*[[:space:]]$1=\([0-9]*\).*/\1/p" <<<"$node_hw"; }
CPUS=$(hw CPUs)
SOCKETS=$(hw SocketsPerBoard)
CORES=$(hw CoresPerSocket)
THREADS=$(hw ThreadsPerCore)
MEM_DETECTED=$(hw RealMemory)
[[ -n $CPUS && -n $SOCKETS && -n $CORES && -n $THREADS && -n $MEM_DETECTED ]] ||
    die "could not parse 'slurmd -C' output: $node_hw"
# Advertise 90% of the RAM; memory is not a consumable resource here (CR_Core), so this
# only bounds what a single job may ask for with --mem.
REAL_MEM=$((MEM_DETECTED * 9 / 10))

cat >"$SLURM_CONF_FILE" <<EOF
# Generated by slurm/start_cluster.sh -- one-node dev cluster, do not use in production.
ClusterName=$CLUSTER
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root

AuthType=auth/munge
CredType=cred/munge
# cred_expire also sets how long a requeued job is held before it may start again
# (cred_expire + ~10 s); the default 120 makes every requeue cost ~140 s.
AuthInfo=socket=$MUNGE_SOCK,cred_expire=5

StateSaveLocation=$STATE_DIR/spool/slurmctld
SlurmdSpoolDir=$STATE_DIR/spool/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
PlugStackConfig=$ETC/plugstack.conf

# No cgroups: works in containers without a delegated cgroup tree.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
MailProg=/bin/true

# Accounting through slurmdbd: submitit polls job states with sacct.
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
# Slurm 22.05 reads the munge socket used towards slurmdbd from this field.
AccountingStoragePass=$MUNGE_SOCK
JobCompType=jobcomp/none

SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobRequeue=1
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
# Seconds between SIGTERM and SIGKILL when a job ends/is requeued (default 30).
KillWait=10
MinJobAge=300

NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS SocketsPerBoard=$SOCKETS CoresPerSocket=$CORES ThreadsPerCore=$THREADS RealMemory=$REAL_MEM State=UNKNOWN
# OverSubscribe=FORCE:2 lets two jobs share each core: 2 cores -> 4 small jobs at once.
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:2
EOF
: >"$ETC/plugstack.conf"

# slurmdbd.conf must sit next to slurm.conf, be owned by SlurmUser and have mode 600.
(
    umask 077
    cat >"$ETC/slurmdbd.conf" <<EOF
# Generated by slurm/start_cluster.sh
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$RUN/slurmdbd.pid
LogFile=$LOG/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
)
chmod 600 "$ETC/slurmdbd.conf"

cat >"$STATE_DIR/env.sh" <<EOF
export SLURM_CONF=$SLURM_CONF_FILE
EOF
export SLURM_CONF=$SLURM_CONF_FILE

# ---------------------------------------------------------------------------------------
# munged: own key, own socket
# ---------------------------------------------------------------------------------------
if [[ ! -s $MUNGE_DIR/munge.key ]]; then
    mungekey --create --keyfile="$MUNGE_DIR/munge.key" >/dev/null
fi
chmod 600 "$MUNGE_DIR/munge.key"
launch munged munged --foreground \
    --socket="$MUNGE_SOCK" --key-file="$MUNGE_DIR/munge.key" \
    --pid-file="$RUN/munged.pid" --log-file="$LOG/munged.log" \
    --seed-file="$MUNGE_DIR/munged.seed"
wait_for "munged socket" test -S "$MUNGE_SOCK"

# ---------------------------------------------------------------------------------------
# mariadbd: private datadir, TCP on 127.0.0.1 only; --no-defaults ignores /etc/mysql
# ---------------------------------------------------------------------------------------
if [[ ! -d $DB_DIR/mysql ]]; then
    log "initialising MariaDB datadir $DB_DIR"
    timeout 120 mariadb-install-db --no-defaults --user=root --datadir="$DB_DIR" \
        --auth-root-authentication-method=socket --skip-test-db \
        >"$LOG/mariadb-install-db.out" 2>&1 ||
        die "mariadb-install-db failed (see $LOG/mariadb-install-db.out)"
fi
launch mariadbd mariadbd --no-defaults --user=root --datadir="$DB_DIR" \
    --socket="$DB_SOCK" --port="$DB_PORT" --bind-address=127.0.0.1 \
    --pid-file="$RUN/mariadbd.pid" --log-error="$LOG/mariadbd.log" \
    --innodb-buffer-pool-size=256M --innodb-lock-wait-timeout=900 --max-connections=100
wait_for "mariadbd" mariadb --no-defaults --socket="$DB_SOCK" -u root -e "SELECT 1"
timeout 30 mariadb --no-defaults --socket="$DB_SOCK" -u root <<'EOF'
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
EOF

# ---------------------------------------------------------------------------------------
# slurmdbd, then register the cluster and an account
# ---------------------------------------------------------------------------------------
launch slurmdbd slurmdbd -D
wait_for "slurmdbd" sacctmgr -n -P show cluster
if [[ -z $(timeout 10 sacctmgr -n -P show cluster where name="$CLUSTER" format=cluster) ]]; then
    timeout 30 sacctmgr -i add cluster "$CLUSTER" >/dev/null
fi
if [[ -z $(timeout 10 sacctmgr -n -P show account where name="$ACCOUNT" format=account) ]]; then
    timeout 30 sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" \
        description="dqnlab dev cluster" organization=dqnlab >/dev/null
fi
if [[ -z $(timeout 10 sacctmgr -n -P show assoc where user=root account="$ACCOUNT" format=user) ]]; then
    timeout 30 sacctmgr -i add user root account="$ACCOUNT" cluster="$CLUSTER" >/dev/null
fi

# ---------------------------------------------------------------------------------------
# slurmctld + slurmd
# ---------------------------------------------------------------------------------------
launch slurmctld slurmctld -D
wait_for "slurmctld" scontrol ping
launch slurmd slurmd -D -N "$HOST"

node_idle() {
    local state
    state=$(timeout 5 sinfo -h -N -n "$HOST" -o '%T' 2>/dev/null) || return 1
    [[ $state == idle || $state == mixed || $state == allocated ]]
}
deadline=$((SECONDS + WAIT_S))
until node_idle; do
    if ((SECONDS >= deadline)); then
        timeout 5 sinfo -N -l >&2 || true
        die "timed out after ${WAIT_S}s waiting for node $HOST to become idle (logs: $LOG/)"
    fi
    sleep 0.5
done
wait_for "sacct" sacct -n -X -S now-1hours

log "cluster '$CLUSTER' is up: node $HOST, ${CPUS} CPUs, partition debug (state dir $STATE_DIR)"
log "client environment (also in $STATE_DIR/env.sh):"
cat "$STATE_DIR/env.sh"
