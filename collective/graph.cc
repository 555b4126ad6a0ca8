#include "collective/graph.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <random>
#include <set>

namespace flotilla {
namespace {

std::vector<std::vector<int>> components_of(const std::vector<std::set<int>>& adjacency) {
  const int n = static_cast<int>(adjacency.size());
  std::vector<int> component(n, -1);
  std::vector<std::vector<int>> out;
  for (int start = 0; start < n; ++start) {
    if (component[start] >= 0) continue;
    out.emplace_back();
    std::vector<int> stack{start};
    component[start] = static_cast<int>(out.size()) - 1;
    while (!stack.empty()) {
      const int v = stack.back();
      stack.pop_back();
      out.back().push_back(v);
      for (int u : adjacency[v]) {
        if (component[u] < 0) {
          component[u] = component[start];
          stack.push_back(u);
        }
      }
    }
    std::sort(out.back().begin(), out.back().end());
  }
  return out;
}

Graph from_adjacency(const std::vector<std::set<int>>& adjacency) {
  std::vector<std::pair<int, int>> edges;
  for (int a = 0; a < static_cast<int>(adjacency.size()); ++a) {
    for (int b : adjacency[a]) {
      if (a < b) edges.emplace_back(a, b);
    }
  }
  return *Graph::from_edges(static_cast<int>(adjacency.size()), edges);
}

// seed may be 0; every other parameter (k, rows, cols) is a count, so >= 1.
StatusOr<int> parse_value(std::string_view key, std::string_view value) {
  int out = 0;
  const int least = key == "seed" ? 0 : 1;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (error != std::errc() || end != value.data() + value.size() || out < least) {
    return invalid_argument_error("graph parameter " + std::string(key) + "=" + std::string(value) + " is not a " +
                                  (least == 0 ? "non-negative" : "positive") + " integer");
  }
  return out;
}

}  // namespace

StatusOr<Graph> Graph::from_edges(int n, const std::vector<std::pair<int, int>>& edges) {
  if (n < 1) return invalid_argument_error("a graph needs at least one rank, not " + std::to_string(n));
  std::vector<std::set<int>> adjacency(n);
  for (const auto& [a, b] : edges) {
    if (a < 0 || a >= n || b < 0 || b >= n) {
      return invalid_argument_error("edge " + std::to_string(a) + "-" + std::to_string(b) + " leaves [0, " +
                                    std::to_string(n) + ")");
    }
    if (a == b) return invalid_argument_error("self-loop at rank " + std::to_string(a));
    adjacency[a].insert(b);
    adjacency[b].insert(a);
  }
  Graph graph;
  graph.neighbours_.resize(n);
  for (int v = 0; v < n; ++v) graph.neighbours_[v].assign(adjacency[v].begin(), adjacency[v].end());
  return graph;
}

bool Graph::has_edge(int a, int b) const { return std::binary_search(neighbours_[a].begin(), neighbours_[a].end(), b); }

std::vector<std::vector<int>> Graph::components() const {
  std::vector<std::set<int>> adjacency(size());
  for (int v = 0; v < size(); ++v) adjacency[v].insert(neighbours_[v].begin(), neighbours_[v].end());
  return components_of(adjacency);
}

std::string Graph::connectivity_warning() const {
  const auto parts = components();
  if (parts.size() <= 1) return "";
  std::string text = "the graph has " + std::to_string(parts.size()) + " components (";
  for (size_t i = 0; i < parts.size(); ++i) {
    text += i == 0 ? "{" : " {";
    for (size_t j = 0; j < parts[i].size(); ++j) text += (j == 0 ? "" : ",") + std::to_string(parts[i][j]);
    text += "}";
  }
  return text + "): gossip cannot bring them to consensus; each component converges to its own average";
}

Graph ring_graph(int n) {
  std::vector<std::pair<int, int>> edges;
  for (int v = 0; v < n && n > 1; ++v) edges.emplace_back(v, (v + 1) % n);  // n = 2: merged into one
  return *Graph::from_edges(std::max(n, 1), edges);
}

Graph complete_graph(int n) {
  std::vector<std::pair<int, int>> edges;
  for (int a = 0; a < n; ++a) {
    for (int b = a + 1; b < n; ++b) edges.emplace_back(a, b);
  }
  return *Graph::from_edges(std::max(n, 1), edges);
}

StatusOr<Graph> torus_graph(int rows, int cols) {
  if (rows < 1 || cols < 1) {
    return invalid_argument_error("torus sides must be >= 1, not " + std::to_string(rows) + "x" + std::to_string(cols));
  }
  std::vector<std::pair<int, int>> edges;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const int v = r * cols + c;
      if (cols > 1) edges.emplace_back(v, r * cols + (c + 1) % cols);
      if (rows > 1) edges.emplace_back(v, ((r + 1) % rows) * cols + c);
    }
  }
  return Graph::from_edges(rows * cols, edges);
}

std::pair<int, int> square_torus_shape(int n) {
  int rows = 1;
  for (int r = 1; r * r <= n; ++r) {
    if (n % r == 0) rows = r;
  }
  return {rows, n / rows};
}

StatusOr<Graph> random_regular_graph(int n, int k, uint64_t seed) {
  if (k < 1 || k >= n) {
    return invalid_argument_error("random-k needs 1 <= k < N, got k=" + std::to_string(k) +
                                  " for N=" + std::to_string(n));
  }
  if ((static_cast<int64_t>(n) * k) % 2 != 0) {
    return invalid_argument_error("no " + std::to_string(k) + "-regular graph on " + std::to_string(n) +
                                  " ranks exists: N*k must be even");
  }
  // Circulant start: offsets 1..k/2, plus n/2 for odd k (n is then even); connected and k-regular.
  std::vector<std::set<int>> adjacency(n);
  auto link = [&](int a, int b) {
    adjacency[a].insert(b);
    adjacency[b].insert(a);
  };
  for (int v = 0; v < n; ++v) {
    for (int d = 1; d <= k / 2; ++d) link(v, (v + d) % n);
    if (k % 2 == 1) link(v, (v + n / 2) % n);
  }
  std::vector<std::pair<int, int>> edges;
  for (int a = 0; a < n; ++a) {
    for (int b : adjacency[a]) {
      if (a < b) edges.emplace_back(a, b);
    }
  }
  // Our own generator arithmetic (not std::uniform_int_distribution, whose output differs between
  // standard libraries), so a seed names the same graph everywhere.
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t m) { return static_cast<size_t>(rng() % m); };
  const size_t swaps = 10 * edges.size();
  for (size_t t = 0; t < swaps && edges.size() >= 2; ++t) {
    const size_t i = pick(edges.size());
    const size_t j = pick(edges.size());
    if (i == j) continue;
    auto [a, b] = edges[i];
    auto [c, d] = edges[j];
    if (rng() & 1) std::swap(c, d);
    // (a,b),(c,d) -> (a,c),(b,d): degrees unchanged.
    if (a == c || b == d || adjacency[a].count(c) || adjacency[b].count(d)) continue;
    adjacency[a].erase(b), adjacency[b].erase(a), adjacency[c].erase(d), adjacency[d].erase(c);
    link(a, c);
    link(b, d);
    if (components_of(adjacency).size() != 1) {  // keep the graph connected: undo
      adjacency[a].erase(c), adjacency[c].erase(a), adjacency[b].erase(d), adjacency[d].erase(b);
      link(a, b);
      link(c, d);
      continue;
    }
    edges[i] = {std::min(a, c), std::max(a, c)};
    edges[j] = {std::min(b, d), std::max(b, d)};
  }
  return from_adjacency(adjacency);
}

StatusOr<Graph> parse_graph(std::string_view spec, int n) {
  if (n < 1) return invalid_argument_error("a graph needs at least one rank, not " + std::to_string(n));
  const size_t colon = spec.find(':');
  const std::string kind(spec.substr(0, colon));
  std::map<std::string, int> params;
  if (colon != std::string_view::npos) {
    std::string_view rest = spec.substr(colon + 1);
    while (true) {
      const size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      const size_t eq = item.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        return invalid_argument_error("graph spec '" + std::string(spec) + "': parameter '" + std::string(item) +
                                      "' is not key=value");
      }
      const std::string key(item.substr(0, eq));
      ASSIGN_OR_RETURN(const int value, parse_value(key, item.substr(eq + 1)));
      if (!params.emplace(key, value).second) {
        return invalid_argument_error("graph spec '" + std::string(spec) + "': " + key + " is given twice");
      }
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  }
  auto take = [&](const std::string& key) -> std::optional<int> {
    auto it = params.find(key);
    if (it == params.end()) return std::nullopt;
    const int value = it->second;
    params.erase(it);
    return value;
  };
  StatusOr<Graph> graph =
      invalid_argument_error("unknown graph kind '" + kind + "' (known: ring, torus, random-k, complete)");
  if (kind == "ring") {
    graph = ring_graph(n);
  } else if (kind == "complete") {
    graph = complete_graph(n);
  } else if (kind == "torus") {
    const std::optional<int> rows = take("rows");
    const std::optional<int> cols = take("cols");
    auto [r, c] = square_torus_shape(n);
    if (rows) r = *rows;
    if (cols) c = *cols;
    if (rows && !cols) c = n / r;
    if (cols && !rows) r = n / c;
    if (static_cast<int64_t>(r) * c != n) {
      return invalid_argument_error("torus " + std::to_string(r) + "x" + std::to_string(c) + " does not hold " +
                                    std::to_string(n) + " ranks (rows * cols must equal N)");
    }
    graph = torus_graph(r, c);
  } else if (kind == "random-k") {
    const std::optional<int> k = take("k");
    if (!k) return invalid_argument_error("graph spec '" + std::string(spec) + "': random-k needs k (random-k:k=4)");
    const std::optional<int> seed = take("seed");
    graph = random_regular_graph(n, *k, seed ? static_cast<uint64_t>(*seed) : 0);
  }
  if (graph.ok() && !params.empty()) {
    return invalid_argument_error("graph spec '" + std::string(spec) + "': unknown parameter " + params.begin()->first +
                                  " for " + kind);
  }
  return graph;
}

StatusOr<MixingRule> parse_mixing_rule(std::string_view name) {
  if (name == "metropolis") return MixingRule::kMetropolis;
  if (name == "uniform") return MixingRule::kUniform;
  return invalid_argument_error("unknown mixing weights '" + std::string(name) + "' (known: metropolis, uniform)");
}

MixingMatrix::MixingMatrix(const Graph& graph, MixingRule rule)
    : n_(graph.size()), w_(static_cast<size_t>(graph.size()) * graph.size(), 0.0) {
  for (int i = 0; i < n_; ++i) {
    double off_diagonal = 0;
    for (int j : graph.neighbours(i)) {
      const double w = rule == MixingRule::kMetropolis ? 1.0 / (1 + std::max(graph.degree(i), graph.degree(j)))
                                                       : 1.0 / (graph.degree(i) + 1);
      w_[static_cast<size_t>(i) * n_ + j] = w;
      off_diagonal += w;
    }
    w_[static_cast<size_t>(i) * n_ + i] = 1.0 - off_diagonal;
  }
}

bool MixingMatrix::is_symmetric() const {
  for (int i = 0; i < n_; ++i) {
    for (int j = i + 1; j < n_; ++j) {
      if ((*this)(i, j) != (*this)(j, i)) return false;
    }
  }
  return true;
}

double second_eigenvalue_modulus(const MixingMatrix& w) {
  const int n = w.size();
  if (n <= 1) return 0.0;
  const at::Tensor matrix = at::from_blob(const_cast<double*>(w.values().data()), {n, n}, at::kDouble).clone();
  const at::Tensor moduli = w.is_symmetric() ? at::linalg_eigvalsh(matrix).abs() : at::linalg_eigvals(matrix).abs();
  const at::Tensor sorted = std::get<0>(moduli.to(at::kDouble).sort(/*dim=*/0, /*descending=*/true));
  return sorted[1].item<double>();
}

}  // namespace flotilla
