#!/usr/bin/env bash
# Prints the two Kubernetes Secrets that deploy/k8s/flotilla.yaml mounts, with fresh CURVE keys
# for the coordinator and PROCESSES client pods (client pod K may register only its ids):
#   flotilla-coordinator-keys   coordinator.secret, allowlist.txt        (the coordinator only)
#   flotilla-client-keys        coordinator.public, client-K.secret ...  (the client pods)
#
#   deploy/k8s/make-secrets.sh PROCESSES [CLIENTS_PER_PROCESS] | kubectl apply -f -
#
# PROCESSES and CLIENTS_PER_PROCESS must match FLOTILLA_PROCESSES and FLOTILLA_CLIENTS_PER_PROCESS
# in flotilla.yaml. Pipe the output straight into kubectl: it holds secret keys. The keys are made
# in a private temporary folder, removed on exit. FLOTILLA_KEYS is the flotilla-keys executable
# (default: the one on PATH, e.g. build/bin after a build).
set -euo pipefail
processes=${1:?usage: $0 PROCESSES [CLIENTS_PER_PROCESS]}
per_process=${2:-1}
keys=${FLOTILLA_KEYS:-flotilla-keys}
[[ $processes =~ ^[1-9][0-9]*$ && $per_process =~ ^[1-9][0-9]*$ ]] || {
  echo "PROCESSES and CLIENTS_PER_PROCESS must be positive integers" >&2
  exit 2
}
command -v "$keys" > /dev/null || { echo "$keys not found: build it, or set FLOTILLA_KEYS" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
names=(coordinator)
for ((k = 0; k < processes; k++)); do names+=("client-$k"); done
"$keys" generate --out "$tmp/keys" "${names[@]}" > /dev/null
client_files=(--from-file="$tmp/keys/coordinator.public")
for ((k = 0; k < processes; k++)); do
  first=$((k * per_process))
  ids=$first
  ((per_process > 1)) && ids=$first-$((first + per_process - 1))
  "$keys" allow --ids "$ids" "$tmp/keys/client-$k.public"
  client_files+=(--from-file="$tmp/keys/client-$k.secret")
done > "$tmp/keys/allowlist.txt"
kubectl create secret generic flotilla-coordinator-keys --dry-run=client -o yaml \
  --from-file="$tmp/keys/coordinator.secret" --from-file="$tmp/keys/allowlist.txt"
echo "---"
kubectl create secret generic flotilla-client-keys --dry-run=client -o yaml "${client_files[@]}"
