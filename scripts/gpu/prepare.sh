#!/usr/bin/env bash
# Run HERE (a Debian 12 machine with apt), before carrying the tree to a GPU machine that has
# Python PyTorch with CUDA but no Debian dev packages and no network. Downloads the .debs of
# every dependency except LibTorch (the GPU machine's PyTorch package brings its own), runtime
# libraries included so that the -dev packages' .so links resolve, into
# .gpu/debs, which build_and_run.sh unpacks there. .gpu/ is git-ignored; carry it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$root/.gpu/debs"
cd "$root/.gpu/debs"
pkgs=(libzmq3-dev libzmq5 libsodium23 libpgm-5.3-0 libnorm1 cppzmq-dev libprotobuf-dev libprotobuf32 libprotoc32
      protobuf-compiler libcli11-dev nlohmann-json3-dev libgtest-dev libssl-dev libssl3 zlib1g-dev zlib1g dataset-fashion-mnist
      # cpp-httplib (the live view) and the Brotli headers and libraries its build names
      libcpp-httplib-dev libcpp-httplib0.11 libbrotli-dev libbrotli1
      # what Debian's libzmq.so needs besides, which a non-Debian image may lack
      libbsd0 libmd0 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1)
apt-get download "${pkgs[@]}"
ls -la
