# Turns the live view's page (INPUT, one HTML file) into a C++ source (OUTPUT) that holds it as a
# raw string literal, so that the coordinator serves it without reading any file at run time.
#   cmake -DINPUT=index.html -DOUTPUT=live_view_page.cc -P embed_page.cmake
set(delimiter "flotilla_page")
file(READ "${INPUT}" page)
string(FIND "${page}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains )${delimiter}\", which would end the raw string it is embedded in")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by embed_page.cmake: edit the page, not this file.\n"
  "#include <string_view>\n\n"
  "#include \"coordinator/live_view_server.h\"\n\n"
  "namespace flotilla {\n\n"
  "std::string_view live_view_page() {\n"
  "  static constexpr std::string_view kPage = R\"${delimiter}(${page})${delimiter}\";\n"
  "  return kPage;\n"
  "}\n\n"
  "}  // namespace flotilla\n")
# Rewritten only when the page changed, so that an unchanged page recompiles nothing.
configure_file("${OUTPUT}.tmp" "${OUTPUT}" COPYONLY)
file(REMOVE "${OUTPUT}.tmp")
