# All dependencies come from Debian 12 packages (see scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(Torch REQUIRED)
find_package(Protobuf REQUIRED)
# PyPI's LibTorch (the GPU build, scripts/gpu/) links protobuf into itself, and its TorchConfig
# defines protobuf::libprotobuf as an interface target with no library before FindProtobuf runs,
# which then keeps it: nothing would link libprotobuf. Give that target the library found here.
set(_flotilla_protobuf protobuf::libprotobuf)
get_target_property(_flotilla_protobuf_aliased protobuf::libprotobuf ALIASED_TARGET)
if(_flotilla_protobuf_aliased)
  set(_flotilla_protobuf ${_flotilla_protobuf_aliased})
endif()
get_target_property(_flotilla_protobuf_type ${_flotilla_protobuf} TYPE)
if(_flotilla_protobuf_type STREQUAL "INTERFACE_LIBRARY")
  message(STATUS "protobuf::libprotobuf came without a library (LibTorch's); linking ${Protobuf_LIBRARIES}")
  set_property(TARGET ${_flotilla_protobuf} APPEND PROPERTY INTERFACE_LINK_LIBRARIES "${Protobuf_LIBRARIES}")
endif()
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
