#include "client/model_trust.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/api/module.h>

#include <sstream>

#include "core/digest.h"
#include "models/torchscript_archive.h"

namespace flotilla {
namespace {

// A tiny archive, different for each `scale`, so that tests get distinct digests.
std::string archive(double scale) {
  torch::jit::Module m("Tiny");
  m.register_parameter("w", at::full({2, 3}, scale), false);
  m.define(R"(
    def forward(self, x):
        return x.flatten(1).matmul(self.w.t())
  )");
  std::ostringstream out;
  m.save(out);
  return out.str();
}

std::string name_of(const std::string& bytes) { return torchscript_model_name(sha256_hex(bytes)); }

TEST(ModelTrustTest, AShippedArchiveRunsOnlyWhenPinnedOrTrusted) {
  const std::string bytes = archive(0.5), sha = sha256_hex(bytes);
  Status refused = accept_run_model(name_of(bytes), bytes, ModelTrust{});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("--model-sha256 " + sha), std::string::npos) << refused;
  EXPECT_EQ(find_torchscript_archive(sha), nullptr);  // refused: not stored, so never built

  ModelTrust pinned;
  pinned.pinned_sha256 = sha;
  ASSERT_TRUE(accept_run_model(name_of(bytes), bytes, pinned).ok());
  ASSERT_NE(find_torchscript_archive(sha), nullptr);
  EXPECT_EQ(*find_torchscript_archive(sha), bytes);

  const std::string other = archive(0.25);
  ModelTrust trusting;
  trusting.trust_shipped = true;
  EXPECT_TRUE(accept_run_model(name_of(other), other, trusting).ok());
}

TEST(ModelTrustTest, APinRefusesEveryOtherArchiveAndEveryBuiltInModel) {
  const std::string bytes = archive(1.5);
  ModelTrust pinned;
  pinned.pinned_sha256 = std::string(64, 'e');
  pinned.trust_shipped = true;  // a pin wins over trust
  Status s = accept_run_model(name_of(bytes), bytes, pinned);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("refusing to run another archive"), std::string::npos) << s;
  s = accept_run_model("mnist_cnn", "", pinned);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("pinned"), std::string::npos) << s;
  EXPECT_TRUE(accept_run_model("mnist_cnn", "", ModelTrust{}).ok());
}

TEST(ModelTrustTest, TheClientsOwnCopyMustBeTheRunsArchive) {
  const std::string mine = archive(2.5), theirs = archive(3.5);
  auto added = add_torchscript_archive(mine);
  ASSERT_TRUE(added.ok()) << added.status();
  ModelTrust own;
  own.own_sha256 = *added;
  EXPECT_TRUE(accept_run_model(name_of(mine), "", own).ok());
  Status s = accept_run_model(name_of(theirs), theirs, own);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("has SHA-256 " + *added), std::string::npos) << s;
}

TEST(ModelTrustTest, AShippedArchiveMustHaveTheDigestTheRunNames) {
  const std::string bytes = archive(4.5);
  ModelTrust trusting;
  trusting.trust_shipped = true;
  Status s = accept_run_model(torchscript_model_name(std::string(64, 'd')), bytes, trusting);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  // Not shipped and not held: the client cannot build the model and says how to give it.
  s = accept_run_model(torchscript_model_name(std::string(64, 'f')), "", ModelTrust{});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--model torchscript:PATH"), std::string::npos) << s;
}

}  // namespace
}  // namespace flotilla
