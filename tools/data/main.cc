// flotilla-data: prepares data for federated runs on sites' own files. Each subcommand writes
// site folders (client_<k>/train.pt, test.pt) in the layout load_site_dir and site_dir_for read
// (datasets/site_data.h), so a simulated federation can train on real per-user data.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/shape_text.h"
#include "tools/command_line.h"
#include "tools/data/leaf_convert.h"

namespace {

using namespace flotilla;

// Exit statuses, as --help states them (2, kExitUsage: bad flags, tools/command_line.h).
constexpr int kExitData = 1;  // the input could not be read or converted

int64_t count_rows(const std::string& csv_path) {
  std::ifstream in(csv_path);
  int64_t lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return std::max<int64_t>(lines - 1, 0);  // less the header
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Flotilla data preparation: turns federated benchmarks into site folders, one per logical client "
      "(OUT/client_<k>/train.pt and test.pt), which clients load as their own data."};
  app.footer("Exit status: 0 done, 1 the input could not be read or converted, 2 bad flags.");
  app.require_subcommand(1);
  app.get_formatter()->column_width(30);

  LeafConvertOptions leaf;
  std::string shape = "1x28x28";
  bool float_output = false;
  CLI::App* leaf_cmd = app.add_subcommand(
      "leaf-to-sites",
      "LEAF JSON (FEMNIST and the like) to one site folder per user, users in sorted name order, with "
      "OUT/users.csv mapping client ids to LEAF user names.\n"
      "Example: flotilla-data leaf-to-sites --train leaf/data/femnist/data/train --test "
      "leaf/data/femnist/data/test --out data/femnist-sites --max-users 100");
  leaf_cmd->add_option("--train", leaf.train_dir, "LEAF's train/ folder of *.json files")->required();
  leaf_cmd->add_option("--test", leaf.test_dir, "LEAF's test/ folder (users' held-out samples)");
  leaf_cmd->add_option("--out", leaf.out_dir, "output folder; earlier client_<k> folders in it are replaced")
      ->required();
  leaf_cmd->add_option("--max-users", leaf.max_users, "convert only the first N users in name order (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  leaf_cmd->add_option("--shape", shape, "per-sample shape CxHxW (or any AxB...) each flat x row becomes")
      ->capture_default_str();
  leaf_cmd
      ->add_option("--num-classes", leaf.num_classes,
                   "label space written into every file (0 = max label of the converted users + 1)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  leaf_cmd->add_flag("--float", float_output, "store x as float32 as given, instead of uint8 round(x * 255)");

  if (auto stop = parse_command_line(app, argc, argv)) return *stop;

  if (leaf_cmd->parsed()) {
    auto parsed = parse_shape_text(shape);
    if (!parsed.ok()) {
      std::cerr << "error: --shape '" << shape << "' is not positive integers joined by 'x', e.g. 1x28x28\n";
      return kExitUsage;
    }
    leaf.image_shape = std::move(*parsed);
    leaf.uint8 = !float_output;
    if (Status s = convert_leaf(leaf); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return kExitData;
    }
    const std::string table = (std::filesystem::path(leaf.out_dir) / "users.csv").string();
    std::cout << "wrote " << count_rows(table) << " client folders to " << leaf.out_dir << " (" << table
              << " maps client ids to LEAF users)\n";
  }
  return 0;
}
