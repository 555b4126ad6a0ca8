// A site's own tabular data as a CSV file: a header row of column names, then one row of numbers
// per sample, one column of which is the class label. What pandas' DataFrame.to_csv(index=False)
// and most spreadsheet exports write. Functions are thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "datasets/dataset.h"

namespace flotilla {

// Reads `path` (gzip-compressed too, detected by content). Format: comma-separated; a header row
// of names, each optionally double-quoted (a quoted field may hold commas, and "" for a quote);
// numeric cells (surrounding spaces ignored); blank lines skipped; CRLF line ends tolerated.
// The column named `label_column` gives int64 labels, integers >= 0 ("3.0" reads as 3, "3.5" is
// an error); every other column, in file order, is a float32 feature: x is float32 [N, F].
// num_classes = max label + 1, at least 2; mean/std are left empty. When `feature_columns` is not
// null it receives the feature columns' names, in the order of x's columns.
// Errors: NotFound when the file is missing; InvalidArgument naming the file, and the line and
// column where there is one, for: no header, a missing label column (listing the header) or one
// named twice, no feature column, a row with more or fewer cells than the header, an empty or
// non-numeric cell, a NaN or infinite value (or one beyond float32), a label that is negative,
// fractional or above kMaxNumClasses - 1, and no data rows.
StatusOr<TensorDataset> read_csv_dataset(const std::string& path, const std::string& label_column,
                                         std::vector<std::string>* feature_columns = nullptr);

// read_csv_dataset without the file: `text` is the whole (already decompressed) file and `name`
// stands for its path in messages. Same errors (but no NotFound).
StatusOr<TensorDataset> parse_csv_dataset(const std::string& text, const std::string& name,
                                          const std::string& label_column,
                                          std::vector<std::string>* feature_columns = nullptr);

}  // namespace flotilla
