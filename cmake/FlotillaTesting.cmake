find_package(GTest REQUIRED)
include(GoogleTest)

# flotilla_add_test(NAME SOURCES... DEPS ... [LABELS ...] [TIMEOUT s]): one gtest binary. Tests
# make their own data; nothing reads ../shared.
#
# A unit test binary is one ctest test: every process that loads LibTorch pays ~0.7 s before its
# first case, which, with one process per case, was most of the suite's time (aggregators_test:
# 114 cases in 80 s as processes of their own, 1.6 s in one). A failure still names its case in
# the output (--output-on-failure). Integration tests (LABELS integration) run real coordinator
# and client processes for seconds per case: those are discovered case by case, so that ctest -j
# spreads them over the cores and each is timed out and reported alone.
function(flotilla_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE flotilla_options flotilla_warnings GTest::gtest GTest::gtest_main ${ARG_DEPS})
  target_compile_definitions(${name} PRIVATE
    FLOTILLA_BIN_DIR="${PROJECT_BINARY_DIR}/bin" FLOTILLA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  # The tests' own code at -O1 (the libraries they test keep their -O2): it only drives the code
  # under test, and compiles in 55% of the time of -O2 with full debug information.
  if(CMAKE_BUILD_TYPE MATCHES "^(RelWithDebInfo|Release)$" AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${name} PRIVATE -O1)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  if("integration" IN_LIST ARG_LABELS)
    gtest_discover_tests(${name} TEST_PREFIX "${name}." DISCOVERY_TIMEOUT 60
                         PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
  else()
    add_test(NAME ${name} COMMAND ${name} --gtest_brief=1)
    set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "unit;${ARG_LABELS}")
  endif()
endfunction()
