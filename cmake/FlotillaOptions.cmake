# Per-target settings live on INTERFACE targets, never on global CMAKE_CXX_FLAGS.

add_library(flotilla_options INTERFACE)
add_library(Flotilla::options ALIAS flotilla_options)
target_compile_features(flotilla_options INTERFACE cxx_std_20)

# Debug information as line tables (-g1): backtraces, profilers and gdb's file:line work, and
# compiling takes a third less time than with full -g, whose variable and type descriptions of
# LibTorch's templates are most of the object files. -DFLOTILLA_FULL_DEBUG_INFO=ON for full -g.
option(FLOTILLA_FULL_DEBUG_INFO "Full debug information (-g) in RelWithDebInfo builds instead of line tables" OFF)
if(NOT FLOTILLA_FULL_DEBUG_INFO)
  target_compile_options(flotilla_options INTERFACE $<$<AND:$<CONFIG:RelWithDebInfo>,$<CXX_COMPILER_ID:GNU,Clang>>:-g1>)
endif()

add_library(flotilla_warnings INTERFACE)
target_compile_options(flotilla_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  -Wcast-align -Woverloaded-virtual -Wno-unused-parameter>)

if(FLOTILLA_SANITIZE)
  target_compile_options(flotilla_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(flotilla_options INTERFACE -fsanitize=address,undefined)
endif()

# Fuzzing: every library gets libFuzzer's coverage hooks and the sanitizers; the fuzz targets
# themselves add -fsanitize=fuzzer (libFuzzer's main) at link (tests/fuzz/CMakeLists.txt). A UBSan
# report aborts, so libFuzzer counts it as a crash and keeps the input.
if(FLOTILLA_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "FLOTILLA_FUZZ needs clang, which ships libFuzzer: CC=clang CXX=clang++ (scripts/fuzz.sh)")
  endif()
  target_compile_options(flotilla_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                         -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(flotilla_options INTERFACE -fsanitize=address,undefined)
endif()

# flotilla_library(NAME SOURCES... [DEPS ...]): a static library of one folder, with
# the repository root as its include root so headers read "core/status.h".
function(flotilla_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  add_library(Flotilla::${name} ALIAS ${name})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/flotilla>)
  target_link_libraries(${name} PUBLIC flotilla_options ${ARG_DEPS} PRIVATE flotilla_warnings ${ARG_PRIVATE_DEPS})
  set_property(GLOBAL APPEND PROPERTY FLOTILLA_LIBRARIES ${name})
endfunction()

# flotilla_executable(NAME SOURCES... DEPS ...)
function(flotilla_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE flotilla_options flotilla_warnings ${ARG_DEPS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/bin")
  install(TARGETS ${name} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endfunction()
