# Installs the executables, the libraries a plugin needs, their headers and a CMake package, so
# that a plugin builds against an installed Flotilla with
#   find_package(Flotilla REQUIRED)
#   target_link_libraries(my_rule PRIVATE Flotilla::flotilla)
include(CMakePackageConfigHelpers)

add_library(flotilla INTERFACE)
add_library(Flotilla::flotilla ALIAS flotilla)
target_link_libraries(flotilla INTERFACE flotilla_core flotilla_aggregators)

install(TARGETS flotilla flotilla_base flotilla_core flotilla_aggregators flotilla_options flotilla_warnings flotilla_torch
        EXPORT FlotillaTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/flotilla)
install(DIRECTORY core aggregators DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/flotilla FILES_MATCHING PATTERN "*.h")
# The client-half interface (header only: a plugin needs no training library to implement it).
install(FILES training/client_algorithm.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/flotilla/training)
install(EXPORT FlotillaTargets NAMESPACE Flotilla:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Flotilla)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/FlotillaConfig.cmake.in
  ${PROJECT_BINARY_DIR}/FlotillaConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Flotilla)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/FlotillaConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/FlotillaConfig.cmake ${PROJECT_BINARY_DIR}/FlotillaConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Flotilla)
