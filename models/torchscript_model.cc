#include "models/torchscript_model.h"

#include <ATen/ops/max_pool2d.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/library.h>
#include <torch/utils.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "models/max_pool.h"
#include "models/torch_errors.h"
#include "models/torchscript_archive.h"

namespace flotilla {
namespace {

// Reads an archive straight from the store's bytes (no copy into a stream per model: Hogwild
// loads one replica per thread).
class StoredArchive final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit StoredArchive(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}
  size_t size() const override { return bytes_->size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= bytes_->size()) return 0;
    n = std::min<size_t>(n, bytes_->size() - pos);
    std::memcpy(buf, bytes_->data() + pos, n);
    return n;
  }

 private:
  std::shared_ptr<const std::string> bytes_;
};

// A fresh module of archive `sha256`, its tensors on the CPU (an archive saved from CUDA tensors
// loads where there is no GPU; the trainer moves the model).
StatusOr<torch::jit::Module> load_module(const std::string& sha256) {
  std::shared_ptr<const std::string> bytes = find_torchscript_archive(sha256);
  if (!bytes)
    return not_found_error("TorchScript archive " + sha256 +
                           " is not in this process's store (add it with add_torchscript_archive first)");
  try {
    return torch::jit::load(std::make_shared<StoredArchive>(std::move(bytes)), c10::Device(c10::kCPU));
  } catch (const std::exception& e) {
    // The store only holds archives that loaded once.
    return internal_error("loading TorchScript archive " + sha256 + ": " + torch_error_message(e));
  }
}

// Python networks pool with aten::max_pool2d, which Debian's LibTorch runs about 13 times slower
// than Flotilla's own kernel on 2x2 windows (models/max_pool.h): a TorchScript copy of mnist_net
// trained at 0.6 times the built-in's speed. The loaded module's code therefore calls
// flotilla::max_pool2d, which takes aten::max_pool2d's arguments and hands 2x2 windows with
// stride 2, no padding or dilation and floor mode to max_pool2x2 (the same output and gradient,
// bit for bit) and anything else to ATen. Deciding at run time needs no constant arguments, so the
// pass can rewrite every call, including the one inside nn.functional's max_pool2d, whose
// arguments are parameters of that function.
bool is_pair_of(c10::IntArrayRef v, int64_t value) {
  return (v.size() == 1 || v.size() == 2) && std::all_of(v.begin(), v.end(), [value](int64_t x) { return x == value; });
}

at::Tensor max_pool2d_fast(const at::Tensor& self, c10::IntArrayRef kernel_size, c10::IntArrayRef stride,
                           c10::IntArrayRef padding, c10::IntArrayRef dilation, bool ceil_mode) {
  if (is_pair_of(kernel_size, 2) && (stride.empty() || is_pair_of(stride, 2)) && is_pair_of(padding, 0) &&
      is_pair_of(dilation, 1) && !ceil_mode)
    return max_pool2x2(self);
  return at::max_pool2d(self, kernel_size, stride, padding, dilation, ceil_mode);
}

constexpr const char* kAtenMaxPool2d =
    "aten::max_pool2d(Tensor self, int[2] kernel_size, int[2] stride=[], int[2] padding=0, int[2] dilation=1, "
    "bool ceil_mode=False) -> Tensor";

// Registered on first use (a static registrar in a static library could be dropped by the linker)
// and never unregistered: loaded modules' code refers to it.
void register_fast_max_pool() {
  static std::once_flag once;
  std::call_once(once, [] {
    // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): lives as long as the process
    auto* library = new torch::Library(torch::Library::FRAGMENT, "flotilla", c10::nullopt, __FILE__, __LINE__);
    // A composite kernel: autograd records what it calls (max_pool2x2's own backward, or ATen's).
    library->def(
        "max_pool2d(Tensor self, int[2] kernel_size, int[2] stride=[], int[2] padding=0, "
        "int[2] dilation=1, bool ceil_mode=False) -> Tensor",
        &max_pool2d_fast);
  });
}

void use_fast_max_pool(torch::jit::Block* block) {
  static const c10::Symbol fast = c10::Symbol::fromQualString("flotilla::max_pool2d");
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    torch::jit::Node* node = *it++;
    for (torch::jit::Block* inner : node->blocks()) use_fast_max_pool(inner);
    if (node->kind() != at::aten::max_pool2d || !node->matches(kAtenMaxPool2d)) continue;
    torch::jit::Node* replacement = block->owningGraph()->create(fast, node->inputs(), 1);
    replacement->copyMetadata(node);  // source range and call stack, for error messages
    replacement->insertBefore(node);
    replacement->output()->setType(node->output()->type());
    node->output()->replaceAllUsesWith(replacement->output());
    node->destroy();
  }
}

// Rewrites every function of `module`'s code, before any has run (the graph executor optimises a
// function's graph on its first call). Only this model's copy changes: the archive, and what
// save_torchscript_with_state() writes, keep aten::max_pool2d, for Python.
void use_fast_max_pool(const torch::jit::Module& module) {
  register_fast_max_pool();
  for (torch::jit::Function* function : module._ivalue()->compilation_unit()->get_functions())
    if (torch::jit::GraphFunction* graph_function = torch::jit::tryToGraphFunction(*function))
      use_fast_max_pool(graph_function->graph()->block());
}

// One of the jit module's tensor attributes and the tensor the Model registered for it.
struct MirroredSlot {
  c10::intrusive_ptr<c10::ivalue::Object> object;
  size_t slot;
  at::Tensor tensor;
};

// Registers `jit`'s own parameters and buffers on `mirror`, as the same tensors, and one
// placeholder child per submodule, recursively. Own tensors first, then children: the order in
// which torch::nn::Module lists them, and the order torch.jit.script gives a module's attributes.
// A parameter the archive froze (requires_grad false) stays a parameter, frozen: state_dict has it,
// so it travels and aggregates like the others (equal everywhere), and the optimiser skips it as it
// gets no gradient. Other tensor attributes are not in state_dict, so not in the model state.
void mirror_module(const torch::jit::Module& jit, torch::nn::Module& mirror, std::vector<MirroredSlot>& slots) {
  const c10::ClassTypePtr& type = jit.type();
  const auto& object = jit._ivalue();
  for (size_t i = 0; i < type->numAttributes(); ++i) {
    if (!type->is_parameter(i)) continue;
    const c10::IValue& value = object->getSlot(i);
    if (!value.isTensor()) continue;  // an Optional[Tensor] parameter set to None (a conv without bias)
    at::Tensor t = value.toTensor();
    mirror.register_parameter(type->getAttributeName(i), t, t.requires_grad());
    slots.push_back({object, i, t});
  }
  for (size_t i = 0; i < type->numAttributes(); ++i) {
    if (!type->is_buffer(i)) continue;
    const c10::IValue& value = object->getSlot(i);
    if (!value.isTensor()) continue;
    mirror.register_buffer(type->getAttributeName(i), value.toTensor());
    slots.push_back({object, i, value.toTensor()});
  }
  for (const auto& child : jit.named_children()) {
    auto placeholder = std::make_shared<torch::nn::Module>();
    mirror_module(child.value, *placeholder, slots);
    mirror.register_module(child.name, placeholder);
  }
}

// load_model_state() assumes each tensor has a storage of its own, and a named state carries a
// tied weight twice (the optimiser would step it twice too): refuse such modules by name.
Status check_no_shared_storage(const torch::nn::Module& model) {
  std::unordered_map<const void*, std::string> owners;
  auto check = [&owners](const std::string& name, const at::Tensor& t) -> Status {
    if (!t.has_storage()) return Status();
    auto [it, inserted] = owners.emplace(t.storage().unsafeGetStorageImpl(), name);
    if (inserted) return Status();
    return invalid_argument_error("the TorchScript model's tensors '" + it->second + "' and '" + name +
                                  "' share memory (tied weights), which a named model state cannot carry");
  };
  for (const auto& p : model.named_parameters(/*recurse=*/true)) RETURN_IF_ERROR(check(p.key(), p.value()));
  for (const auto& b : model.named_buffers(/*recurse=*/true)) RETURN_IF_ERROR(check(b.key(), b.value()));
  return Status();
}

std::string shape_string(at::IntArrayRef sizes) {
  std::string out = "[";
  for (size_t i = 0; i < sizes.size(); ++i) out += (i ? ", " : "") + std::to_string(sizes[i]);
  return out + "]";
}

}  // namespace

struct TorchScriptModel::Impl {
  std::string sha256;
  torch::jit::Module module;
  torch::jit::Method forward;
  // Both set, or neither (then features() is forward and classify() the identity).
  c10::optional<torch::jit::Method> features;
  c10::optional<torch::jit::Method> classify;
  std::vector<MirroredSlot> slots;

  // TorchScript code may assign a new tensor to a buffer (self.running_mean = ...), which replaces
  // the attribute's tensor and would leave the registered one stale. After every call, such a
  // tensor's values are copied into the registered tensor, which goes back into the attribute: the
  // model's tensors keep their identity and storage, as if the code had updated them in place (as
  // BatchNorm does). A tensor of another shape, dtype or device takes the new one's data instead.
  // A few pointer comparisons per call when nothing was assigned.
  at::Tensor call(const torch::jit::Method& method, const at::Tensor& input, const char* name) {
    // The graph executor's optimisations (profiling runs, differentiable subgraphs, fusion) are
    // for GPU kernels and long graphs; on small CPU networks they cost more than they give: a
    // TorchScript mnist_net trained at 0.21 times the built-in's speed with them, 0.94 without
    // (bench/trainer_throughput.sh --torchscript). The executor plans a function on its first
    // call under the setting of that call (thread-local), so every call sets it.
    torch::jit::GraphOptimizerEnabledGuard plain_executor(false);
    c10::IValue result = method({input});
    for (auto& s : slots) {
      const c10::IValue& now = s.object->getSlot(s.slot);
      if (now.isTensor() && now.unsafeToTensorImpl() == s.tensor.unsafeGetTensorImpl()) continue;
      TORCH_CHECK(now.isTensor(), "the TorchScript model set its tensor '", s.object->type()->getAttributeName(s.slot),
                  "' to ", now.tagKind());
      const at::Tensor& assigned = now.toTensor();
      if (assigned.sizes() == s.tensor.sizes() && assigned.scalar_type() == s.tensor.scalar_type() &&
          assigned.device() == s.tensor.device()) {
        torch::NoGradGuard no_grad;
        s.tensor.copy_(assigned);
      } else {
        s.tensor.set_data(assigned);
      }
      s.object->setSlot(s.slot, s.tensor);
    }
    TORCH_CHECK(result.isTensor(), "the TorchScript model's ", name, "() returned a ", result.tagKind(),
                ", not a Tensor: Flotilla trains models whose forward returns the logits [batch, classes]");
    return result.toTensor();
  }
};

TorchScriptModel::TorchScriptModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TorchScriptModel::~TorchScriptModel() = default;

StatusOr<std::shared_ptr<TorchScriptModel>> TorchScriptModel::load(const std::string& sha256) {
  ASSIGN_OR_RETURN(torch::jit::Module module, load_module(sha256));
  try {
    use_fast_max_pool(module);
    auto forward = module.find_method("forward");
    if (!forward) return invalid_argument_error("TorchScript archive " + sha256 + " has no forward method");
    auto features = module.find_method("features");
    auto classify = module.find_method("classify");
    if (!features || !classify) features = classify = c10::nullopt;
    auto impl = std::unique_ptr<Impl>(new Impl{sha256, module, *forward, features, classify, {}});
    std::shared_ptr<TorchScriptModel> model(new TorchScriptModel(std::move(impl)));
    mirror_module(model->impl_->module, *model, model->impl_->slots);
    RETURN_IF_ERROR(check_no_shared_storage(*model));
    // Every Model starts in training mode; the archive keeps the mode it was saved in (often eval).
    model->train(true);
    return model;
  } catch (const std::exception& e) {
    return internal_error("building a model of TorchScript archive " + sha256 + ": " + torch_error_message(e));
  }
}

at::Tensor TorchScriptModel::features(const at::Tensor& x) {
  if (impl_->features) return impl_->call(*impl_->features, x, "features");
  return impl_->call(impl_->forward, x, "forward");
}

at::Tensor TorchScriptModel::classify(const at::Tensor& features) {
  if (impl_->classify) return impl_->call(*impl_->classify, features, "classify");
  return features;
}

bool TorchScriptModel::provides_features() const { return impl_->features.has_value(); }

void TorchScriptModel::train(bool on) {
  torch::nn::Module::train(on);
  impl_->module.train(on);
}

namespace {

// Every tensor attribute of every module (parameters, buffers, and plain tensor attributes that
// the module's code reads), moved in place: set_data keeps each tensor's identity, which the
// placeholders and any model_state() view share.
void move_tensors(const torch::jit::Module& root, const std::optional<at::Device>& device,
                  const std::optional<at::ScalarType>& dtype, bool non_blocking) {
  torch::NoGradGuard no_grad;
  for (const auto& module : root.modules()) {
    for (const auto& attribute : module.named_attributes(/*recurse=*/false)) {
      if (!attribute.value.isTensor()) continue;
      at::Tensor t = attribute.value.toTensor();
      if (!t.defined()) continue;
      const at::ScalarType to_type = dtype && t.is_floating_point() ? *dtype : t.scalar_type();
      at::Tensor moved = t.to(device.value_or(t.device()), to_type, non_blocking);
      if (!moved.is_same(t)) t.set_data(moved);
    }
  }
}

}  // namespace

void TorchScriptModel::to(torch::Device device, torch::Dtype dtype, bool non_blocking) {
  move_tensors(impl_->module, device, dtype, non_blocking);
}

void TorchScriptModel::to(torch::Dtype dtype, bool non_blocking) {
  move_tensors(impl_->module, std::nullopt, dtype, non_blocking);
}

void TorchScriptModel::to(torch::Device device, bool non_blocking) {
  move_tensors(impl_->module, device, std::nullopt, non_blocking);
}

const std::string& TorchScriptModel::sha256() const { return impl_->sha256; }

Status save_torchscript_with_state(const std::string& sha256, const ModelState& state, const std::string& path) {
  ASSIGN_OR_RETURN(torch::jit::Module module, load_module(sha256));
  const std::string tmp = path + ".tmp";
  try {
    std::map<std::string, at::Tensor> slots;
    for (const auto& p : module.named_parameters(/*recurse=*/true)) slots.emplace(p.name, p.value);
    for (const auto& b : module.named_buffers(/*recurse=*/true)) slots.emplace(b.name, b.value);
    for (const auto& e : state.entries()) {
      auto it = slots.find(e.name);
      if (it == slots.end())
        return invalid_argument_error("state tensor '" + e.name +
                                      "' is not a parameter or buffer of TorchScript archive " + sha256);
      const at::Tensor& slot = it->second;
      if (slot.sizes() != e.tensor.sizes() || slot.scalar_type() != e.tensor.scalar_type())
        return invalid_argument_error("state tensor '" + e.name + "' is " + c10::toString(e.tensor.scalar_type()) +
                                      " " + shape_string(e.tensor.sizes()) + ", but the TorchScript model's is " +
                                      c10::toString(slot.scalar_type()) + " " + shape_string(slot.sizes()));
    }
    for (const auto& [name, slot] : slots)
      if (!state.find(name)) return invalid_argument_error("the state lacks the TorchScript model's '" + name + "'");
    {
      torch::NoGradGuard no_grad;
      for (const auto& e : state.entries()) slots.at(e.name).copy_(e.tensor);
    }
    module.save(tmp);
  } catch (const std::exception& e) {
    std::remove(tmp.c_str());
    return internal_error("writing TorchScript archive '" + path + "': " + torch_error_message(e));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    return internal_error("renaming '" + tmp + "' to '" + path + "': " + reason);
  }
  return Status();
}

}  // namespace flotilla
