#!/usr/bin/env bash
# The container image's entry point (deploy/docker/Dockerfile): one of three roles, each
# configured by the environment, for deploy/docker/compose.yaml and deploy/k8s/flotilla.yaml.
#
#   keygen       writes fresh keys, unless the ones there already fit FLOTILLA_PROCESSES:
#                  $FLOTILLA_COORDINATOR_KEYS: coordinator.secret, allowlist.txt
#                  $FLOTILLA_CLIENT_KEYS:      coordinator.public, client-K.secret (K < processes)
#                and empties $FLOTILLA_SLOT_DIR (the slots of the previous run's clients)
#   coordinator [FLAGS]   flotilla-coordinator on tcp://*:$FLOTILLA_PORT for
#                         FLOTILLA_PROCESSES x FLOTILLA_CLIENTS_PER_PROCESS logical clients; FLAGS
#                         (--rounds, --dataset ..., or --resume RUN_DIR) are passed on
#   client [FLAGS]        flotilla-client number K of FLOTILLA_PROCESSES, hosting the K-th
#                         contiguous range of logical clients, with key client-K. K is
#                         FLOTILLA_CLIENT_INDEX if set, else JOB_COMPLETION_INDEX (a Kubernetes
#                         Indexed Job's pod), else the ordinal at the end of the host name if
#                         FLOTILLA_INDEX_FROM_HOSTNAME=1 (a StatefulSet's pod-3), else the first
#                         free slot claimed in $FLOTILLA_SLOT_DIR (compose replicas)
#   anything else         run as a command (flotilla-keys ..., flotilla-coordinator --help, bash)
#
# Environment (defaults): FLOTILLA_PROCESSES (2), FLOTILLA_CLIENTS_PER_PROCESS (1),
# FLOTILLA_COORDINATOR (coordinator: the host clients connect to), FLOTILLA_PORT (5555),
# FLOTILLA_COORDINATOR_KEYS and FLOTILLA_CLIENT_KEYS (/var/lib/flotilla/keys),
# FLOTILLA_SLOT_DIR (/var/lib/flotilla/slots), FLOTILLA_INSECURE=1 (no keys: --insecure).
#
# Secret files are read from where they are mounted and copied into a private folder (0700,
# files 0600, in $FLOTILLA_PRIVATE_DIR, default /dev/shm) owned by this process's user: Flotilla refuses a secret file that
# group or others may read, and Kubernetes Secret volumes are group-readable under fsGroup.
set -euo pipefail

processes=${FLOTILLA_PROCESSES:-2}
per_process=${FLOTILLA_CLIENTS_PER_PROCESS:-1}
coordinator_keys=${FLOTILLA_COORDINATOR_KEYS:-/var/lib/flotilla/keys}
client_keys=${FLOTILLA_CLIENT_KEYS:-/var/lib/flotilla/keys}
slot_dir=${FLOTILLA_SLOT_DIR:-/var/lib/flotilla/slots}
port=${FLOTILLA_PORT:-5555}
insecure=${FLOTILLA_INSECURE:-0}
clients=$((processes * per_process))

say() { echo "[flotilla-entrypoint] $*" >&2; }
die() {
  say "error: $*"
  exit 2
}

[[ $processes =~ ^[1-9][0-9]*$ ]] || die "FLOTILLA_PROCESSES must be a positive integer, not '$processes'"
[[ $per_process =~ ^[1-9][0-9]*$ ]] || die "FLOTILLA_CLIENTS_PER_PROCESS must be a positive integer, not '$per_process'"

# Client process k's ids: k*per_process .. (k+1)*per_process-1.
range_of() {
  local first=$(($1 * per_process))
  if ((per_process == 1)); then echo "$first"; else echo "$first-$((first + per_process - 1))"; fi
}

# A private copy of a secret file; prints its path.
private_copy() {
  local dir
  dir=$(mktemp -d "${FLOTILLA_PRIVATE_DIR:-/dev/shm}/flotilla-keys.XXXXXX")
  chmod 0700 "$dir"
  (umask 077 && cat "$1" > "$dir/$(basename "$1")")
  echo "$dir/$(basename "$1")"
}

keygen() {
  local have=-1
  [[ -s $coordinator_keys/allowlist.txt ]] && have=$(grep -c . "$coordinator_keys/allowlist.txt")
  if ((have == processes)) && [[ -s $client_keys/client-$((processes - 1)).secret ]] &&
    grep -q " $(range_of $((processes - 1)))\$" "$coordinator_keys/allowlist.txt"; then
    say "keys for $processes client processes are there already; keeping them"
  else
    local tmp names=(coordinator) k
    tmp=$(mktemp -d)
    for ((k = 0; k < processes; k++)); do names+=("client-$k"); done
    flotilla-keys generate --out "$tmp" "${names[@]}" > /dev/null
    for ((k = 0; k < processes; k++)); do
      flotilla-keys allow --ids "$(range_of "$k")" "$tmp/client-$k.public"
    done > "$tmp/allowlist.txt"
    # The coordinator's secret and the allowlist go to its folder only; the clients get the
    # coordinator's public key and their own secrets.
    (umask 077 && mkdir -p "$coordinator_keys" "$client_keys")
    rm -f "$coordinator_keys"/*.secret "$coordinator_keys"/*.public "$coordinator_keys"/allowlist.txt \
      "$client_keys"/*.secret "$client_keys"/*.public
    cp -p "$tmp/coordinator.secret" "$tmp/allowlist.txt" "$coordinator_keys/"
    cp -p "$tmp/coordinator.public" "$tmp"/client-*.secret "$client_keys/"
    rm -rf "$tmp"
    say "wrote keys for the coordinator and $processes client processes (ids 0-$((clients - 1)))"
  fi
  mkdir -p "$slot_dir"
  find "$slot_dir" -mindepth 1 -delete
}

# Client index: explicit, an Indexed Job's, from the host name, or the first free slot (mkdir is
# atomic).
client_index() {
  if [[ -n ${FLOTILLA_CLIENT_INDEX:-${JOB_COMPLETION_INDEX:-}} ]]; then
    echo "${FLOTILLA_CLIENT_INDEX:-$JOB_COMPLETION_INDEX}"
    return
  fi
  local host=${HOSTNAME:-$(cat /proc/sys/kernel/hostname)} k
  if [[ ${FLOTILLA_INDEX_FROM_HOSTNAME:-0} == 1 ]]; then
    [[ $host =~ -([0-9]+)$ ]] || die "host name '$host' does not end in -<ordinal>"
    echo "${BASH_REMATCH[1]}"
    return
  fi
  mkdir -p "$slot_dir"
  # A restarted container keeps its host name, and so its slot.
  for ((k = 0; k < processes; k++)); do
    [[ $(cat "$slot_dir/$k/owner" 2> /dev/null) == "$host" ]] && { echo "$k"; return; }
  done
  for ((k = 0; k < processes; k++)); do
    if mkdir "$slot_dir/$k" 2> /dev/null; then
      echo "$host" > "$slot_dir/$k/owner"
      echo "$k"
      return
    fi
  done
  die "all $processes client slots are taken: FLOTILLA_PROCESSES must equal the number of client replicas"
}

role=${1:-}
case $role in
  keygen)
    keygen
    ;;
  coordinator)
    shift
    args=(--bind "tcp://*:$port")
    # A resumed run takes its client count from its config.json, and refuses --clients.
    [[ " $* " == *" --resume "* ]] || args+=(--clients "$clients")
    if [[ $insecure == 1 ]]; then
      args+=(--insecure)
    else
      [[ -s $coordinator_keys/allowlist.txt ]] || die "no $coordinator_keys/allowlist.txt (run the keygen role first)"
      args+=(--curve-secret-key "$(private_copy "$coordinator_keys/coordinator.secret")"
        --allowlist "$coordinator_keys/allowlist.txt")
    fi
    exec flotilla-coordinator "${args[@]}" "$@"
    ;;
  client)
    shift
    k=$(client_index)
    if ! [[ $k =~ ^[0-9]+$ ]] || ((k >= processes)); then
      die "client index '$k' is not in 0..$((processes - 1))"
    fi
    args=(--connect "tcp://${FLOTILLA_COORDINATOR:-coordinator}:$port" --client-ids "$(range_of "$k")")
    if [[ $insecure != 1 ]]; then
      [[ -s $client_keys/client-$k.secret ]] || die "no $client_keys/client-$k.secret (run the keygen role first)"
      args+=(--coordinator-key "$client_keys/coordinator.public" --key "$(private_copy "$client_keys/client-$k.secret")")
    fi
    say "client process $k of $processes: logical clients $(range_of "$k")"
    exec flotilla-client "${args[@]}" "$@"
    ;;
  "")
    die "give a role: keygen | coordinator | client, or a command"
    ;;
  *)
    exec "$@"
    ;;
esac
