#!/usr/bin/env bash
# Run ON THE GPU MACHINE from the repository root, with .gpu/debs carried (scripts/gpu/prepare.sh).
# Builds Flotilla against the LibTorch bundled in Python's torch package (CUDA), with the other
# libraries unpacked from Debian packages into /tmp/flotilla-deps, then runs a short federated run
# on CUDA and prints its numbers.
#   scripts/gpu/build_and_run.sh [flotilla-run options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
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
export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
export PATH="$deps/usr/bin:$PATH"
build=$root/build-gpu
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr;$deps/usr/share/cmake;$deps/usr/lib/x86_64-linux-gnu/cmake" \
  -DProtobuf_PROTOC_EXECUTABLE="$deps/usr/bin/protoc" -DProtobuf_INCLUDE_DIR="$deps/usr/include" \
  -DProtobuf_LIBRARY="$deps/usr/lib/x86_64-linux-gnu/libprotobuf.so" \
  -DZeroMQ_INCLUDE_DIR="$deps/usr/include" -DZeroMQ_LIBRARY="$deps/usr/lib/x86_64-linux-gnu/libzmq.so" \
  -DFLOTILLA_BUILD_TESTS=OFF
cmake --build "$build" -j "$(nproc)"
data=${FLOTILLA_GPU_DATA:-$deps/usr/share/datasets/fashion-mnist}
"$build/bin/flotilla-run" --clients 4 --rounds 5 --dataset fashion-mnist --data-dir "$data" --model mnist_cnn \
  --partitioner dirichlet --alpha 0.5 --device cuda --out "${OUT:-/tmp}/gpu-run" "$@"
# Training speed on the GPU against a bare LibTorch loop on the same GPU (samples/s).
"$build/bench/trainer_throughput" --device cuda --samples 60000 | tee "${OUT:-/tmp}/gpu-trainer-throughput.txt"
