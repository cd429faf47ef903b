#!/usr/bin/env bash
# Starts (or stops) a throwaway single-host Slurm cluster under DIR, to try `gpufleet sweep --backend slurm`
# without a real cluster, and for tests/sweep_slurm_test.cc. Needs root and Debian's slurmctld, slurmd,
# slurm-client and munge packages. Everything lives in DIR: a private munge key and socket, slurm.conf, the
# state and spool folders, logs, and the daemons' PIDs, so it neither reads nor disturbs a system Slurm or
# munge. Usage:
#   tools/slurm/test-cluster.sh start DIR   # prints `export SLURM_CONF=DIR/slurm.conf` once the node is idle
#   tools/slurm/test-cluster.sh stop DIR    # stops the daemons it started (by their recorded PIDs)
# Exit codes: 0 done; 1 the cluster did not come up (the reason and the log to read on stderr); 2 usage.
# Ports: SLURM_TEST_PORT (default 16817) for slurmctld, the next one for slurmd.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
dir=$2
fail() { echo "test-cluster: $*" >&2; exit 1; }

stop() {
  # The PIDs this script recorded, in reverse start order; a PID no longer ours (gone) is skipped.
  for name in slurmd slurmctld munged; do
    local f="$dir/$name.pid"
    [ -f "$f" ] || continue
    local pid
    pid=$(cat "$f")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

case "$action" in
  stop) [ -d "$dir" ] || exit 0; stop; exit 0 ;;
  start) ;;
  *) usage ;;
esac

[ "$(id -u)" -eq 0 ] || fail "needs root (slurmd runs jobs as their user and munged checks key ownership)"
for b in munged slurmctld slurmd sbatch sinfo; do
  command -v "$b" >/dev/null || fail "$b not found: apt-get install slurmctld slurmd slurm-client munge"
done

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
stop  # a previous cluster in the same folder
rm -rf "$dir/munge" "$dir/state" "$dir/spool"
mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
chmod 700 "$dir/munge"

# munge: its own key and socket. munged insists the key be private and its folders not writable by others.
head -c 1024 /dev/urandom > "$dir/munge/munge.key"
chmod 600 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
       --pid-file="$dir/munge/munged.pidfile" --seed-file="$dir/munge/munged.seed" \
       --log-file="$dir/log/munged.log" --foreground >/dev/null 2>&1 &
echo $! > "$dir/munged.pid"
for _ in $(seq 50); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$dir/munge/munge.socket" ] || { stop; fail "munged did not start (see $dir/log/munged.log)"; }

host=$(hostname -s)
port=${SLURM_TEST_PORT:-16817}
cpus=$(nproc)
((cpus > 2)) && cpus=2
cat > "$dir/slurm.conf" <<CONF
# A single-host test cluster written by tools/slurm/test-cluster.sh.
ClusterName=gpufleet-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/state/slurmctld.pidfile
SlurmdPidFile=$dir/spool/slurmd.pidfile
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SchedulerParameters=sched_interval=1
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf

slurmctld -D -i -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 &
echo $! > "$dir/slurmctld.pid"
slurmd -D -f "$SLURM_CONF" >"$dir/log/slurmd.out" 2>&1 &
echo $! > "$dir/slurmd.pid"

# Up when the node is idle; give the daemons 30 s.
for _ in $(seq 150); do
  state=$(sinfo -h -N -o '%t' 2>/dev/null | head -1 || true)
  [ "$state" = idle ] && { echo "export SLURM_CONF=$SLURM_CONF"; exit 0; }
  for name in slurmctld slurmd munged; do
    kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null || { stop; fail "$name exited (see $dir/log/$name.log, $dir/log/$name.out)"; }
  done
  sleep 0.2
done
stop
fail "the node did not become idle within 30 s (last state '${state:-none}'; see $dir/log/)"
