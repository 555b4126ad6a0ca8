find_package(GTest REQUIRED)
include(GoogleTest)

# flotilla_add_test(NAME SOURCES... DEPS ... [LABELS ...] [TIMEOUT s]): one gtest binary, its cases
# discovered by ctest. Tests make their own data; nothing reads ../shared.
function(flotilla_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE flotilla_options flotilla_warnings GTest::gtest GTest::gtest_main ${ARG_DEPS})
  target_compile_definitions(${name} PRIVATE
    FLOTILLA_BIN_DIR="${PROJECT_BINARY_DIR}/bin" FLOTILLA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  gtest_discover_tests(${name} TEST_PREFIX "${name}." DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
endfunction()
