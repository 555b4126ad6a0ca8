# Installs the libraries, public headers and a CMake package (Flotilla::...) so that plugins
# can be built against an installed Flotilla.
