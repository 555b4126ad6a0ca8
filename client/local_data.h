// LocalData: the hosted logical clients' own data (--local-data), read from a site's files before
// the process registers, and what the registration may tell the coordinator about it.
//
// Layout: DIR/client_<id>/ for each hosted client, or DIR itself when the process hosts one client
// (a site operator's usual case). Each folder holds train.pt [+ test.pt], train.csv [+ test.csv]
// or the official MNIST / CIFAR-10 files (datasets/site_data.h).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "datasets/dataset.h"
#include "datasets/site_data.h"
#include "protocol/messages.h"

namespace flotilla {

struct LocalDataOptions {
  std::string dir;                     // the site's folder (--data-dir)
  SiteDataOptions site;                // how its files are read (CSV label column)
  bool withhold_label_counts = false;  // leave per-class counts out of reports and evaluation results
};

struct LocalClientData {
  DatasetSplits splits;  // train, and test (size 0 when the site has none)
  msg::DataReport report;
};

// Reads every hosted client's folder. NotFound naming the folder tried for a client without data;
// the readers' errors otherwise, with the client id in front. Clients must agree with each other
// on sample shape and dtype (InvalidArgument naming both clients' shapes).
StatusOr<std::map<int, LocalClientData>> load_local_data(const std::vector<int>& client_ids,
                                                         const LocalDataOptions& options);

// What a registration reports of one client's data (sizes, shape, dtype, classes, per-channel sums,
// and label counts unless withheld).
msg::DataReport describe_local_data(int client_id, const DatasetSplits& splits, bool withhold_label_counts);

}  // namespace flotilla
