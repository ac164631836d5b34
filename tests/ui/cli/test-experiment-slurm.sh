#!/usr/bin/env bash
# test-experiment-slurm.sh — an experiment on a REAL single-node Slurm:
# writes a slurm.conf for this host in a temporary folder, starts munged
# (own key and socket), slurmctld and slurmd as this user, submits the
# job array `experiment slurm` wrote with sbatch, waits for it, merges the
# cell files and compares the rows with a local `experiment run`; then
# stops the daemons. Skips (exit 77) with the reason only where the machine
# cannot: not root, or slurm-wlm / munge not installed.
#
#   test-experiment-slurm.sh CLI
set -u
cli=$1
t0=$(date +%s)
skip() { echo "skip - $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to run slurmctld, slurmd and munged"
for p in slurmctld slurmd sbatch squeue munged sqlite3; do
  command -v $p >/dev/null || skip "$p is not installed (apt-get install slurm-wlm munge sqlite3)"
done
work=$(mktemp -d)
chmod 0700 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
host=$(hostname -s)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cport=$(free_port); dport=$(free_port)
mkdir -p munge state spool
# munge: a key of our own and a socket in the folder, so the machine's
# munged (if any) is left alone
dd if=/dev/urandom of=munge/munge.key bs=1024 count=1 status=none
chmod 0400 munge/munge.key
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/sock" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
  --seed-file="$work/munge/seed" || { cat munge/munged.log; echo "FAIL - munged did not start"; exit 1; }
for _ in $(seq 50); do [ -s munge/munged.pid ] && break; sleep 0.1; done
pids+=("$(cat munge/munged.pid)")
cpus=$(nproc)
cat > slurm.conf <<CONF
ClusterName=fttest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$cport
SlurmdPort=$dport
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/sock
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=ft Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld -i -D > ctld.out 2>&1 &
pids+=($!)
slurmd -D -N "$host" > slurmd.out 2>&1 &
pids+=($!)
up=
for _ in $(seq 100); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then up=1; break; fi
  sleep 0.2
done
if [ -z "$up" ]; then
  echo "FAIL - the node did not come up:"; sinfo 2>&1; tail -20 slurmctld.log slurmd.log ctld.out slurmd.out 2>/dev/null
  exit 1
fi
t_up=$(date +%s)

cat > base.scenario <<'SC'
[scenario]
name=tiny
city=demo
days=0.05
seed=5
[fleet]
scooters=100
bikes=0
mopeds=0
[demand]
requests_per_day=1500
routing=straight
[staff]
field_staff=2
SC
cat > ab.experiment <<'EX'
[experiment]
name=tiny on Slurm
base=base.scenario
replications=2
metrics=trips_served, revenue_minor
[variant A]
[variant B]
pricing.unlock_minor=250
EX
"$cli" experiment slurm ab.experiment --out batch || { echo "FAIL - experiment slurm"; exit 1; }
job=$(sbatch --parsable batch/experiment.sbatch) || { echo "FAIL - sbatch"; cat batch/experiment.sbatch; exit 1; }
for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.5
done
n=$(ls batch/cells/cell-*.db 2>/dev/null | wc -l)
if [ "$n" != 4 ]; then
  echo "FAIL - $n of 4 cell files written by the array"; cat batch/slurm-*.out 2>/dev/null; tail -20 slurmd.log
  exit 1
fi
batch/merge.sh || { echo "FAIL - merge"; exit 1; }
t_done=$(date +%s)
"$cli" experiment run ab.experiment --jobs 2 --out local.db -q
rows() { sqlite3 "$1" 'SELECT * FROM runs ORDER BY 1, 2; SELECT * FROM results ORDER BY 1, 2, 3;'; }
if [ "$(rows batch/results.db | md5sum)" = "$(rows local.db | md5sum)" ]; then
  echo "ok - Slurm job array of 4 cells merged into the same rows as a local run"
else
  echo "FAIL - Slurm rows differ from the local run"; exit 1
fi
echo "# Slurm test: daemons up in $((t_up - t0)) s, array submitted to merged in $((t_done - t_up)) s, total $(( $(date +%s) - t0 )) s"
exit 0
