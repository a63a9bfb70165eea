"""frames:PATH: sequences of frames, pairs frame_gap apart, resume, errors."""

import logging
import os

import numpy as np
import pytest
import tensorflow as tf

from tf_betavae.data import frames
from tf_betavae.data.errors import DatasetUnavailableError

# Frame files of each sequence, in the order they must be read (natural
# order: frame_2 < frame_10, so a plain string sort would get it wrong).
_SEQUENCES = {
    "nested/seq_d": ["f1.png", "f2.png", "f3.png", "f4.png"],
    "seq_a": ["frame_1.png", "frame_2.png", "frame_3.png", "frame_9.png",
              "frame_10.png", "frame_11.png"],
    "seq_b": ["b_8.png", "b_9.png", "b_10.png"],
    "seq_c": ["only.png"],
}
_RAMP = 20  # green rises by this per frame of a sequence (uint8 levels)


def _colour(sequence, position):
  """RGB uint8 of frame `position` of sequence number `sequence`."""
  return (10 + 40 * sequence, _RAMP * position, 128)


def _write_png(path, colour, size=8):
  image = np.empty((size, size, 3), np.uint8)
  image[...] = colour
  tf.io.write_file(str(path), tf.io.encode_png(image))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
  """4 sequences of 4, 6, 3 and 1 frames (14 frames) + a video + a text.

  Every frame is one flat colour: red tells the sequence, green the
  position in it (a ramp of _RAMP per frame).
  """
  top = tmp_path_factory.mktemp("frames")
  for s, (folder, names) in enumerate(_SEQUENCES.items()):
    (top / folder).mkdir(parents=True)
    for position, name in enumerate(names):
      _write_png(top / folder / name, _colour(s, position))
  (top / "seq_a" / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
  (top / "notes.txt").write_text("not a frame")
  return str(top)


def _warnings(caplog):
  return [r.getMessage() for r in caplog.records
          if r.levelno >= logging.WARNING]


def _rgb(batch):
  """float [..., 64, 64, 3] flat images -> their uint8 colour [..., 3]."""
  assert np.all(batch.min(axis=(-3, -2)) == batch.max(axis=(-3, -2)))
  return np.round(batch[..., 0, 0, :] * 255).astype(int)


def test_natural_key_orders_digits_as_numbers():
  names = ["frame_10.png", "frame_2.png", "frame_1.png", "a.png"]
  assert sorted(names, key=frames._natural_key) == [  # pylint: disable=protected-access
      "a.png", "frame_1.png", "frame_2.png", "frame_10.png"]


def test_sequences_are_folders_in_natural_order(root, caplog):
  with caplog.at_level(logging.WARNING):
    sequences = frames.list_sequences(root)
  got = [[os.path.relpath(p, root) for p in s] for s in sequences]
  want = [[os.path.join(folder, n) for n in names]
          for folder, names in _SEQUENCES.items()]
  assert got == want
  # The video is skipped (not a frame) with the extraction hint.
  messages = " | ".join(_warnings(caplog))
  assert "skipped 2 non-image file(s)" in messages
  assert "clip.mp4" in messages and "ffmpeg" in messages


def test_root_itself_is_a_sequence(tmp_path):
  for i in range(3):
    _write_png(tmp_path / f"{i}.png", (i, 0, 0))
  (tmp_path / "sub").mkdir()
  _write_png(tmp_path / "sub" / "0.png", (9, 9, 9))
  sequences = frames.list_sequences(str(tmp_path))
  assert [len(s) for s in sequences] == [3, 1]
  assert os.path.dirname(sequences[0][0]) == str(tmp_path)


def test_pair_indices_by_hand():
  lengths = [3, 1, 4]  # frames 0-2 | 3 | 4-7
  np.testing.assert_array_equal(
      frames.pair_indices(lengths, 1),
      [[0, 1], [1, 2], [4, 5], [5, 6], [6, 7]])
  np.testing.assert_array_equal(
      frames.pair_indices(lengths, 2), [[0, 2], [4, 6], [5, 7]])
  np.testing.assert_array_equal(frames.pair_indices(lengths, 3), [[4, 7]])
  assert frames.pair_indices(lengths, 1).dtype == np.int64
  with pytest.raises(DatasetUnavailableError,
                     match=r"no sequence has 2 frames 4 apart \(3 sequences, "
                     r"the longest has 4 frames\)"):
    frames.pair_indices(lengths, 4)


def test_describe(root):
  assert frames.describe(root, 1) == {"sequences": 4, "frames": 14,
                                      "pairs": 3 + 5 + 2}
  assert frames.describe(root, 2)["pairs"] == 2 + 4 + 1


def _all_pairs(frame_gap):
  """The (colour, colour) of every pair of the fixture, as a sorted list."""
  return sorted(
      (_colour(s, i), _colour(s, i + frame_gap))
      for s, names in enumerate(_SEQUENCES.values())
      for i in range(len(names) - frame_gap))


@pytest.mark.parametrize("cache_limit", [None, 0])  # in memory / streamed
@pytest.mark.parametrize("frame_gap", [1, 2])
def test_an_epoch_is_every_pair_of_one_sequence_once(root, frame_gap,
                                                     cache_limit):
  num_pairs = len(_all_pairs(frame_gap))
  dataset = frames.pair_dataset(root, num_pairs, seed=3, frame_gap=frame_gap,
                                cache_limit_bytes=cache_limit)
  batch = next(iter(dataset)).numpy()
  assert batch.shape == (num_pairs, 2, 64, 64, 3)
  assert batch.dtype == np.float32
  rgb = _rgb(batch)  # [P, 2, 3]
  # Same sequence (red), second frame exactly frame_gap later (green ramp).
  np.testing.assert_array_equal(rgb[:, 0, 0], rgb[:, 1, 0])
  np.testing.assert_array_equal(rgb[:, 1, 1] - rgb[:, 0, 1],
                                _RAMP * frame_gap)
  got = sorted((tuple(a), tuple(b)) for a, b in rgb.tolist())
  assert got == _all_pairs(frame_gap)


def _batches(root, start, count, seed=0, cache_limit=None, frame_gap=1):
  dataset = frames.pair_dataset(root, 3, seed, frame_gap=frame_gap,
                                start_batch=start,
                                cache_limit_bytes=cache_limit)
  return [b.numpy() for b in dataset.take(count)]


@pytest.mark.parametrize("cache_limit", [None, 0])  # in memory / streamed
def test_seeded_and_resumes_exactly(root, cache_limit):
  # 10 pairs, batches of 3: batches 3..6 cross the first epoch boundary.
  fresh = _batches(root, 0, 7, cache_limit=cache_limit)
  resumed = _batches(root, 3, 4, cache_limit=cache_limit)
  np.testing.assert_array_equal(np.stack(fresh[3:]), np.stack(resumed))
  again = _batches(root, 0, 7, cache_limit=cache_limit)
  np.testing.assert_array_equal(np.stack(fresh), np.stack(again))
  other = _batches(root, 0, 7, seed=1, cache_limit=cache_limit)
  assert not np.array_equal(np.stack(fresh), np.stack(other))
  # Cached and streamed paths give the same stream.
  if cache_limit is None:
    streamed = _batches(root, 0, 7, cache_limit=0)
    np.testing.assert_array_equal(np.stack(fresh), np.stack(streamed))


@pytest.mark.parametrize("cache_limit", [None, 0])
def test_training_dataset_streams_every_frame(root, cache_limit):
  dataset = frames.training_dataset(root, 7, seed=0,
                                    cache_limit_bytes=cache_limit)
  epoch = np.concatenate([b.numpy() for b in dataset.take(2)])
  assert epoch.shape == (14, 64, 64, 3)
  want = sorted(_colour(s, i) for s, names in enumerate(_SEQUENCES.values())
                for i in range(len(names)))
  assert sorted(map(tuple, _rgb(epoch).tolist())) == want
  resumed = frames.training_dataset(root, 7, seed=0, start_batch=1,
                                    cache_limit_bytes=cache_limit)
  np.testing.assert_array_equal(epoch[7:], next(iter(resumed)).numpy())


def test_undecodable_frame_drops_its_pairs(tmp_path, caplog):
  (tmp_path / "s").mkdir()
  for i in range(4):
    _write_png(tmp_path / "s" / f"{i}.png", (0, _RAMP * i, 0))
  # Right signature, garbage body: fails only when decoded.
  (tmp_path / "s" / "1.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 40)
  with caplog.at_level(logging.WARNING):
    batch = next(iter(frames.pair_dataset(str(tmp_path), 1, 0))).numpy()
  # Of (0,1), (1,2), (2,3) only (2,3) survives.
  np.testing.assert_array_equal(_rgb(batch)[0, :, 1], [2 * _RAMP, 3 * _RAMP])
  assert any("dropped 2 of 3 pairs" in m for m in _warnings(caplog))
  (tmp_path / "s" / "3.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 40)
  with pytest.raises(DatasetUnavailableError, match="no pair of frames"):
    frames.pair_dataset(str(tmp_path), 1, 0)


def test_missing_or_empty_folder(tmp_path):
  with pytest.raises(DatasetUnavailableError, match="no such directory"):
    frames.check_available(str(tmp_path / "missing"))
  (tmp_path / "file.png").write_bytes(b"x")
  with pytest.raises(DatasetUnavailableError, match="no such directory"):
    frames.check_available(str(tmp_path / "file.png"))
  empty = tmp_path / "empty"
  empty.mkdir()
  (empty / "v.avi").write_bytes(b"RIFF")
  with pytest.raises(DatasetUnavailableError,
                     match="no JPEG or PNG image.*ffmpeg") as error:
    frames.check_available(str(empty))
  assert "\n" not in str(error.value)


def test_single_frame_sequences_are_refused(tmp_path):
  for s in range(3):
    (tmp_path / f"s{s}").mkdir()
    _write_png(tmp_path / f"s{s}" / "0.png", (s, 0, 0))
  with pytest.raises(DatasetUnavailableError) as error:
    frames.check_available(str(tmp_path))
  message = str(error.value)
  assert message.startswith(f"--dataset=frames:{tmp_path}: ")
  assert ("no sequence has 2 frames 1 apart (3 sequences, the longest has "
          "1 frame)") in message
  assert "each sub-folder must hold a sequence of frames" in message
  with pytest.raises(DatasetUnavailableError):
    frames.pair_dataset(str(tmp_path), 1, 0)


@pytest.mark.parametrize("gap", [0, -1, True, 1.5, "1", None])
def test_bad_frame_gap(root, gap):
  with pytest.raises(ValueError, match="--frame_gap"):
    frames.check_frame_gap(gap)
  with pytest.raises(ValueError, match="--frame_gap"):
    frames.check_available(root, frame_gap=gap)
  with pytest.raises(ValueError, match="--frame_gap"):
    frames.pair_indices([5], gap)


def test_good_frame_gap():
  frames.check_frame_gap(1)
  frames.check_frame_gap(np.int64(3))


def test_path_of():
  assert frames.path_of("frames:/data/videos") == "/data/videos"
  assert frames.path_of("frames:~/v") == os.path.expanduser("~/v")
