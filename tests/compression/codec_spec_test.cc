// Codec specs: parsed once, canonical (every default filled in), round-trip through to_string, and
// every mistake named.
#include "compression/codec_spec.h"

#include <gtest/gtest.h>

namespace flotilla {
namespace {

void expect_error(const std::string& text, const std::string& needle) {
  auto spec = parse_codec_spec(text);
  ASSERT_FALSE(spec.ok()) << text << " parsed";
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(spec.status().message().find(needle), std::string::npos) << spec.status();
}

TEST(CodecSpecTest, ParsesNameAndFillsInDefaults) {
  auto fp16 = parse_codec_spec("fp16");
  ASSERT_TRUE(fp16.ok()) << fp16.status();
  EXPECT_EQ(fp16->name, "fp16");
  EXPECT_TRUE(fp16->options.values().empty());
  auto topk = parse_codec_spec("topk:ratio=0.05");
  ASSERT_TRUE(topk.ok()) << topk.status();
  EXPECT_EQ(topk->name, "topk");
  EXPECT_EQ(topk->options.values().at("ratio"), "0.05");
  EXPECT_EQ(topk->options.values().at("error_feedback"), "1");
  EXPECT_EQ(to_string(*topk), "topk:error_feedback=1,ratio=0.05");
}

TEST(CodecSpecTest, ToStringRoundTrips) {
  for (const char* text : {"none", "fp16", "bf16", "qsgd", "qsgd:levels=15,norm=l2", "topk:error_feedback=0",
                           "topk:ratio=0.1,error_feedback=1"}) {
    auto spec = parse_codec_spec(text);
    ASSERT_TRUE(spec.ok()) << spec.status();
    auto again = parse_codec_spec(to_string(*spec));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, *spec) << text;
    EXPECT_EQ(to_string(*again), to_string(*spec));
  }
}

TEST(CodecSpecTest, DefaultSpecIsNoCompression) {
  auto codec = make_codec(CodecSpec{});
  ASSERT_TRUE(codec.ok()) << codec.status();
  EXPECT_FALSE((*codec)->wants_error_feedback());
}

TEST(CodecSpecTest, NamesTheBadPart) {
  expect_error("", "names no codec; known codecs: bf16, fp16, none, qsgd, topk");
  expect_error(":ratio=1", "names no codec");
  expect_error("zip", "unknown codec 'zip'; known codecs: bf16, fp16, none, qsgd, topk");
  expect_error("topk:", "has a ':' but no options");
  expect_error("topk:ratio", "option 'ratio' is not of the form key=value");
  expect_error("topk:ratio=0.1,", "option '' is not of the form key=value");
  expect_error("topk:=3", "option '=3' is not of the form key=value");
  expect_error("topk:ratio=0.1,ratio=0.2", "option 'ratio' is given twice");
  expect_error("topk:size=3", "'topk' has no option 'size'; its options are: ratio, error_feedback");
  expect_error("fp16:ratio=1", "'fp16' has no option 'ratio'; its options are: (none)");
  expect_error("topk:ratio=0", "option 'ratio' = 0 is not in (0, 1]");
  expect_error("topk:ratio=1.5", "option 'ratio' = 1.5 is not in (0, 1]");
  expect_error("topk:ratio=abc", "option 'ratio' = 'abc' is not a finite number");
  expect_error("topk:error_feedback=maybe", "option 'error_feedback' = 'maybe' is not a boolean");
  expect_error("qsgd:levels=128", "option 'levels' = 128 is not in [1, 127]");
  expect_error("qsgd:bucket=0", "option 'bucket' = 0 is not >= 1");
  expect_error("qsgd:norm=l1", "option 'norm' = 'l1' is neither 'max' nor 'l2'");
}

TEST(CodecSpecTest, BuiltinListDescribesEveryCodec) {
  const auto entries = builtin_codecs().entries();
  ASSERT_EQ(entries.size(), 5u);
  for (const auto* e : entries) EXPECT_FALSE(e->description.empty()) << e->name;
  EXPECT_EQ(builtin_codecs().find("qsgd")->options.size(), 3u);
}

}  // namespace
}  // namespace flotilla
