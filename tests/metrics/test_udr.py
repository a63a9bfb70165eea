"""UDR: pure cores against loop references and known answers."""

import itertools
import math

import numpy as np
import pytest
import scipy.stats

from tf_betavae.metrics import udr

from conftest import FactorGroundTruth


# ---------------------------------------------------------------- references
# Straightforward float64 loops, written from the definitions.

def _reference_standardise(codes):
  out = np.zeros(codes.shape)
  for j in range(codes.shape[1]):
    column = codes[:, j].astype(np.float64)
    mean = sum(column) / len(column)
    std = np.sqrt(sum((column - mean) ** 2) / len(column))
    out[:, j] = (column - mean) / std if std > 0 else 0.0
  return out


def _reference_lasso(x, y, alpha, sweeps=2000):
  """Coordinate descent on 1/(2n)|y - b - Xw|^2 + alpha |w|_1, per target."""
  n, d = x.shape
  xc = x - x.mean(axis=0)
  out = np.zeros((d, y.shape[1]))
  for target in range(y.shape[1]):
    yc = y[:, target] - y[:, target].mean()
    w = np.zeros(d)
    for _ in range(sweeps):
      largest_change = 0.0
      for k in range(d):
        norm = xc[:, k] @ xc[:, k] / n
        if norm == 0:
          continue
        partial = yc - xc @ w + xc[:, k] * w[k]
        rho = xc[:, k] @ partial / n
        new = np.sign(rho) * max(abs(rho) - alpha, 0.0) / norm
        largest_change = max(largest_change, abs(new - w[k]))
        w[k] = new
      if largest_change < 1e-12:
        break
    out[:, target] = np.abs(w)
  return out


def _reference_spearman(a, b):
  out = np.zeros((a.shape[1], b.shape[1]))
  for p in range(a.shape[1]):
    for q in range(b.shape[1]):
      if np.ptp(a[:, p]) == 0 or np.ptp(b[:, q]) == 0:
        out[p, q] = np.nan
      else:
        out[p, q] = abs(scipy.stats.spearmanr(a[:, p], b[:, q])[0])
  return out


def _reference_strength(matrix):
  def ratios(rows):
    values = []
    for row in rows:
      total = sum(row)
      values.append(max(row) ** 2 / total if total > 0 else 0.0)
    return sum(values) / len(values)
  return (ratios(matrix.T) + ratios(matrix)) / 2


def _reference_udr(codes, kls, correlation, threshold=0.01, alpha=0.1):
  masks = [kl > threshold for kl in kls]
  prepared = [_reference_standardise(c) * m for c, m in zip(codes, masks)]
  m = len(codes)
  pair = np.zeros((m, m))
  for i, j in itertools.permutations(range(m), 2):
    if correlation == "lasso":
      matrix = _reference_lasso(prepared[i], prepared[j], alpha)
    else:
      matrix = _reference_spearman(prepared[i], prepared[j])
    kept = matrix[masks[i]][:, masks[j]]
    pair[i, j] = _reference_strength(kept) if kept.size else 0.0
  scores = [float(np.median([pair[j, i] for j in range(m) if j != i]))
            for i in range(m)]
  return scores, pair


# ------------------------------------------------------------------- data

def _grid(levels=5, dim=4):
  """Every point of a levels^dim grid: columns exactly uncorrelated, both
  linearly and in rank, each with the same spread."""
  return np.array(list(itertools.product(range(levels), repeat=dim)),
                  np.float64)


def _permuted_flipped(codes, seed=0):
  rs = np.random.RandomState(seed)
  permutation = rs.permutation(codes.shape[1])
  signs = np.where(np.arange(codes.shape[1]) % 2 == 0, -1.0, 1.0)
  return codes[:, permutation] * signs * 3.0 + 7.0  # scale, shift too


def _kls(*codes):
  return [np.ones(c.shape[1]) for c in codes]


# ------------------------------------------------------------------- cores

def test_kl_and_standardise_match_references():
  rs = np.random.RandomState(0)
  mean, log_var = rs.randn(50, 3), rs.randn(50, 3)
  expected = [np.mean([0.5 * (m * m + np.exp(v) - v - 1)
                       for m, v in zip(mean[:, j], log_var[:, j])])
              for j in range(3)]
  np.testing.assert_allclose(udr.mean_kl_per_latent(mean, log_var), expected,
                             rtol=1e-12)
  codes = np.concatenate([rs.randn(50, 2) * 5 + 3, np.full((50, 1), 2.0)],
                         axis=1)
  np.testing.assert_allclose(udr.standardise(codes),
                             _reference_standardise(codes), atol=1e-12)


def test_relative_strength_hand_computed_values():
  assert udr.relative_strength_score(np.eye(3)) == pytest.approx(1.0)
  # Columns and rows (1, 1, 0), (1, 1, 0), (0, 0, 1): ratios 1/2, 1/2, 1.
  block = np.array([[1.0, 1, 0], [1, 1, 0], [0, 0, 1]])
  assert udr.relative_strength_score(block) == pytest.approx(2 / 3)
  assert udr.relative_strength_score(np.ones((3, 3))) == pytest.approx(1 / 3)
  assert udr.relative_strength_score(np.zeros((3, 3))) == 0.0
  assert udr.relative_strength_score(0.9 * np.eye(4)[::-1]) == pytest.approx(
      0.9)
  # One all-zero column (0/0 -> 0): columns 1, 1, 0; rows 1, 1.
  assert udr.relative_strength_score(
      np.array([[1.0, 0, 0], [0, 1, 0]])) == pytest.approx((2 / 3 + 1) / 2)
  assert udr.relative_strength_score(np.zeros((0, 3))) == 0.0


def test_relative_strength_matches_reference():
  rs = np.random.RandomState(1)
  for shape in ((4, 4), (3, 6), (6, 2)):
    matrix = np.abs(rs.randn(*shape))
    matrix[:, 0] = 0.0
    assert udr.relative_strength_score(matrix) == pytest.approx(
        _reference_strength(matrix), rel=1e-12)


def test_lasso_matches_coordinate_descent_reference():
  rs = np.random.RandomState(2)
  x = rs.randn(2000, 4) @ rs.randn(4, 4)
  y = np.concatenate([x @ rs.randn(4, 2), rs.randn(2000, 1)], axis=1)
  y += 0.3 * rs.randn(*y.shape)
  x, y = _reference_standardise(x), _reference_standardise(y)
  ours = udr.lasso_correlation(x, y, 0.1)
  assert ours.shape == (4, 3)
  expected = _reference_lasso(x, y, 0.1)
  np.testing.assert_allclose(ours, expected, atol=2e-3)
  assert np.abs(expected).max() > 0.3  # not a trivially zero comparison
  # One target (sklearn's coef_ is then 1-D).
  np.testing.assert_allclose(udr.lasso_correlation(x, y[:, :1], 0.1),
                             expected[:, :1], atol=2e-3)


def test_spearman_matches_pairwise_scipy_reference():
  rs = np.random.RandomState(3)
  a = rs.randn(500, 3)
  b = np.stack([np.exp(a[:, 1]), a[:, 0] + rs.randn(500), rs.randn(500),
                np.zeros(500)], axis=1)
  np.testing.assert_allclose(udr.spearman_correlation(a, b),
                             _reference_spearman(a, b), atol=1e-12)
  np.testing.assert_allclose(udr.spearman_correlation(a[:, :1], b[:, :1]),
                             _reference_spearman(a[:, :1], b[:, :1]),
                             atol=1e-12)
  # Constant (masked) latents between informative ones, as a trained model
  # has them; scipy alone returns a single nan for some such placements.
  c = rs.randn(500, 10)
  c[:, [1, 2, 4, 5, 7, 9]] = 0.0
  d = np.concatenate([c[:, 5:], c[:, :5]], axis=1)
  expected = _reference_spearman(c, d)
  np.testing.assert_allclose(udr.spearman_correlation(c, d), expected,
                             atol=1e-12)
  assert np.nansum(expected) > 3.9  # four informative pairs with rho = 1
  kl = (np.ptp(c, axis=0) > 0).astype(float)
  assert udr.compute_udr_from_codes([c, d], [kl, kl[np.r_[5:10, 0:5]]],
                                    "spearman")["model_scores"][0] > 0.9
  np.testing.assert_array_equal(
      udr.spearman_correlation(np.zeros((5, 2)), a[:5]), np.nan)


@pytest.mark.parametrize("correlation", ["lasso", "spearman"])
def test_udr_matches_reference(correlation):
  rs = np.random.RandomState(4)
  base = rs.randn(600, 4)
  codes = [base + 0.5 * rs.randn(600, 4),
           base[:, ::-1] @ np.diag([1, -1, 2, 1]) + 0.3 * rs.randn(600, 4),
           base @ rs.randn(4, 4),
           rs.randn(600, 4)]
  kls = [rs.uniform(0, 0.1, size=4) for _ in codes]
  result = udr.compute_udr_from_codes(codes, kls, correlation)
  scores, pair = _reference_udr(codes, kls, correlation)
  np.testing.assert_allclose(result["pairwise_scores"], pair, atol=2e-3)
  np.testing.assert_allclose(result["model_scores"], scores, atol=2e-3)
  assert result["informative_latents"] == [int((k > 0.01).sum())
                                           for k in kls]
  assert result["parameters"]["correlation"] == correlation
  assert result["parameters"]["num_points"] == 600
  assert max(scores) - min(scores) > 0.1  # the models are told apart


# ------------------------------------------------------------ known answers

@pytest.mark.parametrize("transform", ["identical", "permuted_flipped"])
def test_equivalent_representations_score_one(transform):
  codes = _grid()
  other = codes.copy() if transform == "identical" else _permuted_flipped(
      codes)
  spearman = udr.compute_udr_from_codes([codes, other], _kls(codes, other),
                                        "spearman")
  assert spearman["model_scores"] == pytest.approx([1.0, 1.0], abs=1e-9)
  # Lasso shrinks the one true coefficient from 1 to 1 - alpha.
  for alpha in (0.1, 0.3, 1e-6):
    lasso = udr.compute_udr_from_codes([codes, other], _kls(codes, other),
                                       "lasso", lasso_alpha=alpha)
    assert lasso["model_scores"] == pytest.approx([1 - alpha] * 2, abs=1e-6)
    assert lasso["parameters"]["lasso_alpha"] == alpha


def test_permutation_on_random_codes_near_one_as_predicted():
  # Off-diagonal |rank correlations| of independent columns are about
  # sqrt(2 / (pi N)) each, so a column scores 1 / (1 + (D - 1) of them).
  rs = np.random.RandomState(5)
  n, d = 4000, 6
  codes = rs.randn(n, d)
  other = _permuted_flipped(codes, seed=1)
  result = udr.compute_udr_from_codes([codes, other], _kls(codes, other),
                                      "spearman")
  predicted = 1 / (1 + (d - 1) * np.sqrt(2 / (np.pi * n)))
  assert result["model_scores"][0] == pytest.approx(predicted, abs=0.01)
  assert result["model_scores"][0] < 1.0


def _chance_strength(n, d, rs, trials=200):
  """Mean relative strength of a d x d matrix of |rank correlations| of
  independent samples of size n, simulated as |N(0, 1/(n-1))| entries."""
  return np.mean([_reference_strength(np.abs(rs.randn(d, d)) / np.sqrt(n - 1))
                  for _ in range(trials)])


@pytest.mark.parametrize("n", [300, 5000])
def test_independent_representations_score_chance(n):
  rs = np.random.RandomState(6)
  d = 10
  codes = [rs.randn(n, d) for _ in range(3)]
  spearman = udr.compute_udr_from_codes(codes, _kls(*codes), "spearman")
  chance = _chance_strength(n, d, np.random.RandomState(7))
  assert chance < 0.1
  for score in spearman["model_scores"]:
    assert score < 0.5
    assert score == pytest.approx(chance, rel=0.35)
  lasso = udr.compute_udr_from_codes(codes, _kls(*codes), "lasso")
  assert max(lasso["model_scores"]) < 0.5
  if n == 5000:
    # Every |correlation| (sd 1/sqrt(n) = 0.014) is far below alpha = 0.1:
    # Lasso keeps no coefficient.
    assert lasso["model_scores"] == [0.0, 0.0, 0.0]


def test_low_kl_latents_are_ignored():
  rs = np.random.RandomState(8)
  codes = _grid(levels=4, dim=3)
  noise_a, noise_b = rs.randn(len(codes), 1), rs.randn(len(codes), 1)
  # A 4th latent in each model that is unrelated between the models.
  model_a = np.concatenate([codes, noise_a], axis=1)
  model_b = np.concatenate([_permuted_flipped(codes), noise_b], axis=1)
  kl_quiet = np.array([1.0, 1.0, 1.0, 0.005])
  masked = udr.compute_udr_from_codes([model_a, model_b],
                                      [kl_quiet, kl_quiet], "spearman")
  assert masked["informative_latents"] == [3, 3]
  assert masked["model_scores"] == pytest.approx([1.0, 1.0], abs=1e-9)
  # At or below the threshold is masked; raising the KL above it counts the
  # noise latent, which has no partner: the score drops.
  at_threshold = udr.compute_udr_from_codes(
      [model_a, model_b], [np.array([1, 1, 1, 0.01])] * 2, "spearman")
  assert at_threshold["informative_latents"] == [3, 3]
  loud = udr.compute_udr_from_codes([model_a, model_b],
                                    [np.ones(4), np.ones(4)], "spearman")
  assert loud["informative_latents"] == [4, 4]
  assert loud["model_scores"][0] < 0.9
  # The threshold is a parameter.
  strict = udr.compute_udr_from_codes([model_a, model_b],
                                      [kl_quiet, kl_quiet], "spearman",
                                      kl_filter_threshold=0.001)
  assert strict["informative_latents"] == [4, 4]
  assert strict["parameters"]["kl_filter_threshold"] == 0.001


def test_model_without_informative_latents_scores_zero():
  codes = _grid(levels=3, dim=3)
  result = udr.compute_udr_from_codes(
      [codes, codes, codes], [np.ones(3), np.ones(3), np.zeros(3)],
      "spearman")
  assert result["informative_latents"] == [3, 3, 0]
  # Models 0 and 1 agree (1) and share nothing with model 2 (0): median of
  # (1, 0) is 1/2; model 2's pairs are all 0.
  assert result["model_scores"] == pytest.approx([0.5, 0.5, 0.0])
  np.testing.assert_allclose(np.diag(result["pairwise_scores"]), 0.0)


def test_bad_input():
  codes = _grid(levels=3, dim=2)
  with pytest.raises(ValueError, match="at least 2"):
    udr.compute_udr_from_codes([codes], _kls(codes))
  with pytest.raises(ValueError, match="correlation"):
    udr.compute_udr_from_codes([codes, codes], _kls(codes, codes), "pearson")
  with pytest.raises(ValueError, match="codes"):
    udr.compute_udr_from_codes([codes, codes[:5]], _kls(codes, codes))


# ----------------------------------------------------------------- sampling

def test_compute_udr_encodes_one_shared_sample():
  gt = FactorGroundTruth((8, 8, 8))
  seen = []

  def encoder(permutation, sign):
    def encode(images):
      seen.append(images.copy())
      factors = images.reshape(len(images), -1).astype(np.float64)
      return sign * factors[:, permutation], np.zeros_like(factors)
    return encode

  encoders = [encoder([0, 1, 2], 1.0), encoder([2, 0, 1], -1.0),
              encoder([1, 2, 0], 2.0)]
  result = udr.compute_udr(gt, encoders, np.random.RandomState(0),
                           num_points=3000, correlation="spearman",
                           chunk_images=1000)
  # Three models per chunk, three chunks; each model saw the same images.
  assert len(seen) == 9
  for k in range(0, 9, 3):
    np.testing.assert_array_equal(seen[k], seen[k + 1])
    np.testing.assert_array_equal(seen[k], seen[k + 2])
  # Same codes as sampling by hand with the same seed, through the core.
  factors = gt.sample_factors(3000, np.random.RandomState(0)).astype(float)
  posteriors = [e(factors) for e in encoders]
  expected = udr.compute_udr_from_codes(
      [m for m, _ in posteriors],
      [udr.mean_kl_per_latent(m, v) for m, v in posteriors], "spearman")
  assert result["model_scores"] == pytest.approx(expected["model_scores"],
                                                 abs=1e-12)
  assert min(result["model_scores"]) > 0.9


def _pool_picks_by_recomputing(codes, kls, pool_size, correlation):
  """Reference: UDR recomputed from the codes of each pool alone."""
  counts = np.zeros(len(codes), np.int64)
  for pool in itertools.combinations(range(len(codes)), pool_size):
    result = udr.compute_udr_from_codes(
        [codes[i] for i in pool], [kls[i] for i in pool],
        correlation=correlation)
    counts[pool[int(np.argmax(result["model_scores"]))]] += 1
  return counts


@pytest.mark.parametrize("correlation,pool_sizes", [
    ("spearman", (2, 3, 4, 5)), ("lasso", (3,))])
def test_pool_picks_match_udr_recomputed_on_each_pool(correlation,
                                                      pool_sizes):
  # Five models of one 3-factor source, mixed more or less: their pair scores
  # differ, so picks differ between pools.
  rng = np.random.RandomState(4)
  source = rng.normal(size=(300, 3))
  codes, kls = [], []
  for mixing in (0.0, 0.1, 0.3, 0.6, 1.0):
    matrix = np.eye(3) + mixing * rng.normal(size=(3, 3))
    codes.append(source @ matrix + 0.05 * rng.normal(size=(300, 3)))
    kls.append(np.ones(3))
  pairwise = udr.compute_udr_from_codes(codes, kls, correlation=correlation)[
      "pairwise_scores"]
  for pool_size in pool_sizes:
    expected = _pool_picks_by_recomputing(codes, kls, pool_size, correlation)
    got = udr.pool_picks(pairwise, pool_size)
    np.testing.assert_array_equal(got, expected)
    assert got.sum() == math.comb(5, pool_size)
  assert udr.pool_picks(pairwise, 5).tolist() == [
      int(i == int(np.argmax(udr.compute_udr_from_codes(
          codes, kls, correlation=correlation)["model_scores"])))
      for i in range(5)]


def test_a_model_every_other_agrees_with_wins_every_pool_it_is_in():
  rng = np.random.RandomState(0)
  pairwise = rng.uniform(0, 0.5, size=(7, 7))
  pairwise[:, 4] = 0.9  # every model's pair with model 4 as columns
  for pool_size in range(2, 8):
    counts = udr.pool_picks(pairwise, pool_size)
    assert counts[4] == math.comb(6, pool_size - 1)
    assert counts.sum() == math.comb(7, pool_size)


def test_pool_picks_break_ties_to_the_lower_index():
  np.testing.assert_array_equal(udr.pool_picks(np.full((3, 3), 0.5), 2),
                                [2, 1, 0])
  np.testing.assert_array_equal(
      udr.pool_picks(np.full((3, 3), 0.5), np.int64(3)), [1, 0, 0])


@pytest.mark.parametrize("pairwise,pool_size,fragment", [
    (np.zeros((3, 2)), 2, "square matrix"),
    (np.zeros((1, 1)), 2, "square matrix"),
    (np.zeros((4, 4)), 1, r"integer in \[2, 4\]"),
    (np.zeros((4, 4)), 5, r"integer in \[2, 4\]"),
    (np.zeros((4, 4)), 2.5, r"integer in \[2, 4\]"),
    (np.zeros((4, 4)), True, r"integer in \[2, 4\]"),
    (np.zeros((4, 4)), "3", r"integer in \[2, 4\]"),
    (np.zeros((4, 4)), None, r"integer in \[2, 4\]"),
    (np.where(np.eye(3) > 0, 0, np.nan), 2, "finite"),
    (np.zeros((30, 30)), 15, "more than 1000000"),
])
def test_pool_picks_bad_input(pairwise, pool_size, fragment):
  with pytest.raises(ValueError, match=fragment):
    udr.pool_picks(pairwise, pool_size)
