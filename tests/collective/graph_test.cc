// Mixing graphs and weights: shapes and degrees of each kind, Metropolis / uniform weight
// properties, seeded random-k graphs, the second eigenvalue on graphs whose spectrum is known,
// and clear refusals of bad specs.
#include "collective/graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "tests/support/text.h"

namespace flotilla {
namespace {

using test_text::contains;

Graph parse_ok(const std::string& spec, int n) {
  auto graph = parse_graph(spec, n);
  EXPECT_TRUE(graph.ok()) << spec << ": " << graph.status();
  return graph.ok() ? *graph : ring_graph(1);
}

void expect_valid_weights(const Graph& graph, MixingRule rule) {
  const MixingMatrix w(graph, rule);
  for (int i = 0; i < graph.size(); ++i) {
    double row = 0;
    for (int j = 0; j < graph.size(); ++j) {
      row += w(i, j);
      EXPECT_GE(w(i, j), 0.0);
      if (i != j && !graph.has_edge(i, j)) {
        EXPECT_EQ(w(i, j), 0.0) << i << "," << j;
      }
    }
    EXPECT_NEAR(row, 1.0, 1e-12) << "row " << i;
  }
}

TEST(GraphTest, RingHasDegreeTwoAndMetropolisWeightsAreSymmetricStochastic) {
  const Graph ring = parse_ok("ring", 8);
  for (int v = 0; v < 8; ++v) {
    std::vector<int> expected = {(v + 7) % 8, (v + 1) % 8};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(ring.neighbours(v), expected);
  }
  EXPECT_TRUE(ring.is_connected());
  EXPECT_EQ(ring.connectivity_warning(), "");
  expect_valid_weights(ring, MixingRule::kMetropolis);
  const MixingMatrix w(ring, MixingRule::kMetropolis);
  EXPECT_TRUE(w.is_symmetric());
  EXPECT_DOUBLE_EQ(w(0, 1), 1.0 / 3);
  // W = (I + A) / 3 on a ring: eigenvalues (1 + 2 cos(2 pi k / 8)) / 3; the second is k = 1.
  EXPECT_NEAR(second_eigenvalue_modulus(w), (1 + 2 * std::cos(2 * std::numbers::pi / 8)) / 3, 1e-9);
  EXPECT_EQ(parse_ok("ring", 2).degree(0), 1);
  EXPECT_EQ(parse_ok("ring", 1).degree(0), 0);
}

TEST(GraphTest, TorusShapes) {
  EXPECT_EQ(square_torus_shape(8), std::make_pair(2, 4));
  EXPECT_EQ(square_torus_shape(12), std::make_pair(3, 4));
  EXPECT_EQ(square_torus_shape(16), std::make_pair(4, 4));
  EXPECT_EQ(square_torus_shape(7), std::make_pair(1, 7));
  const Graph t = parse_ok("torus", 16);  // 4 x 4: every rank has 4 neighbours
  for (int v = 0; v < 16; ++v) EXPECT_EQ(t.degree(v), 4);
  EXPECT_TRUE(t.has_edge(0, 1) && t.has_edge(0, 3) && t.has_edge(0, 4) && t.has_edge(0, 12));
  const Graph t23 = parse_ok("torus:rows=2,cols=3", 6);  // the side of 2 gives one vertical link
  for (int v = 0; v < 6; ++v) EXPECT_EQ(t23.degree(v), 3);
  EXPECT_TRUE(t23.has_edge(0, 3));
  EXPECT_EQ(parse_ok("torus:rows=3", 6).degree(0), 3);  // 3 x 2
  expect_valid_weights(t23, MixingRule::kMetropolis);
  expect_valid_weights(t23, MixingRule::kUniform);
}

TEST(GraphTest, RandomRegularIsSeededRegularAndConnected) {
  const Graph a = parse_ok("random-k:k=4", 12);
  const Graph b = parse_ok("random-k:k=4,seed=0", 12);
  const Graph c = parse_ok("random-k:k=4,seed=5", 12);
  bool differs = false;
  for (int v = 0; v < 12; ++v) {
    EXPECT_EQ(a.degree(v), 4);
    EXPECT_EQ(c.degree(v), 4);
    EXPECT_EQ(a.neighbours(v), b.neighbours(v));
    differs = differs || a.neighbours(v) != c.neighbours(v);
  }
  EXPECT_TRUE(differs) << "seeds 0 and 5 gave the same graph";
  EXPECT_TRUE(a.is_connected());
  EXPECT_TRUE(c.is_connected());
  const Graph odd = parse_ok("random-k:k=3", 10);
  for (int v = 0; v < 10; ++v) EXPECT_EQ(odd.degree(v), 3);
  expect_valid_weights(odd, MixingRule::kMetropolis);
  EXPECT_LT(second_eigenvalue_modulus(MixingMatrix(odd, MixingRule::kMetropolis)), 1.0 - 1e-6);
}

TEST(GraphTest, CompleteGraphWithUniformWeightsMixesInOneStep) {
  const Graph g = parse_ok("complete", 5);
  for (int v = 0; v < 5; ++v) EXPECT_EQ(g.degree(v), 4);
  const MixingMatrix w(g, MixingRule::kUniform);
  EXPECT_DOUBLE_EQ(w(2, 2), 0.2);
  EXPECT_NEAR(second_eigenvalue_modulus(w), 0.0, 1e-9);
}

TEST(GraphTest, UniformWeightsOnAnIrregularGraph) {
  auto path = Graph::from_edges(3, {{0, 1}, {1, 2}});  // degrees 1, 2, 1
  ASSERT_TRUE(path.ok());
  const MixingMatrix uniform(*path, MixingRule::kUniform);
  EXPECT_DOUBLE_EQ(uniform(0, 0), 0.5);
  EXPECT_DOUBLE_EQ(uniform(1, 0), 1.0 / 3);
  EXPECT_FALSE(uniform.is_symmetric());
  expect_valid_weights(*path, MixingRule::kUniform);
  const MixingMatrix metropolis(*path, MixingRule::kMetropolis);
  EXPECT_TRUE(metropolis.is_symmetric());
  EXPECT_DOUBLE_EQ(metropolis(0, 1), 1.0 / 3);
  EXPECT_DOUBLE_EQ(metropolis(0, 0), 2.0 / 3);
  EXPECT_DOUBLE_EQ(metropolis(1, 1), 1.0 / 3);
  // Eigenvalues of both are real here; both contract (second modulus < 1).
  EXPECT_LT(second_eigenvalue_modulus(uniform), 1.0);
  EXPECT_LT(second_eigenvalue_modulus(metropolis), 1.0);
}

TEST(GraphTest, BadSpecsAreRefusedWithTheReason) {
  struct Bad {
    std::string spec;
    int n;
    std::string says;
  };
  const std::vector<Bad> cases = {
      {"star", 4, "unknown graph kind 'star'"},
      {"ring:k=2", 4, "unknown parameter k"},
      {"random-k", 8, "random-k needs k"},
      {"random-k:k=3", 7, "N*k must be even"},
      {"random-k:k=8", 8, "1 <= k < N"},
      {"random-k:k=x", 8, "k=x is not a positive integer"},
      {"random-k:k=0", 8, "k=0 is not a positive integer"},
      {"random-k:k=2,k=2", 8, "k is given twice"},
      {"torus:rows=3", 8, "rows * cols must equal N"},
      {"torus:rows=2,cols=2", 8, "2x2 does not hold 8 ranks"},
      {"torus:rows", 8, "is not key=value"},
      {"ring", 0, "at least one rank"},
  };
  for (const Bad& bad : cases) {
    auto graph = parse_graph(bad.spec, bad.n);
    ASSERT_FALSE(graph.ok()) << bad.spec;
    EXPECT_EQ(graph.status().code(), StatusCode::kInvalidArgument) << bad.spec;
    EXPECT_TRUE(contains(graph.status().message(), bad.says)) << bad.spec << ": " << graph.status();
  }
  EXPECT_FALSE(parse_mixing_rule("average").ok());
  EXPECT_TRUE(contains(parse_mixing_rule("average").status().message(), "metropolis, uniform"));
  EXPECT_EQ(*parse_mixing_rule("uniform"), MixingRule::kUniform);
  EXPECT_FALSE(Graph::from_edges(3, {{0, 0}}).ok());
  EXPECT_FALSE(Graph::from_edges(3, {{0, 3}}).ok());
}

}  // namespace
}  // namespace flotilla
