// Mixing graphs for decentralised training (gossip.h): who talks to whom, and with which weights.
// A Graph is undirected and simple (no self-loops, no multi-edges) over ranks 0..N-1. A
// MixingMatrix W is row-stochastic with W_ij > 0 only on edges and the diagonal; gossip's x <- W x
// contracts the ranks' disagreement by the second-largest eigenvalue modulus of W per step, which
// second_eigenvalue_modulus() gives so users can predict convergence before running.
//
// Specs (parse_graph): "ring", "complete", "torus" (the most square rows x cols = N),
// "torus:rows=R" / "torus:rows=R,cols=C", "random-k:k=K" (K-regular, seeded: ",seed=S", default 0).
//
// Thread-safety: Graph and MixingMatrix are immutable values; free functions share no state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace flotilla {

class Graph {
 public:
  // InvalidArgument for n < 1, an endpoint outside [0, n), a self-loop; duplicate edges are merged.
  static StatusOr<Graph> from_edges(int n, const std::vector<std::pair<int, int>>& edges);

  int size() const { return static_cast<int>(neighbours_.size()); }
  // Sorted by rank, without `rank` itself.
  const std::vector<int>& neighbours(int rank) const { return neighbours_[rank]; }
  int degree(int rank) const { return static_cast<int>(neighbours_[rank].size()); }
  bool has_edge(int a, int b) const;

  // Connected components, each sorted, ordered by their smallest rank.
  std::vector<std::vector<int>> components() const;
  bool is_connected() const { return components().size() == 1; }
  // Empty for a connected graph; otherwise a warning-level explanation naming the components,
  // e.g. "the graph has 2 components ({0,1,2} {3,4}): gossip cannot bring them to consensus".
  std::string connectivity_warning() const;

 private:
  std::vector<std::vector<int>> neighbours_;
};

// Each rank linked to rank +- 1 (mod n); n = 2 is one edge, n = 1 no edge.
Graph ring_graph(int n);
Graph complete_graph(int n);
// rows x cols wraparound grid; rank = row * cols + col. A side of length 2 gives one link, not two.
// InvalidArgument unless rows, cols >= 1.
StatusOr<Graph> torus_graph(int rows, int cols);
// The most square factorisation rows x cols = n, rows <= cols (a prime n gives 1 x n, a ring).
std::pair<int, int> square_torus_shape(int n);
// A k-regular graph drawn from `seed` (same seed, same graph): a circulant graph (connected) whose
// edges are then shuffled by degree-preserving double-edge swaps, keeping only swaps that leave it
// connected. InvalidArgument unless 1 <= k < n and n * k is even.
StatusOr<Graph> random_regular_graph(int n, int k, uint64_t seed);

// A graph of `n` ranks from a spec (above). InvalidArgument naming the problem: unknown kind,
// unknown or repeated parameter, a parameter that is not a positive integer, rows * cols != n, k
// missing or impossible.
StatusOr<Graph> parse_graph(std::string_view spec, int n);

enum class MixingRule {
  kMetropolis,  // W_ij = 1 / (1 + max(d_i, d_j)) on edges; symmetric, doubly stochastic
  kUniform,     // W_ij = 1 / (d_i + 1) on edges and diagonal; symmetric only for regular graphs
};
// "metropolis" or "uniform"; InvalidArgument otherwise.
StatusOr<MixingRule> parse_mixing_rule(std::string_view name);

class MixingMatrix {
 public:
  MixingMatrix(const Graph& graph, MixingRule rule);
  int size() const { return n_; }
  double operator()(int i, int j) const { return w_[static_cast<size_t>(i) * n_ + j]; }
  // Row-major n x n.
  const std::vector<double>& values() const { return w_; }
  bool is_symmetric() const;

 private:
  int n_;
  std::vector<double> w_;
};

// The second-largest |eigenvalue| of W: 1 for a disconnected graph, 0 for complete uniform mixing.
// Symmetric W uses the symmetric solver (at::linalg_eigvalsh), others the general one. 0 for n = 1.
double second_eigenvalue_modulus(const MixingMatrix& w);

}  // namespace flotilla
