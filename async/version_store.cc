#include "async/version_store.h"

#include <string>

namespace flotilla {

VersionStore::VersionStore(int64_t version, ModelState initial) : current_(version) {
  versions_[version] = Held{std::move(initial), 0};
}

void VersionStore::advance(int64_t version, ModelState model) {
  FLOTILLA_CHECK(version > current_) << "version " << version << " after " << current_;
  const int64_t old = current_;
  current_ = version;
  versions_[version] = Held{std::move(model), 0};
  drop_if_unused(old);
}

int64_t VersionStore::acquire_current() {
  ++versions_.at(current_).references;
  return current_;
}

Status VersionStore::release(int64_t version) {
  auto it = versions_.find(version);
  if (it == versions_.end() || it->second.references == 0)
    return not_found_error("model version " + std::to_string(version) + " has no task referencing it");
  --it->second.references;
  drop_if_unused(version);
  return Status();
}

StatusOr<ModelState> VersionStore::get(int64_t version) const {
  auto it = versions_.find(version);
  if (it == versions_.end())
    return not_found_error("model version " + std::to_string(version) + " is not held (current is " +
                           std::to_string(current_) + "; a version is kept only while a task started from it)");
  return it->second.model;
}

int VersionStore::references(int64_t version) const {
  auto it = versions_.find(version);
  return it == versions_.end() ? 0 : it->second.references;
}

void VersionStore::drop_if_unused(int64_t version) {
  auto it = versions_.find(version);
  if (it != versions_.end() && version != current_ && it->second.references == 0) versions_.erase(it);
}

}  // namespace flotilla
