// CodecSpec: which update codec a run uses and with what options, as written on the command line
// or in a config ("topk:ratio=0.01,error_feedback=1", "fp16"). The coordinator parses it once,
// records its canonical text and sends that to the clients, so both ends build the same codec.
#pragma once

#include <memory>
#include <string>

#include "compression/update_codec.h"
#include "core/options.h"
#include "core/status.h"

namespace flotilla {

struct CodecSpec {
  std::string name = "none";
  Options options;  // key=value; parse_codec_spec fills in every default
};

bool operator==(const CodecSpec& a, const CodecSpec& b);

// Parses "name" or "name:key=value,key=value" against `registry`, fills in the defaults of
// options not given and checks the values by building the codec once, so the spec is canonical
// and known to work. InvalidArgument naming the bad part: an unknown codec (listing the known
// ones), an unknown option (listing the codec's), a malformed or repeated option, a value out of
// range.
StatusOr<CodecSpec> parse_codec_spec(const std::string& text, const CodecRegistry& registry = builtin_codecs());

// "name" or "name:key=value,..." with keys sorted; parse_codec_spec(to_string(spec)) == spec for
// a parsed spec.
std::string to_string(const CodecSpec& spec);

// The codec a spec names. InvalidArgument as for parse_codec_spec.
StatusOr<std::unique_ptr<UpdateCodec>> make_codec(const CodecSpec& spec,
                                                  const CodecRegistry& registry = builtin_codecs());

}  // namespace flotilla
