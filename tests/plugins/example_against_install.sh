#!/usr/bin/env bash
# Installs Flotilla into a temporary prefix, builds examples/custom_aggregator against it with
# its own five-line CMakeLists, and runs a real federated run that uses the plugin.
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
echo "PASS: plugin built against the install and ran 2 rounds"
