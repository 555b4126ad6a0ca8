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

# cpp-httplib serves the coordinator's live view and flotilla-run polls it (docs/live_view.md).
# Debian's libcpp-httplib-dev is a compiled library whose classes depend on the feature macros it
# was built with (OpenSSL, zlib, Brotli): its pkg-config file gives them, and the library to link.
# Without pkg-config (a tree of unpacked .debs, scripts/gpu/) the header and library are found by
# name, with the macros of Debian's build.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(CPP_HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
endif()
add_library(flotilla_httplib INTERFACE)
if(TARGET PkgConfig::CPP_HTTPLIB)
  target_link_libraries(flotilla_httplib INTERFACE PkgConfig::CPP_HTTPLIB Threads::Threads)
else()
  find_path(HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)
  find_library(HTTPLIB_LIBRARY cpp-httplib REQUIRED)
  target_include_directories(flotilla_httplib SYSTEM INTERFACE ${HTTPLIB_INCLUDE_DIR})
  target_link_libraries(flotilla_httplib INTERFACE ${HTTPLIB_LIBRARY} Threads::Threads)
  target_compile_definitions(flotilla_httplib INTERFACE CPPHTTPLIB_OPENSSL_SUPPORT CPPHTTPLIB_ZLIB_SUPPORT
                                                        CPPHTTPLIB_BROTLI_SUPPORT)
endif()

# TorchConfig puts everything on the imported `torch` target; Debian's adds the ABI flag there too.
# Wrap it so our export set can name it.
add_library(flotilla_torch INTERFACE)
target_link_libraries(flotilla_torch INTERFACE torch)
# clang (the fuzz build) in C++20 instantiates the constexpr destructor of std::vector<IValue> in
# LibTorch 1.13's ATen/core/List.h before IValue is complete, and fails (pytorch/pytorch#97689);
# g++ defers it. Including ivalue.h first completes the type. Debian's libtorch is built against
# libstdc++, which clang uses by default, so nothing else differs.
target_compile_options(flotilla_torch INTERFACE $<$<CXX_COMPILER_ID:Clang>:--include=ATen/core/ivalue.h>)
