#!/usr/bin/env bash
# Installs Flotilla's build and run dependencies from Debian 12 packages, only those missing.
#   scripts/install-deps.sh            build + test dependencies, Fashion-MNIST, matplotlib (plots)
#   scripts/install-deps.sh --peers    also what bench/ needs (Python PyTorch, torchvision, mpi4py)
set -euo pipefail

# clang, libclang-rt-14-dev: libFuzzer and the sanitizer runtimes for scripts/fuzz.sh (tests/fuzz).
# libopenblas0-openmp: Debian's LibTorch calls the system BLAS, and the default reference BLAS
# makes dense layers several times slower; OpenBLAS (OpenMP flavour, like LibTorch) replaces it.
# libcpp-httplib-dev: the coordinator's live view (docs/live_view.md); chromium: its browser test.
packages=(cmake g++ make ninja-build ccache pkg-config libtorch-dev libopenblas0-openmp libzmq3-dev cppzmq-dev libprotobuf-dev protobuf-compiler
          clang libclang-rt-14-dev libssl-dev libgtest-dev zlib1g-dev libcli11-dev nlohmann-json3-dev libcpp-httplib-dev
          chromium dataset-fashion-mnist python3-matplotlib)
if [[ "${1:-}" == "--peers" ]]; then
  packages+=(python3-torch python3-torchvision python3-mpi4py openmpi-bin python3-numpy python3-pil)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: everything is installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
