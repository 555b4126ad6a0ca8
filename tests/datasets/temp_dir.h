#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace flotilla::testing {

// A fresh directory per test, under gtest's temp dir.
inline std::string fresh_dir(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "flotilla-datasets" /
                              (std::string(info->test_suite_name()) + "." + info->name() + "." + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace flotilla::testing
