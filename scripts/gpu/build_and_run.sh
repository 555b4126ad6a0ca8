#!/usr/bin/env bash
# Run ON THE GPU MACHINE from the repository root, with .gpu/debs carried (scripts/gpu/prepare.sh).
# Builds Flotilla's programs against the LibTorch bundled in Python's torch package (CUDA), with the
# other libraries unpacked from Debian packages into /tmp/flotilla-deps, then
#   1. a federated run on CUDA (Fashion-MNIST, 4 clients, Dirichlet 0.5) and the same run on the CPU,
#   2. bench/trainer_throughput on CUDA: train_local() against a bare LibTorch loop, two batch sizes.
# Everything it prints also lands in $OUT (or /tmp): build.log, gpu-run/, cpu-run/, throughput-*.txt.
#   scripts/gpu/build_and_run.sh [extra flotilla-run options for both runs...]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-/tmp}
deps=/tmp/flotilla-deps
mkdir -p "$deps"
for d in "$root"/.gpu/debs/*.deb; do dpkg -x "$d" "$deps"; done
python=${PYTHON:-python3}
torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
abi=$("$python" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
echo "torch $("$python" -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())')"
if [[ $abi != 1 ]]; then
  echo "error: this PyTorch uses the pre-C++11 std::string ABI; Debian's libraries use the C++11 one" >&2
  exit 1
fi
# TorchConfig looks for the CUDA toolkit (nvcc) even though Flotilla compiles no CUDA code itself.
for cuda in /usr/local/cuda /usr/local/cuda-*; do
  if [[ -x $cuda/bin/nvcc ]]; then export PATH="$cuda/bin:$PATH" CUDAToolkit_ROOT=$cuda; break; fi
done
echo "compiler: $(c++ --version | head -1); nvcc: $(nvcc --version 2>/dev/null | tail -1)"
export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
export PATH="$deps/usr/bin:$PATH"
build=$root/build-gpu
# PyPI's libtorch.so exports its own std::filesystem::remove_all, which crashed flotilla-run at
# exit (exit 139 after a complete run) while it linked LibTorch. flotilla-run and flotilla-keys
# now link only flotilla_base and flotilla_keys, no LibTorch (`ldd` shows none); not yet rerun on
# a GPU machine.
# torch/include carries its own older google/protobuf headers; -I puts Debian's 3.21 (the protoc
# that generates our code) ahead of every -isystem folder, torch's included.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr;$deps/usr/share/cmake;$deps/usr/lib/x86_64-linux-gnu/cmake" \
  -DProtobuf_PROTOC_EXECUTABLE="$deps/usr/bin/protoc" -DProtobuf_INCLUDE_DIR="$deps/usr/include" \
  -DProtobuf_LIBRARY="$deps/usr/lib/x86_64-linux-gnu/libprotobuf.so" \
  -DZeroMQ_INCLUDE_DIR="$deps/usr/include" -DZeroMQ_LIBRARY="$deps/usr/lib/x86_64-linux-gnu/libzmq.so" \
  -DCMAKE_CXX_FLAGS="-I$deps/usr/include" \
  -DFLOTILLA_BUILD_TESTS=OFF >"$out/configure.log" 2>&1 || { tail -40 "$out/configure.log"; exit 1; }
# -k 0: one attempt reports every file that does not compile against this LibTorch.
if ! ninja -C "$build" -k 0 flotilla-run flotilla-coordinator flotilla-client trainer_throughput \
    >"$out/build.log" 2>&1; then
  grep -E "error|Error" "$out/build.log" | head -60
  exit 1
fi
echo "build: ok"
data=${FLOTILLA_GPU_DATA:-$deps/usr/share/datasets/fashion-mnist}
run() {  # run DEVICE: the same federated run on one device, its metrics into $out/DEVICE-run
  local start=$SECONDS
  timeout 240 "$build/bin/flotilla-run" --clients 4 --rounds 5 --dataset fashion-mnist --data-dir "$data" \
    --model mnist_cnn --partitioner dirichlet --alpha 0.5 --seed 1 --device "$1" --out "$out/$1-run" "${@:2}" \
    >"$out/$1-run.log" 2>&1
  echo "$1 run: exit $?, $((SECONDS - start)) s"
  "$python" - "$out/$1-run/metrics.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    print(f"  round {m.get('round')}: accuracy {m.get('test_accuracy')}, round_seconds {m.get('round_seconds')}")
PY
}
run cuda "$@"
run cpu "$@"
for b in 32 256; do
  timeout 120 "$build/bench/trainer_throughput" --device cuda --samples 60000 --batch "$b" \
    | tee "$out/throughput-batch$b.txt"
done
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
