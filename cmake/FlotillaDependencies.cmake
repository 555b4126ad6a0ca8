# All dependencies come from Debian 12 packages (see scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(Torch REQUIRED)
find_package(Protobuf REQUIRED)
find_package(cppzmq REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_package(ZLIB REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)

# TorchConfig puts everything on the imported `torch` target; Debian's adds the ABI flag there too.
# Wrap it so our export set can name it.
add_library(flotilla_torch INTERFACE)
target_link_libraries(flotilla_torch INTERFACE torch)
# clang (the fuzz build) in C++20 instantiates the constexpr destructor of std::vector<IValue> in
# LibTorch 1.13's ATen/core/List.h before IValue is complete, and fails (pytorch/pytorch#97689);
# g++ defers it. Including ivalue.h first completes the type. Debian's libtorch is built against
# libstdc++, which clang uses by default, so nothing else differs.
target_compile_options(flotilla_torch INTERFACE $<$<CXX_COMPILER_ID:Clang>:--include=ATen/core/ivalue.h>)
