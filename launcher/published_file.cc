#include "launcher/published_file.h"

#include <fstream>

namespace flotilla {

std::string read_published_word(const std::string& path) {
  std::ifstream in(path);
  std::string word;
  if (in) in >> word;
  return word;
}

}  // namespace flotilla
