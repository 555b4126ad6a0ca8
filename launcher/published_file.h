// Files the coordinator publishes for flotilla-run (--endpoint-file, --live-view-url-file): it
// writes each to a temporary name and renames it into place, so a file that has any content has
// all of it.
#pragma once

#include <string>

namespace flotilla {

// The file's first word (an endpoint, a URL); empty until the coordinator has written it.
std::string read_published_word(const std::string& path);

}  // namespace flotilla
