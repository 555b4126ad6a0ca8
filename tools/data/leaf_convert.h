// LEAF to site folders: turns a LEAF benchmark split (FEMNIST, the standard naturally non-IID
// federated dataset: one user per handwriting writer) into one folder per user, in the layout
// load_site_dir and site_dir_for read, so that each logical client trains on one real user's data.
//
// LEAF writes train/ and test/ folders of JSON files, each
//   {"users": ["f_0000", ...], "num_samples": [n, ...],
//    "user_data": {"f_0000": {"x": [[784 floats in 0..1], ...], "y": [label, ...]}, ...}}
// with the same users in train/ and test/ (a per-user sample split).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace flotilla {

struct LeafConvertOptions {
  std::string train_dir;  // required: LEAF's train/ folder; every *.json file in it is read
  std::string test_dir;   // LEAF's test/ folder; "" (the default) for none
  std::string out_dir;    // required: created if missing; client folders in it are replaced
  // Per-sample shape each flat x row is reshaped to; FEMNIST's 28x28 grey images by default. A row
  // of another length is an error naming the file and the user.
  std::vector<int64_t> image_shape = {1, 28, 28};
  int64_t max_users = 0;  // convert only the first this many users in sorted name order; 0 = all
  // true (the default): x is stored as uint8 round(x * 255), as image files hold pixels (a quarter
  // of float32's bytes; TensorDataset::normalize divides by 255 again), and must lie in [0, 1].
  // false: float32 as given.
  bool uint8 = true;
  // Written into every file as "num_classes", so that all clients agree on the label space even
  // when some users lack the highest classes. 0 (the default): max label over the converted
  // users, train and test, + 1 (at least 2).
  int64_t num_classes = 0;
};

// Users of train_dir, in sorted name order (test-only users are skipped), become
// out_dir/client_<k> for k = 0, 1, 2 ..., each holding train.pt and, when the user has test data,
// test.pt (read_tensor_file's format: x [n, image_shape...], y int64 [n], num_classes); and
// out_dir/users.csv, a header "client_id,user,train_samples,test_samples" and one row per client.
// Reads each JSON file twice (once for names and labels, once per file for the pixels), so memory
// holds one file's contents, not the dataset.
// Errors: InvalidArgument for bad options (an empty train_dir or out_dir, a non-positive shape,
// negative max_users or num_classes, a label >= num_classes) or data that does not fit them (a row
// of the wrong length or, with uint8, a value outside [0, 1], naming file, user and sample);
// NotFound for a missing folder or one without *.json files; DataLoss for a file that is not
// LEAF's JSON (naming the file and what is wrong, or the user whose x and y counts differ, or a
// user found in two files of one split); Unavailable when the output cannot be written.
Status convert_leaf(const LeafConvertOptions& options);

}  // namespace flotilla
