"""Ground truth from stored images labelled with factor indices.

Gives a stored dataset the ground-truth interface of the simulator, so that
every metric runs on it.  Two kinds:

* ``IndexedGroundTruth`` (the official dSprites file, Shapes3D): one image
  per factor combination, so an observation is a deterministic function of
  its factors, and the data is a ``FiniteGroundTruth``.

  - Complete data (one row per combination of the factor grid, stored in
    row-major factor order, as both official files are): a factor vector is
    found through the grid strides, no lookup table.
  - A subset (fewer rows, or another order): a sorted table of the rows'
    flat grid indices; ``sample_factors`` then draws from the combinations
    present (uniformly over them), and asking for a combination that is not
    stored raises ``MissingFactorsError`` naming it.  Rows that repeat a
    combination are dropped (the first is kept), with a warning.

* ``MultiRowGroundTruth`` (smallNORB, whose object instance is not a
  factor): several images per factor combination; the observation of a
  factor vector is one of its images, drawn uniformly with the caller's
  random state.  Not a ``FiniteGroundTruth`` (a code table would fix one
  image per combination).  ``sample_factors`` draws each factor uniformly
  when every combination is stored, else uniformly over the combinations
  present.
"""

from absl import logging
import numpy as np

from tf_betavae.data import ground_truth_data


class MissingFactorsError(ValueError):
  """Factor combinations that the stored data does not hold."""


def _check_classes(name, images, factor_classes, factors_num_values):
  """Validated factor classes: int64 np.ndarray [N, K]."""
  factor_classes = np.asarray(factor_classes)
  # Classes index the grid: a float column (a file of factor values
  # given as classes, say) would be truncated into other grid points.
  if not np.issubdtype(factor_classes.dtype, np.integer):
    if not (np.issubdtype(factor_classes.dtype, np.floating)
            and np.all(np.isfinite(factor_classes))
            and np.all(factor_classes == np.round(factor_classes))):
      raise ValueError(f"{name}: factor classes must be integers, got "
                       f"dtype {factor_classes.dtype}")
  factor_classes = factor_classes.astype(np.int64)
  num_values = np.asarray(factors_num_values, np.int64)
  if factor_classes.ndim != 2 or factor_classes.shape[1] != len(num_values):
    raise ValueError(f"{name}: factor classes must be [N, {len(num_values)}]"
                     f", got {factor_classes.shape}")
  if len(images) != len(factor_classes):
    raise ValueError(f"{name}: {len(images)} images but "
                     f"{len(factor_classes)} factor rows")
  if len(images) == 0:
    raise ValueError(f"{name}: the data holds no images")
  if np.any(factor_classes < 0) or np.any(factor_classes >= num_values):
    raise ValueError(f"{name}: factor classes outside the grid "
                     f"{list(factors_num_values)}")
  return factor_classes


class _StoredGroundTruth(ground_truth_data.GroundTruthData):
  """What both kinds share: checked rows, factor lookups, decoding.

  Attributes:
    name: str, the dataset name.
    factor_names: tuple of str.
    factors_num_values: list of int, values per factor.
    num_factors: int.
    observation_shape: (H, W, C).
  """

  def __init__(self, name, images, factor_classes, factor_names,
               factors_num_values, observation_shape, decode=None):
    """Args:

      name: str.
      images: np.ndarray [N, ...], one stored image per row (any encoding
        that ``decode`` understands).
      factor_classes: int np.ndarray [N, K], factor indices of each row.
      factor_names: K names.
      factors_num_values: K ints.
      observation_shape: (H, W, C) of decoded images.
      decode: callable images[rows] -> float32 [n, H, W, C] in [0, 1];
        default uint8 / 255.
    """
    factor_classes = _check_classes(name, images, factor_classes,
                                    factors_num_values)
    self.name = name
    self.factor_names = tuple(factor_names)
    self.factors_num_values = [int(n) for n in factors_num_values]
    self.num_factors = len(self.factor_names)
    self.observation_shape = tuple(int(d) for d in observation_shape)
    self._num_values = np.asarray(factors_num_values, np.int64)
    self._grid_size = int(np.prod(self._num_values))
    self._images = images
    self._decode = decode or (lambda x: x.astype(np.float32) / 255.0)
    # Flat grid index of every stored row: int64 [N].
    self._row_keys = np.ravel_multi_index(
        tuple(factor_classes.T), tuple(self._num_values)).astype(np.int64)

  @property
  def images(self):
    """The stored images array (as given, not decoded)."""
    return self._images

  def sample_factors(self, num, random_state):
    """Samples factor indices (subclasses set ``complete`` and, when not
    complete, ``_classes``: the stored combinations [M, K]).

    Every combination stored: each factor uniformly and independently.
    Otherwise: uniformly over the stored combinations (not weighted by
    their number of images).

    Args:
      num: int.
      random_state: np.random.RandomState.

    Returns:
      int64 np.ndarray [num, K].
    """
    if self.complete:
      return ground_truth_data.sample_uniform_factors(
          self.factors_num_values, num, random_state)
    return self._classes[random_state.randint(len(self._classes), size=num)]

  def _keys_of(self, factors):
    """Flat grid index of each factor vector (int [num, K]) -> int64 [num].

    Raises:
      ValueError: wrong shape or an index out of range.
    """
    factors = np.asarray(factors)
    if factors.ndim != 2 or factors.shape[1] != self.num_factors:
      raise ValueError(
          f"factors must have shape [num, {self.num_factors}] "
          f"({', '.join(self.factor_names)}), got {factors.shape}")
    if factors.size and (np.any(factors < 0) or
                         np.any(factors >= self._num_values)):
      raise ValueError(
          "factor index out of range: each column must lie in "
          f"[0, {self.factors_num_values}) per factor {self.factor_names}")
    return np.ravel_multi_index(tuple(factors.astype(np.int64).T),
                                tuple(self._num_values)).astype(np.int64)

  def _find(self, sorted_keys, keys, factors, num_stored):
    """Positions of keys in sorted_keys; MissingFactorsError if absent."""
    pos = np.searchsorted(sorted_keys, keys)
    pos = np.minimum(pos, len(sorted_keys) - 1)
    found = sorted_keys[pos] == keys
    if not np.all(found):
      missing = np.asarray(factors)[~found]
      raise MissingFactorsError(
          f"{self.name}: {len(missing)} requested factor combination(s) are "
          f"not in the data, e.g. {dict(zip(self.factor_names, missing[0].tolist()))}"
          f"; it holds {num_stored} of the {self._grid_size} combinations "
          f"of the grid (a subset), so only combinations from "
          f"sample_factors are available")
    return pos

  def _decoded(self, rows):
    """float32 [n, H, W, C] in [0, 1], the images of stored rows."""
    if len(rows) == 0:
      return np.zeros((0,) + self.observation_shape, np.float32)
    return self._decode(self._images[rows])


class IndexedGroundTruth(_StoredGroundTruth):
  """Ground truth over images indexed by factor classes, one per vector.

  Also a ``ground_truth_data.FiniteGroundTruth`` (the stored rows).

  Attributes (besides _StoredGroundTruth's):
    num_rows: int, stored rows (after dropping duplicate combinations).
    complete: bool, whether every grid combination is stored in grid order.
  """

  def __init__(self, name, images, factor_classes, factor_names,
               factors_num_values, observation_shape, decode=None):
    """Args: see _StoredGroundTruth."""
    super().__init__(name, images, factor_classes, factor_names,
                     factors_num_values, observation_shape, decode)
    keys = self._row_keys
    self.complete = (len(keys) == self._grid_size and
                     np.array_equal(keys, np.arange(self._grid_size)))
    if self.complete:
      self._sorted_keys = self._rows_of_sorted = None
      self._classes = None
    else:
      unique_keys, first_rows = np.unique(keys, return_index=True)
      if len(unique_keys) < len(keys):
        logging.warning("%s: %d rows repeat a factor combination; the first "
                        "row of each combination is used",
                        name, len(keys) - len(unique_keys))
      self._sorted_keys = unique_keys
      self._rows_of_sorted = first_rows
      self._classes = np.stack(
          np.unravel_index(unique_keys, tuple(self._num_values)),
          axis=1).astype(np.int64)
    self.num_rows = (self._grid_size if self.complete
                     else len(self._sorted_keys))

  def rows_of_factors(self, factors):
    """Stored row of each factor vector.

    Args:
      factors: int np.ndarray [num, K].

    Returns:
      int64 np.ndarray [num].

    Raises:
      ValueError: wrong shape or an index out of range.
      MissingFactorsError: a combination the data does not hold.
    """
    keys = self._keys_of(factors)
    if self.complete:
      return keys
    pos = self._find(self._sorted_keys, keys, factors, self.num_rows)
    return self._rows_of_sorted[pos].astype(np.int64)

  @property
  def num_observations(self):
    """Stored rows: the range of ``observation_index`` (for code tables)."""
    return len(self._images)

  def observation_index(self, factors):
    """The stored row of each factor vector (see ``rows_of_factors``)."""
    return self.rows_of_factors(factors)

  def observations_at(self, index):
    """Decoded images of stored rows: float32 [n, H, W, C] in [0, 1]."""
    return self._decoded(np.asarray(index, np.int64))

  def sample_observations_from_factors(self, factors, random_state=None):
    """The stored images of given factor vectors.

    Args:
      factors: int np.ndarray [num, K].
      random_state: unused (each combination has one image); kept for the
        interface.

    Returns:
      float32 np.ndarray [num, H, W, C] in [0, 1].
    """
    del random_state
    return self._decoded(self.rows_of_factors(factors))


class MultiRowGroundTruth(_StoredGroundTruth):
  """Ground truth over images with several rows per factor vector.

  Attributes (besides _StoredGroundTruth's):
    num_rows: int, stored rows (images).
    num_combinations: int, distinct factor combinations stored.
    complete: bool, whether every combination of the grid is stored.
  """

  def __init__(self, name, images, factor_classes, factor_names,
               factors_num_values, observation_shape, decode=None):
    """Args: see _StoredGroundTruth."""
    super().__init__(name, images, factor_classes, factor_names,
                     factors_num_values, observation_shape, decode)
    # Rows grouped by combination: the rows of the combination
    # self._keys[j] are self._rows[self._starts[j]:][:self._counts[j]].
    self._rows = np.argsort(self._row_keys, kind="stable").astype(np.int64)
    self._keys, self._starts, self._counts = np.unique(
        self._row_keys[self._rows], return_index=True, return_counts=True)
    self._classes = np.stack(
        np.unravel_index(self._keys, tuple(self._num_values)),
        axis=1).astype(np.int64)
    self.num_rows = len(self._row_keys)
    self.num_combinations = len(self._keys)
    self.complete = self.num_combinations == self._grid_size

  def rows_of_factors(self, factors, random_state):
    """A stored row of each factor vector, drawn uniformly among its rows.

    Args:
      factors: int np.ndarray [num, K].
      random_state: np.random.RandomState; one ``randint`` call of size
        num.

    Returns:
      int64 np.ndarray [num].

    Raises:
      ValueError: wrong shape or an index out of range.
      MissingFactorsError: a combination the data does not hold.
    """
    keys = self._keys_of(factors)
    if len(keys) == 0:
      return np.zeros((0,), np.int64)
    pos = self._find(self._keys, keys, factors, self.num_combinations)
    choice = self._starts[pos] + random_state.randint(self._counts[pos])
    return self._rows[choice]

  def sample_observations_from_factors(self, factors, random_state=None):
    """One stored image of each factor vector, drawn with random_state.

    Args:
      factors: int np.ndarray [num, K].
      random_state: np.random.RandomState, required (the image of a
        combination is drawn among its rows).

    Returns:
      float32 np.ndarray [num, H, W, C] in [0, 1].

    Raises:
      ValueError: random_state is None, or bad factors (see
        ``rows_of_factors``).
      MissingFactorsError: a combination the data does not hold.
    """
    if random_state is None:
      raise ValueError(
          f"{self.name}: a factor vector has several images and one is drawn "
          f"at random; pass a np.random.RandomState")
    return self._decoded(self.rows_of_factors(factors, random_state))
