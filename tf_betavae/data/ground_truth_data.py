"""The ground-truth interface every disentanglement metric consumes.

(The registry function ``tf_betavae.data.ground_truth(name)`` returns
instances; this module is named apart from it.)

A ground truth is a generative process with known factors of variation:
factor vectors are drawn, and each is turned into an observation (image).

* ``GroundTruthData``: the base class of every dataset with factors (the
  dSprites simulator and its variants, the official dSprites file,
  Shapes3D, smallNORB).  Subclasses provide the two samplers; ``sample`` is
  written here once.
* ``FiniteGroundTruth``: a runtime-checkable Protocol for ground truths with
  a finite, enumerable set of deterministic observations, which a
  ``tf_betavae.metrics.code_table.CodeTable`` can encode once each.  A
  ground truth whose observation of a factor vector is random (a random
  colour or background, one of several images) must not implement it.

Factor vectors are factor *indices*: int64 [num, num_factors], column k in
``[0, factors_num_values[k])``.  Observations are float32
``[num, *observation_shape]`` with values in [0, 1].
"""

import abc
import typing

import numpy as np


class GroundTruthData(abc.ABC):
  """Base class of datasets with ground-truth factors.

  Subclasses set the attributes (as class or instance attributes) and
  implement ``sample_factors`` and ``sample_observations_from_factors``.

  Attributes:
    factor_names: tuple of str [num_factors], the column order of every
      factor array.
    factors_num_values: list of int [num_factors], values per factor.
    num_factors: int.
    observation_shape: (H, W, C) of one observation, pixels and channels.
  """

  factor_names: typing.Tuple[str, ...]
  factors_num_values: typing.List[int]
  num_factors: int
  observation_shape: typing.Tuple[int, int, int]

  @abc.abstractmethod
  def sample_factors(self, num, random_state):
    """Draws factor vectors.

    Args:
      num: int, number of factor vectors.
      random_state: np.random.RandomState, the only source of randomness.

    Returns:
      int64 np.ndarray [num, num_factors] of factor indices.
    """

  @abc.abstractmethod
  def sample_observations_from_factors(self, factors, random_state=None):
    """The observations of given factor vectors.

    Args:
      factors: int np.ndarray [num, num_factors] of factor indices.
      random_state: np.random.RandomState, the source of the randomness of
        datasets whose observation of a factor vector is random (they raise
        ValueError on None); datasets with one fixed observation per factor
        vector ignore it and accept None.

    Returns:
      float32 np.ndarray [num, *observation_shape] in [0, 1].
    """

  def sample(self, num, random_state):
    """Samples factors and their observations.

    Args:
      num: int.
      random_state: np.random.RandomState; draws the factors, then (after
        them) whatever randomness the observations need.

    Returns:
      (int64 np.ndarray [num, num_factors],
       float32 np.ndarray [num, *observation_shape]).
    """
    factors = self.sample_factors(num, random_state)
    return factors, self.sample_observations_from_factors(factors,
                                                          random_state)

  def sample_factor_pairs(self, num, k, random_state):
    """Pairs of factor vectors that share all factors but a few.

    The weak supervision of Locatello et al. 2020: the first vector of a
    pair is drawn as ``sample_factors`` draws it; the second redraws either
    1 or k of its factors (a fair choice between the two, then the factors
    uniformly without replacement), each uniformly over its values, so a
    redrawn factor may keep its value, as in disentanglement_lib's
    ``simple_dynamics``.  With ``k = K_RANDOM`` each pair first draws k in
    [1, num_factors - 1].

    Args:
      num: int, pairs.
      k: int in [1, num_factors], or K_RANDOM (-1).
      random_state: np.random.RandomState, the only source of randomness
        (disentanglement_lib draws the new values from numpy's global
        generator; here they follow the run's seed).

    Returns:
      FactorPairs: first int64 [num, K], second int64 [num, K], redrawn bool
      [num, K] (the factors the second vector redrew) and label int64 [num]
      (the last factor redrawn, in draw order: disentanglement_lib's label,
      which GVAE and ML-VAE read).

    Raises:
      ValueError: k out of range (check_k).
    """
    check_k(k, self.num_factors)
    first = self.sample_factors(num, random_state)
    second = first.copy()
    redrawn = np.zeros(first.shape, bool)
    label = np.zeros(num, np.int64)
    for row in range(num):
      k_row = (random_state.randint(1, self.num_factors) if k == K_RANDOM
               else k)
      count = random_state.choice([1, k_row])
      for factor in random_state.choice(self.num_factors, count,
                                        replace=False):
        second[row, factor] = random_state.randint(
            self.factors_num_values[factor])
        redrawn[row, factor] = True
        label[row] = factor
    return FactorPairs(first, second, redrawn, label)

  def sample_pairs(self, num, k, random_state):
    """``sample_factor_pairs`` and the observations of both vectors.

    Returns:
      (FactorPairs, first observations, second observations: float32
      [num, *observation_shape] each).
    """
    pairs = self.sample_factor_pairs(num, k, random_state)
    return (pairs,
            self.sample_observations_from_factors(pairs.first, random_state),
            self.sample_observations_from_factors(pairs.second,
                                                  random_state))


class FactorPairs(typing.NamedTuple):
  """Pairs of factor vectors (``GroundTruthData.sample_factor_pairs``).

  Attributes:
    first: int64 [num, K], the first vector of each pair.
    second: int64 [num, K], equal to ``first`` outside ``redrawn``.
    redrawn: bool [num, K], the factors the second vector redrew (a redrawn
      factor may have kept its value).
    label: int64 [num], the last factor redrawn, in draw order.
  """

  first: np.ndarray
  second: np.ndarray
  redrawn: np.ndarray
  label: np.ndarray


# ``k`` of sample_factor_pairs: each pair draws its own k in
# [1, num_factors - 1] (the paper's "k random" setting).
K_RANDOM = -1


def check_k(k, num_factors):
  """Raises ValueError unless k is in [1, num_factors] or K_RANDOM."""
  if (isinstance(k, bool) or not isinstance(k, (int, np.integer))
      or not (k == K_RANDOM or 1 <= k <= num_factors)):
    raise ValueError(f"--k must be an integer in 1..{num_factors} (the "
                     f"factors a pair may differ in) or {K_RANDOM} (a random "
                     f"k per pair, the paper's setting), got {k!r}")
  if k == K_RANDOM and num_factors < 2:
    raise ValueError("--k=-1 draws k in 1..num_factors-1 and needs at least "
                     f"2 factors; this dataset has {num_factors}")


def sample_uniform_factors(factors_num_values, num, random_state):
  """Each factor uniformly and independently.

  Args:
    factors_num_values: sequence of int [K], values per factor.
    num: int.
    random_state: np.random.RandomState; one ``randint`` call per factor,
      in factor order.

  Returns:
    int64 np.ndarray [num, K].
  """
  return np.stack([random_state.randint(n, size=num)
                   for n in factors_num_values], axis=1).astype(np.int64)


@typing.runtime_checkable
class FiniteGroundTruth(typing.Protocol):
  """A ground truth whose observations can be enumerated (and tabulated).

  Each factor vector has one deterministic observation, and the distinct
  observations are numbered ``0 .. num_observations - 1``.
  ``isinstance(x, FiniteGroundTruth)`` checks that the three members exist.
  """

  @property
  def num_observations(self) -> int:
    """int, the number of distinct observations."""

  def observation_index(self, factors):
    """int64 np.ndarray [num] in [0, num_observations): the observation of
    each factor vector (int [num, num_factors])."""

  def observations_at(self, index):
    """float32 np.ndarray [num, *observation_shape]: the observations of
    indices (int [num])."""
