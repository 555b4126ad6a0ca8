#!/usr/bin/env bash
# Opt-in (not in ctest, not in CI): submits deploy/slurm/flotilla.sbatch to a running Slurm
# cluster with `sbatch --wait` and checks what it did. Start a one-node cluster on this machine
# first with `scripts/slurm-local.sh start` (root, Debian 12). Data: the built-in synthetic data
# set, so nothing is downloaded and /work/shared is not read.
#
#   tests/slurm/slurm_run_test.sh SOURCE_DIR BUILD_DIR
#
# 1. A keyed run: 2 tasks x 2 logical clients, 2 rounds. Exit status 0, both rounds in
#    metrics.jsonl with every client, "security": "curve", the key folder 0700 and secrets 0600,
#    no secret key in the job's output, and the keys deleted after the job unless kept.
# 2. The coordinator is SIGKILLed in the middle of a long run (3 clients over 2 tasks: ranges 0-1
#    and 2): the job ends soon after (the clients are stopped, not left to their 120 s reconnect
#    timeout), with the coordinator's status, and no flotilla process is left.
# 3. A SIGTERM to the batch script (what --signal=B:TERM@120 sends before the time limit) stops
#    the coordinator, which exits non-zero, and then the clients; the checkpoints stay.
# 4. FLOTILLA_RESUME continues that run in a new job to 2 rounds past where it stopped.
# Exit status 0 when all pass, 77 when no Slurm cluster answers, 1 otherwise.
set -euo pipefail
source_dir=$(cd "$1" && pwd)
build_dir=$(cd "$2" && pwd)
script=$source_dir/deploy/slurm/flotilla.sbatch

if ! command -v sbatch > /dev/null || ! sinfo -h > /dev/null 2>&1; then
  echo "SKIP: no Slurm cluster answers (scripts/slurm-local.sh start makes a one-node one)"
  exit 77
fi
# Small enough for a 2-core machine: every task gets 1 CPU, and only 2 tasks run at once.
node_cpus=$(sinfo -h -o %c | sort -n | tail -1)
((node_cpus >= 2)) || { echo "SKIP: the cluster has nodes of $node_cpus CPU(s); this test needs 2"; exit 77; }

tmp=$(mktemp -d /tmp/flotilla-slurm-test.XXXXXX)
chmod 0755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  for f in "$tmp"/*.out; do
    [[ -e $f ]] && { echo "--- $f"; cat "$f"; }
  done
  exit 1
}
# Waits until job $1 is no longer RUNNING; prints how long that took in seconds.
seconds_until_ended() {
  local t0=$SECONDS
  while [[ $(squeue -h -j "$1" -o %T 2> /dev/null) == RUNNING ]]; do sleep 0.2; done
  echo $((SECONDS - t0))
}
export FLOTILLA_BIN_DIR=$build_dir/bin FLOTILLA_DATASET=synthetic FLOTILLA_MODEL=mlp
submit=(sbatch --wait --parsable --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 --time=10 --chdir="$tmp")

# --- 1. A keyed run to the end ---------------------------------------------------------------
status=0
FLOTILLA_ROUNDS=2 FLOTILLA_CLIENTS_PER_TASK=2 FLOTILLA_WORK_DIR=$tmp/ok FLOTILLA_KEEP_KEYS=1 \
  "${submit[@]}" --output="$tmp/ok.out" "$script" --partitioner iid > "$tmp/ok.sbatch" 2>&1 ||
  status=$?
job=$(head -1 "$tmp/ok.sbatch")
# sbatch --wait polls with a growing interval: the job's own run time is Slurm's.
elapsed=$(scontrol -o show job "$job" | sed -n 's/.* RunTime=\([^ ]*\) .*/\1/p')
((status == 0)) || fail "the keyed run's job exited $status"
run=$tmp/ok/run
[[ -s $run/metrics.jsonl ]] || fail "no $run/metrics.jsonl"
rounds=$(grep -c '"round":' "$run/metrics.jsonl")
((rounds == 2)) || fail "metrics.jsonl has $rounds rounds, not 2"
grep -q '"round":2,' "$run/metrics.jsonl" || fail "no round 2 in metrics.jsonl"
# Every round answered by all 4 logical clients, hosted by the two tasks.
answered=$(grep -o '"answered":[0-9]*' "$run/metrics.jsonl" | sort -u | tr '\n' ' ')
[[ $answered == '"answered":4 ' ]] || fail "answered per round: $answered (want 4)"
grep -q '"security": *"curve"' "$run/config.json" || fail "the run was not keyed: $(grep security "$run/config.json")"
grep -q '"clients": *4,' "$run/config.json" || fail "config.json does not say 4 clients"
[[ -s $run/model_final.pt ]] || fail "no model_final.pt"
grep -q "done 2 rounds" "$tmp/ok.out" || fail "the coordinator did not say 'done 2 rounds'"
grep -q "clients 0-1 -> tcp://" "$tmp/ok.out" || fail "task 0 did not host clients 0-1"
grep -q "clients 2-3 -> tcp://" "$tmp/ok.out" || fail "task 1 did not host clients 2-3"
[[ $(cat "$tmp/ok/coordinator.exit") == 0 ]] || fail "coordinator.exit says $(cat "$tmp/ok/coordinator.exit")"
keys=$tmp/ok/keys
[[ $(stat -c %a "$keys") == 700 ]] || fail "the key folder has mode $(stat -c %a "$keys")"
for f in "$keys"/*.secret; do
  [[ $(stat -c %a "$f") == 600 ]] || fail "$f has mode $(stat -c %a "$f")"
done
[[ -e $keys/task-1.secret && ! -e $keys/task-2.secret ]] || fail "not one key per task: $(ls "$keys")"
grep -q '^task-0 .* 0-1$' "$keys/allowlist.txt" || fail "allowlist: $(cat "$keys/allowlist.txt")"
grep -q '^task-1 .* 2-3$' "$keys/allowlist.txt" || fail "allowlist: $(cat "$keys/allowlist.txt")"
# The secret halves (secret-key = "...") appear nowhere in the job's output.
while read -r secret; do
  grep -qF "$secret" "$tmp/ok.out" && fail "a secret key is in the job's output"
done < <(sed -n 's/^ *secret-key = "\(.*\)"$/\1/p' "$keys"/*.secret)
accuracy=$(grep -o '"test_accuracy":[0-9.]*' "$run/metrics.jsonl" | tail -1 | cut -d: -f2)
echo "PASS 1: keyed run, 2 tasks x 2 clients, 2/2 rounds, final accuracy $accuracy, job run time $elapsed (Slurm RunTime)"

# --- 2. The coordinator dies: the clients are stopped, the job ends with its status ----------
status_file=$tmp/dies.status
(
  s=0
  FLOTILLA_ROUNDS=100000 FLOTILLA_CLIENTS=3 FLOTILLA_WORK_DIR=$tmp/dies FLOTILLA_CLIENT_GRACE=5 \
    "${submit[@]}" --output="$tmp/dies.out" "$script" > "$tmp/dies.sbatch" 2>&1 || s=$?
  echo "$s" > "$status_file"
) &
waiter=$!
metrics=$tmp/dies/run/metrics.jsonl
for ((i = 0; i < 120; i++)); do
  [[ -s $metrics ]] && break
  sleep 0.5
done
[[ -s $metrics ]] || { kill "$waiter" 2> /dev/null; fail "the long run recorded no round in 60 s"; }
coordinator_pid=$(cat "$tmp/dies/coordinator.pid")
job=$(head -1 "$tmp/dies.sbatch")
kill -KILL "$coordinator_pid"
took=$(seconds_until_ended "$job")
wait "$waiter"
status=$(cat "$status_file")
((status != 0)) || fail "the job exited 0 after its coordinator was killed"
((took <= 30)) || fail "the job took ${took}s to end after the coordinator was killed"
grep -q "coordinator exited with status 137" "$tmp/dies.out" || fail "the script did not see status 137"
grep -q "stopping the client tasks" "$tmp/dies.out" || fail "the clients were not stopped"
grep -q "clients 0-1 -> tcp://" "$tmp/dies.out" || fail "task 0 did not host clients 0-1"
grep -q "clients 2 -> tcp://" "$tmp/dies.out" || fail "task 1 did not host client 2"
[[ ! -e $tmp/dies/keys ]] || fail "the keys were left behind: $(ls "$tmp/dies/keys")"
if pgrep -f "$tmp/dies" > /dev/null; then
  fail "processes of the job are left: $(pgrep -af "$tmp/dies")"
fi
echo "PASS 2: coordinator SIGKILLed after $(grep -c '"round":' "$metrics") round(s): job ended ${took}s later with status $status, clients stopped, keys deleted"

# --- 3. SIGTERM to the batch script: the coordinator stops, the run can be resumed ------------
status_file=$tmp/term.status
(
  s=0
  FLOTILLA_ROUNDS=100000 FLOTILLA_CLIENTS=3 FLOTILLA_WORK_DIR=$tmp/term FLOTILLA_CLIENT_GRACE=5 \
    "${submit[@]}" --output="$tmp/term.out" "$script" > "$tmp/term.sbatch" 2>&1 || s=$?
  echo "$s" > "$status_file"
) &
waiter=$!
metrics=$tmp/term/run/metrics.jsonl
for ((i = 0; i < 120; i++)); do
  [[ -s $metrics ]] && break
  sleep 0.5
done
[[ -s $metrics ]] || { kill "$waiter" 2> /dev/null; fail "the long run recorded no round in 60 s"; }
job=$(head -1 "$tmp/term.sbatch")
scancel --batch --signal=TERM "$job"
wait "$waiter"
status=$(cat "$status_file")
((status != 0)) || fail "the job exited 0 after SIGTERM"
grep -q "signal received: stopping the coordinator" "$tmp/term.out" || fail "the script did not forward SIGTERM"
grep -q "coordinator exited with status $status" "$tmp/term.out" || fail "the job's status $status is not the coordinator's"
if pgrep -f "$tmp/term" > /dev/null; then
  fail "processes of the job are left: $(pgrep -af "$tmp/term")"
fi
ls "$tmp/term/run/checkpoints/"*.ckpt > /dev/null 2>&1 || fail "no checkpoint to resume from"
echo "PASS 3: SIGTERM to the batch script stopped the coordinator (status $status) and the clients"

# --- 4. Resume that run in a new job ---------------------------------------------------------
# The run is resumed from its newest checkpoint, which may be a round before the last recorded.
last=$(find "$tmp/term/run/checkpoints" -name 'round_*.ckpt' -printf '%f\n' | sed 's/^round_0*\([0-9]*\)\.ckpt$/\1/' | sort -n | tail -1)
last=${last:-0}
want=$((last + 2))
status=0
FLOTILLA_RESUME=$tmp/term/run FLOTILLA_ROUNDS=$want FLOTILLA_WORK_DIR=$tmp/resume \
  "${submit[@]}" --output="$tmp/resume.out" "$script" > "$tmp/resume.sbatch" 2>&1 || status=$?
((status == 0)) || fail "the resumed job exited $status"
rounds=$(grep -c '"round":' "$metrics")
((rounds == want)) || fail "the resumed run has $rounds rounds in metrics.jsonl, not $want"
grep -q "done $want rounds" "$tmp/resume.out" || fail "the resumed coordinator did not say 'done $want rounds'"
echo "PASS 4: resumed from round $last in a new job, finished $want/$want rounds"
