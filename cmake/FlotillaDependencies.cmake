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
