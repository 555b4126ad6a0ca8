#!/usr/bin/env bash
# Installs Flotilla into a temporary prefix, builds examples/custom_aggregator and
# examples/custom_algorithm (a plugin with a client half) against it with their own five-line
# CMakeLists, and runs a real federated run with each plugin.
set -euo pipefail
build=$1 source=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$source/examples/custom_aggregator" -B "$tmp/plugin" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/plugin" >/dev/null
plugin=$tmp/plugin/libmy_rule.so
[[ -f $plugin ]] || { echo "FAIL: plugin not built"; exit 1; }

"$tmp/prefix/bin/flotilla-coordinator" --plugin "$plugin" --list-aggregators | tee "$tmp/list.txt"
grep -q '^clipped_fedavg:' "$tmp/list.txt" || { echo "FAIL: plugin aggregator not listed"; exit 1; }
grep -q 'max_norm (default 10.0)' "$tmp/list.txt" || { echo "FAIL: plugin option not listed"; exit 1; }

"$tmp/prefix/bin/flotilla-run" --clients 2 --rounds 2 --dataset synthetic --model mlp --partitioner iid \
  --plugin "$plugin" --aggregator clipped_fedavg --aggregator-opt max_norm=5 --threads 1 --out "$tmp/run"
rounds=$(wc -l < "$tmp/run/metrics.jsonl")
[[ $rounds -eq 2 ]] || { echo "FAIL: expected 2 rounds, got $rounds"; exit 1; }
grep -q '"aggregator": "clipped_fedavg"' "$tmp/run/config.json" || { echo "FAIL: config does not name the plugin"; exit 1; }
grep -q '"max_norm": "5"' "$tmp/run/config.json" || { echo "FAIL: plugin option not recorded"; exit 1; }

# The plugin with a client half: the coordinator and every client load it (flotilla-run passes
# --plugin to all of them), and the clients train with its half.
cmake -S "$source/examples/custom_algorithm" -B "$tmp/fedcm" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/fedcm" >/dev/null
fedcm=$tmp/fedcm/libfedcm.so
[[ -f $fedcm ]] || { echo "FAIL: fedcm plugin not built"; exit 1; }
"$tmp/prefix/bin/flotilla-coordinator" --plugin "$fedcm" --list-aggregators > "$tmp/list2.txt"
grep -A3 '^fedcm:' "$tmp/list2.txt" | grep -q 'client half: fedcm' || { cat "$tmp/list2.txt"; echo "FAIL: fedcm not listed with its client half"; exit 1; }
"$tmp/prefix/bin/flotilla-run" --clients 2 --rounds 2 --dataset synthetic --model mlp --partitioner iid \
  --plugin "$fedcm" --aggregator fedcm --aggregator-opt alpha=0.5 --momentum 0 --threads 1 --out "$tmp/run2"
[[ $(wc -l < "$tmp/run2/metrics.jsonl") -eq 2 ]] || { echo "FAIL: fedcm run did not record 2 rounds"; exit 1; }
grep -q '"aggregator": "fedcm"' "$tmp/run2/config.json" || { echo "FAIL: config does not name fedcm"; exit 1; }
echo "PASS: both plugins built against the install and ran 2 rounds each"
