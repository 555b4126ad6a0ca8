#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying deploy/slurm/flotilla.sbatch (and for
# tests/slurm/slurm_run_test.sh). Opt-in: nothing in scripts/test.sh or ctest runs it. Needs root
# (or sudo) on Debian 12; it changes the system:
#   - installs slurm-wlm and munge with apt if they are missing;
#   - writes /etc/slurm/slurm.conf for this host (one node, CPUs from nproc, 90% of the memory,
#     one partition "flotilla"), refusing to replace a slurm.conf it did not write;
#   - makes a munge key if there is none, and starts munged, slurmctld and slurmd directly
#     (no systemd needed), logging under /var/log/slurm/.
#
#   scripts/slurm-local.sh start    install, configure, start; wait until the node is idle
#   scripts/slurm-local.sh status   sinfo
#   scripts/slurm-local.sh stop     stop the daemons this script started (by their pid files)
set -euo pipefail

conf_dir=/etc/slurm
conf=$conf_dir/slurm.conf
marker="# written by flotilla scripts/slurm-local.sh"
run_dir=/run/flotilla-slurm
partition=flotilla

sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)

die() { echo "slurm-local: $*" >&2; exit 1; }

install_missing() {
  local missing=() p
  for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return
  echo "slurm-local: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  # slurm-wlm is the metapackage of these three; --no-install-recommends keeps the docs out.
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends slurm-wlm slurmctld slurmd slurm-client munge
}

write_conf() {
  if [[ -e $conf ]] && ! grep -qF "$marker" "$conf"; then
    die "$conf exists and was not written by this script; move it away first"
  fi
  local host cpus mem_mb
  host=$(hostname -s)
  cpus=$(nproc)
  mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  "${sudo_cmd[@]}" mkdir -p "$conf_dir" /var/log/slurm /var/spool/slurmd /var/lib/slurm/slurmctld
  "${sudo_cmd[@]}" chown slurm:slurm /var/lib/slurm/slurmctld /var/log/slurm
  # proctrack/linuxproc and task/none: no cgroup setup needed (containers, VMs without systemd).
  # config_overrides: the node is what this file says, even where slurmd counts other CPUs.
  "${sudo_cmd[@]}" tee "$conf" > /dev/null << EOF
$marker
ClusterName=flotilla-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmdParameters=config_overrides
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SlurmctldPidFile=$run_dir/slurmctld.pid
SlurmdPidFile=$run_dir/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
KillWait=10
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=$partition Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  echo "slurm-local: wrote $conf (node $host, $cpus CPUs, $mem_mb MB)"
}

running() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2> /dev/null; }

start_daemons() {
  "${sudo_cmd[@]}" mkdir -p "$run_dir" /run/munge
  "${sudo_cmd[@]}" chown slurm:slurm "$run_dir"
  "${sudo_cmd[@]}" chmod 0755 "$run_dir"
  if [[ ! -s /etc/munge/munge.key ]]; then
    "${sudo_cmd[@]}" mungekey --create --keyfile /etc/munge/munge.key
    "${sudo_cmd[@]}" chown munge:munge /etc/munge/munge.key
    "${sudo_cmd[@]}" chmod 0400 /etc/munge/munge.key
  fi
  "${sudo_cmd[@]}" chown munge:munge /run/munge
  if ! running /run/munge/munged.pid; then
    "${sudo_cmd[@]}" runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  fi
  if ! running "$run_dir/slurmctld.pid"; then
    "${sudo_cmd[@]}" /usr/sbin/slurmctld
  fi
  if ! running "$run_dir/slurmd.pid"; then
    "${sudo_cmd[@]}" /usr/sbin/slurmd
  fi
}

wait_idle() {
  local host state i
  host=$(hostname -s)
  for ((i = 0; i < 60; i++)); do
    state=$(sinfo -h -n "$host" -o %T 2> /dev/null || true)
    case $state in
      idle* | mixed* | allocated*)
        echo "slurm-local: node $host is $state (partition $partition)"
        return 0
        ;;
      drain* | down*)
        # ReturnToService=2 brings a node back by itself; a drain left from an earlier life
        # (another configuration) needs a resume.
        "${sudo_cmd[@]}" scontrol update nodename="$host" state=resume 2> /dev/null || true
        ;;
    esac
    sleep 1
  done
  sinfo -N -l || true
  die "node $host did not become idle in 60 s; see /var/log/slurm/slurmctld.log and slurmd.log"
}

stop_daemons() {
  local f
  for f in "$run_dir/slurmd.pid" "$run_dir/slurmctld.pid" /run/munge/munged.pid; do
    if running "$f"; then
      "${sudo_cmd[@]}" kill "$(cat "$f")"
      echo "slurm-local: stopped pid $(cat "$f") ($f)"
    fi
  done
}

case ${1:-} in
  start)
    install_missing
    write_conf
    start_daemons
    wait_idle
    ;;
  status) sinfo -N -l ;;
  stop) stop_daemons ;;
  *)
    echo "usage: $0 start|status|stop" >&2
    exit 2
    ;;
esac
