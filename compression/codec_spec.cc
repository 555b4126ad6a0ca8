#include "compression/codec_spec.h"

#include <algorithm>

namespace flotilla {

bool operator==(const CodecSpec& a, const CodecSpec& b) {
  return a.name == b.name && a.options.values() == b.options.values();
}

StatusOr<CodecSpec> parse_codec_spec(const std::string& text, const CodecRegistry& registry) {
  const std::string context = "codec spec '" + text + "'";
  const auto colon = text.find(':');
  CodecSpec spec;
  spec.name = text.substr(0, colon);
  if (spec.name.empty())
    return invalid_argument_error(context + " names no codec; known codecs: " + registry.joined_names());
  if (!registry.contains(spec.name))
    return invalid_argument_error(context + ": unknown codec '" + spec.name +
                                  "'; known codecs: " + registry.joined_names());
  if (colon != std::string::npos) {
    const std::string list = text.substr(colon + 1);
    if (list.empty()) return invalid_argument_error(context + " has a ':' but no options after it");
    size_t begin = 0;
    while (begin <= list.size()) {
      const size_t comma = std::min(list.find(',', begin), list.size());
      const std::string item = list.substr(begin, comma - begin);
      const auto eq = item.find('=');
      if (eq == std::string::npos || eq == 0)
        return invalid_argument_error(context + ": option '" + item + "' is not of the form key=value");
      const std::string key = item.substr(0, eq);
      if (spec.options.has(key)) return invalid_argument_error(context + ": option '" + key + "' is given twice");
      spec.options.set(key, item.substr(eq + 1));
      begin = comma + 1;
    }
  }
  // Building the codec checks the values and fills in the defaults the same way make_codec will.
  RETURN_IF_ERROR(spec.options.apply_specs(spec.name, registry.find(spec.name)->options).with_context(context));
  auto codec = registry.create(spec.name, spec.options);
  if (!codec.ok()) return codec.status().with_context(context);
  return spec;
}

std::string to_string(const CodecSpec& spec) {
  std::string out = spec.name;
  char separator = ':';
  for (const auto& [key, value] : spec.options.values()) {
    out += separator + key + "=" + value;
    separator = ',';
  }
  return out;
}

StatusOr<std::unique_ptr<UpdateCodec>> make_codec(const CodecSpec& spec, const CodecRegistry& registry) {
  return registry.create(spec.name, spec.options);
}

}  // namespace flotilla
