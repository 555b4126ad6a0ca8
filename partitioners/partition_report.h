// Renders PartitionStats for people (an aligned table) and for programs (partition.csv and
// partition.json). The coordinator's run directory and flotilla-partition both write these, so a
// split previewed with the tool and the split a run records read the same. Pure: strings out,
// callers do the I/O.
#pragma once

#include <string>

#include "partitioners/partition_stats.h"

namespace flotilla {

// An aligned table with one row per client (client, one column per class named c0, c1, ...,
// total, classes held, emd), then the summary lines. `max_rows` > 0 shows only the first
// max_rows clients followed by a "... (M more)" line, so 1000 clients do not flood a terminal
// (the summary always covers all of them); 0 shows every client. `max_rows` >= 0 (checked).
std::string format_partition_report(const PartitionStats& stats, int max_rows);

// partition.csv: header client_id,class_0,...,class_{C-1},total,classes,emd and one row per
// client. The first columns are the original format (scripts/plot_partition.py reads them by
// name); classes and emd were appended so that readers by position keep working. An undefined
// emd (client without samples) is an empty field.
std::string partition_csv(const PartitionStats& stats);

// partition.json: {"clients": [{"client_id", "class_counts", "total", "classes", "emd"}, ...],
// "summary": {"num_clients", "num_classes", "total_samples", "global_class_counts",
// "samples_per_client": {min, median, max, mean, std}, "classes_per_client": {min, median, max,
// mean}, "emd": {min, mean, max}}}. NaN (an undefined emd) is null.
std::string partition_json(const PartitionStats& stats);

}  // namespace flotilla
