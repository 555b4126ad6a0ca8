// VersionStore: the global models that in-flight tasks started from, by version number. An
// asynchronous rule needs a task's base model when its result arrives (FedBuff's delta, DC-ASGD's
// x_now - x_base), but keeping every version would grow without bound; so a version is kept only
// while it is current or some in-flight task holds a reference to it. Held versions are therefore at
// most (tasks in flight + 1), whatever the run's length.
//
// Models are stored as shallow copies (ModelState shares tensors): the server never modifies a
// global model in place, it makes a new one per version, so a stored version cannot change under a
// task. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>

#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

class VersionStore {
 public:
  // Version `version` of the model is `initial`; nothing referenced.
  VersionStore(int64_t version, ModelState initial);

  // `model` becomes the current version `version` (> current_version(), checked: our own
  // bookkeeping). The old current version is dropped unless a task still references it.
  void advance(int64_t version, ModelState model);

  // One more in-flight task starts from the current version; returns that version.
  int64_t acquire_current();
  // A task that started from `version` is over (answered, rejected or abandoned). The version is
  // dropped when it is no longer current and nothing references it. NotFound when `version` has no
  // outstanding reference.
  Status release(int64_t version);

  // The model of a held version; NotFound naming the version otherwise (never dispatched, or
  // already dropped), which the server turns into a refused update.
  StatusOr<ModelState> get(int64_t version) const;

  int64_t current_version() const { return current_; }
  const ModelState& current() const { return versions_.at(current_).model; }
  // Versions in memory (current included).
  size_t held() const { return versions_.size(); }
  // References to `version` from in-flight tasks (0 when not held).
  int references(int64_t version) const;

 private:
  struct Held {
    ModelState model;
    int references = 0;
  };
  void drop_if_unused(int64_t version);

  int64_t current_;
  std::map<int64_t, Held> versions_;
};

}  // namespace flotilla
