// flotilla-dp end to end: "epsilon" prints what the coordinator's accountant would report, "noise"
// finds the noise multiplier whose epsilon meets the target, and bad flags exit 2.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "privacy/rdp_accountant.h"
#include "tests/integration/process.h"

namespace flotilla {
namespace {

using testing::ChildProcess;
using testing::ToolResult;

ToolResult run_dp(const std::vector<std::string>& args) {
  const std::string dir = testing::make_temp_dir("flotilla-dp-test");
  std::vector<std::string> argv = {std::string(FLOTILLA_BIN_DIR) + "/flotilla-dp"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess tool(argv, dir + "/tool.log");
  EXPECT_TRUE(tool.started());
  ToolResult result{tool.wait_for(std::chrono::seconds(60)), tool.log()};
  std::filesystem::remove_all(dir);
  return result;
}

double number_after(const std::string& text, const std::string& word) {
  const size_t at = text.find(word);
  EXPECT_NE(at, std::string::npos) << text;
  return at == std::string::npos ? -1 : std::stod(text.substr(at + word.size()));
}

TEST(FlotillaDpTest, EpsilonIsTheAccountants) {
  const ToolResult r = run_dp({"epsilon", "--sampling-rate", "0.1", "--noise-multiplier", "1.1", "--rounds", "200"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  RdpAccountant accountant;
  accountant.compose(0.1, 1.1, 200);
  EXPECT_NEAR(number_after(r.output, "epsilon "), accountant.epsilon(1e-5), 1e-4 * accountant.epsilon(1e-5))
      << r.output;
}

TEST(FlotillaDpTest, NoiseMeetsTheTargetTightly) {
  const ToolResult r =
      run_dp({"noise", "--sampling-rate", "0.05", "--epsilon", "3", "--rounds", "500", "--delta", "1e-6"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const double z = number_after(r.output, "noise multiplier ");
  auto epsilon = [](double noise) {
    RdpAccountant accountant;
    accountant.compose(0.05, noise, 500);
    return accountant.epsilon(1e-6);
  };
  EXPECT_LE(epsilon(z), 3.0 + 1e-9) << r.output;
  EXPECT_GT(epsilon(z * 0.999), 3.0) << r.output;  // not more noise than needed
}

TEST(FlotillaDpTest, BadFlagsExitTwo) {
  EXPECT_EQ(run_dp({"epsilon", "--sampling-rate", "1.5", "--noise-multiplier", "1", "--rounds", "10"}).exit_code, 2);
  EXPECT_EQ(run_dp({"noise", "--sampling-rate", "0.1", "--rounds", "10"}).exit_code, 2);  // no --epsilon
  EXPECT_EQ(run_dp({}).exit_code, 2);
}

}  // namespace
}  // namespace flotilla
