#include "partitioners/partition_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace flotilla {
namespace {

// Global (6, 4); client EMDs 0.3 and 1.2 (worked in partition_stats_test.cc).
PartitionStats two_clients() { return compute_partition_stats({{6, 2}, {0, 2}}); }

TEST(PartitionReportTest, TableIsAlignedAndEndsWithTheSummary) {
  EXPECT_EQ(format_partition_report(two_clients(), 0),
            "client  c0  c1  total  classes     emd\n"
            "     0   6   2      8        2  0.3000\n"
            "     1   0   2      2        1  1.2000\n"
            "2 clients, 2 classes, 10 samples\n"
            "samples per client: min 2, median 5, max 8, mean 5.0, std 3.0\n"
            "classes per client: min 1, median 1.5, max 2, mean 1.50\n"
            "EMD to the global label distribution (0 = same proportions, 2 = disjoint): min 0.3000, mean 0.7500, "
            "max 1.2000\n");
}

TEST(PartitionReportTest, ManyClientsAreCutAfterMaxRowsButSummarisedInFull) {
  const PartitionStats stats = compute_partition_stats({{1, 0}, {0, 1}, {1, 1}, {2, 0}, {0, 12345}});
  const std::string text = format_partition_report(stats, 2);
  EXPECT_NE(text.find("\n     1   0   1      1        1"), std::string::npos) << text;
  const std::string table = text.substr(0, text.find("..."));
  EXPECT_EQ(table.find("12345"), std::string::npos) << "client 4 must not be shown:\n" << text;
  EXPECT_NE(text.find("\n... (3 more)\n5 clients, 2 classes, 12351 samples\n"), std::string::npos) << text;
  EXPECT_NE(text.find("max 12345,"), std::string::npos) << text;
  // Lines: header, 2 clients, the "more" line, 4 summary lines.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 8);
  // A limit above the number of clients shows them all, without a "more" line.
  EXPECT_EQ(format_partition_report(stats, 5), format_partition_report(stats, 0));
  EXPECT_EQ(format_partition_report(stats, 5).find("more"), std::string::npos);
}

TEST(PartitionReportTest, EmptyClientShowsNoEmd) {
  const std::string text = format_partition_report(compute_partition_stats({{1, 0}, {0, 0}}), 0);
  EXPECT_NE(text.find("\n     1   0   0      0        0       -\n"), std::string::npos) << text;
}

TEST(PartitionReportTest, CsvKeepsTheOriginalColumnsFirst) {
  EXPECT_EQ(partition_csv(two_clients()),
            "client_id,class_0,class_1,total,classes,emd\n"
            "0,6,2,8,2,0.3\n"
            "1,0,2,2,1,1.2\n");
  // No samples, no distribution: an empty field rather than a made-up number.
  EXPECT_EQ(partition_csv(compute_partition_stats({{1}, {0}})),
            "client_id,class_0,total,classes,emd\n0,1,1,1,0\n1,0,0,0,\n");
}

TEST(PartitionReportTest, JsonHasClientsAndSummary) {
  const auto j = nlohmann::json::parse(partition_json(two_clients()));
  ASSERT_EQ(j["clients"].size(), 2u);
  EXPECT_EQ(j["clients"][0]["client_id"], 0);
  EXPECT_EQ(j["clients"][0]["class_counts"], nlohmann::json({6, 2}));
  EXPECT_EQ(j["clients"][0]["total"], 8);
  EXPECT_EQ(j["clients"][1]["classes"], 1);
  EXPECT_NEAR(j["clients"][1]["emd"].get<double>(), 1.2, 1e-12);
  const auto& s = j["summary"];
  EXPECT_EQ(s["num_clients"], 2);
  EXPECT_EQ(s["num_classes"], 2);
  EXPECT_EQ(s["total_samples"], 10);
  EXPECT_EQ(s["global_class_counts"], nlohmann::json({6, 4}));
  EXPECT_EQ(s["samples_per_client"],
            nlohmann::json({{"min", 2}, {"median", 5.0}, {"max", 8}, {"mean", 5.0}, {"std", 3.0}}));
  EXPECT_EQ(s["classes_per_client"], nlohmann::json({{"min", 1}, {"median", 1.5}, {"max", 2}, {"mean", 1.5}}));
  EXPECT_NEAR(s["emd"]["min"].get<double>(), 0.3, 1e-12);
  EXPECT_NEAR(s["emd"]["mean"].get<double>(), 0.75, 1e-12);
  EXPECT_NEAR(s["emd"]["max"].get<double>(), 1.2, 1e-12);
}

TEST(PartitionReportTest, JsonWritesAnUndefinedEmdAsNull) {
  const auto j = nlohmann::json::parse(partition_json(compute_partition_stats({{0, 0}})));
  EXPECT_TRUE(j["clients"][0]["emd"].is_null());
  EXPECT_TRUE(j["summary"]["emd"]["mean"].is_null());
}

}  // namespace
}  // namespace flotilla
