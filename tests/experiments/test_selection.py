"""Ranking exports and runs by UDR (tf_betavae.experiments.selection)."""

import json
import os
import sys

import numpy as np
from PIL import Image
import pytest

from tf_betavae.experiments import selection

sys.path.append(os.path.dirname(os.path.abspath(__file__)))  # fake_exports.py
import fake_exports  # pylint: disable=g-import-not-at-top,wrong-import-position

SUPERVISED_SIZES = {"supervised_num_train": 40, "supervised_num_eval": 30}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
  """Fake dSprites exports: a and b equivalent, c entangled (via a run dir),
  plus misfits; a and b carry metrics.json files."""
  root = tmp_path_factory.mktemp("selection")
  path = lambda *parts: str(root.joinpath(*parts))
  stored = {
      "beta_vae": {"score": 0.77, "dataset": "dsprites",
                   "protocol": "disentanglement_lib", "seed": 5},
      "mig": {"score": 0.33, "dataset": "dsprites"},
      "factor_vae": {"score": 0.5, "dataset": "shapes3d"},  # other data
  }
  paper = {"beta_vae": {"score": 0.99, "dataset": "dsprites",
                        "protocol": "paper"}}
  out = {
      "a": fake_exports.save_fake_export(path("a", "1"), metrics=stored),
      "b": fake_exports.save_fake_export(path("b", "1"), fake_exports.PERMUTED,
                                         metrics=paper),
      "c_export": fake_exports.save_fake_export(path("c", "3"),
                                                fake_exports.ROTATED),
      "wide": fake_exports.save_fake_export(path("wide", "1"), collapsed=2),
      "rgb": fake_exports.save_fake_export(path("rgb", "1"),
                                           image_shape=(64, 64, 3)),
      "undated": fake_exports.save_fake_export(path("undated", "1"),
                                               dataset=None),
      "shapes": fake_exports.save_fake_export(path("shapes", "1"),
                                              dataset="shapes3d"),
      "empty": path("empty"),
      "no_export_run": fake_exports.save_run_dir(path("run0"), None),
  }
  os.makedirs(out["empty"])
  out["c"] = fake_exports.save_run_dir(path("run_c"), out["c_export"])
  return out


@pytest.fixture(scope="module")
def lasso_ranking(models):
  return selection.rank_models(
      [models["c"], models["a"], models["b"]], np.random.RandomState(0),
      num_points=2000, **SUPERVISED_SIZES)


def test_equivalent_models_rank_above_the_entangled_one(models, lasso_ranking):
  ranking = lasso_ranking
  assert ranking["method"] == "udr_lasso"
  assert ranking["dataset"] == "dsprites"
  names = [entry["model"] for entry in ranking["models"]]
  assert sorted(names[:2]) == sorted([models["a"], models["b"]])
  assert names[2] == models["c"]
  assert [e["rank"] for e in ranking["models"]] == [1, 2, 3]
  entry_c = ranking["models"][2]
  assert entry_c["export"] == models["c_export"]
  for entry in ranking["models"]:
    assert entry["informative_latents"] == 3  # the collapsed one is masked
    assert entry["latent_dim"] == 4
    assert set(entry["unsupervised"]) == set(selection.UNSUPERVISED_SCORES)
    assert all(np.isfinite(v) for v in entry["unsupervised"].values())
  # Pairwise matrix in the order given: c, a, b.  a and b are equivalent up
  # to permutation, signs and scale: Lasso's 1 - alpha.
  pair = np.array(ranking["pairwise_scores"]["scores"])
  assert ranking["pairwise_scores"]["models"] == [models["c"], models["a"],
                                                  models["b"]]
  assert pair[1, 2] == pytest.approx(0.9, abs=0.01)
  assert pair[2, 1] == pytest.approx(0.9, abs=0.01)
  # Each model's UDR is the median (here: mean) of the others' pair scores.
  by_name = {e["model"]: e["udr"] for e in ranking["models"]}
  for index, name in enumerate(ranking["pairwise_scores"]["models"]):
    others = [pair[j, index] for j in range(3) if j != index]
    assert by_name[name] == pytest.approx(np.median(others), abs=1e-12)
  assert by_name[models["a"]] > by_name[models["c"]] + 0.1
  assert ranking["parameters"]["correlation"] == "lasso"
  assert ranking["parameters"]["num_points"] == 2000
  json.dumps(ranking, allow_nan=False)  # ready to be written


def test_supervised_scores_are_read_or_computed(models, lasso_ranking):
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  from tf_betavae import metrics  # pylint: disable=g-import-not-at-top
  entries = {e["model"]: e for e in lasso_ranking["models"]}
  stored = entries[models["a"]]["supervised"]
  assert set(stored) == {"beta_vae", "mig"}  # factor_vae was on shapes3d
  assert stored["beta_vae"]["score"] == 0.77
  assert stored["beta_vae"]["source"] == "metrics.json"
  assert stored["mig"] == {"score": 0.33, "source": "metrics.json"}
  # b's stored beta_vae used the paper protocol: computed again, as
  # evaluate.py would compute it with the recorded seed.
  computed = entries[models["b"]]["supervised"]
  seed = lasso_ranking["parameters"]["supervised_seed"]
  assert computed["beta_vae"]["source"] == "computed"
  assert computed["beta_vae"]["seed"] == seed
  loaded = selection.LoadedModel(models["b"])
  gt = data.ground_truth("dsprites")
  for name in ("beta_vae", "mig"):
    expected = metrics.run_metric(
        name, gt, loaded.latent_mean, np.random.RandomState(seed),
        num_train=SUPERVISED_SIZES["supervised_num_train"],
        num_eval=SUPERVISED_SIZES["supervised_num_eval"])
    assert computed[name]["score"] == pytest.approx(expected["score"],
                                                    abs=1e-12)
  assert set(entries[models["c"]]["supervised"]) == {"beta_vae", "mig"}


def test_spearman_seeded_and_no_supervised(models):
  paths = [models["a"], models["b"], models["c"]]
  first = selection.rank_models(paths, np.random.RandomState(1),
                                method="udr_spearman", num_points=1500,
                                supervised="none")
  again = selection.rank_models(paths, np.random.RandomState(1),
                                method="udr_spearman", num_points=1500,
                                supervised="none")
  other = selection.rank_models(paths, np.random.RandomState(2),
                                method="udr_spearman", num_points=1500,
                                supervised="none")
  assert first == again
  assert first["pairwise_scores"] != other["pairwise_scores"]
  assert first["parameters"]["correlation"] == "spearman"
  assert "supervised" not in first["models"][0]
  assert first["models"][2]["model"] == models["c"]
  # Equivalent models: Spearman's pair score is near 1.
  assert np.array(first["pairwise_scores"]["scores"])[0, 1] > 0.9


def test_the_summary_file_name_is_the_trainings():
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  assert selection.RUN_SUMMARY_FILE == training.SUMMARY_FILE


def test_resolve_export(models):
  assert selection.resolve_export(models["c"]) == models["c_export"]
  assert selection.resolve_export(models["a"]) == models["a"]
  # A model folder of integer versions: its highest.
  assert selection.resolve_export(os.path.dirname(
      models["c_export"])) == models["c_export"]


@pytest.mark.parametrize("case, fragment", [
    (["a"], "at least 2 models"),
    (["a", "wide"], "different latent sizes"),
    (["a", "rgb"], "different images"),
    (["a", "empty"], "neither a SavedModel export"),
    (["a", "no_export_run"], "has no export"),
    (["a", "missing"], "is not a directory"),
    (["a", "undated"], "does not record its dataset"),
    (["a", "shapes"], "different datasets"),
])
def test_bad_models(models, case, fragment):
  paths = [models.get(name, "/no/such/dir") for name in case]
  with pytest.raises(selection.SelectionError, match=fragment) as error:
    selection.rank_models(paths, np.random.RandomState(0), num_points=10)
  assert "\n" not in str(error.value)


def test_dataset_override(models):
  paths = [models["a"], models["undated"]]
  ranking = selection.rank_models(paths, np.random.RandomState(0),
                                  dataset="dsprites", num_points=300,
                                  supervised="none")
  assert ranking["dataset"] == "dsprites"
  for dataset, fragment in (("celeb_a", r"has \[64, 64, 3\]"),
                            ("mnist", "unknown dataset")):
    with pytest.raises(selection.SelectionError, match=fragment):
      selection.rank_models(paths, np.random.RandomState(0), dataset=dataset,
                            num_points=10)
  with pytest.raises(selection.SelectionError, match="method"):
    selection.rank_models(paths, np.random.RandomState(0), method="udr")


@pytest.mark.parametrize("kind", ["folder", "frames"])
def test_dataset_without_factors_uses_its_images(tmp_path, kind):
  folder = tmp_path / "images"
  rs = np.random.RandomState(0)
  for k in range(8):
    pixels = np.zeros((40, 48, 3), np.uint8)
    top, left = rs.randint(0, 30), rs.randint(0, 38)
    pixels[top:top + 10, left:left + 10] = rs.randint(60, 255, size=3)
    # frames: two sequences of four frames (UDR reads them one by one).
    directory = folder / (f"clip{k // 4}" if kind == "frames" else "")
    directory.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(directory / f"{k}.png")
  dataset = f"{kind}:{folder}"
  paths = [
      fake_exports.save_fake_export(str(tmp_path / name / "1"), mix,
                                    image_shape=(64, 64, 3), dataset=dataset)
      for name, mix in (("x", fake_exports.IDENTITY),
                        ("y", fake_exports.PERMUTED))]
  ranking = selection.rank_models(paths, np.random.RandomState(0),
                                  num_points=24)
  assert ranking["dataset"] == dataset
  assert "supervised" not in ranking["models"][0]
  assert ranking["parameters"]["supervised"].startswith("none")
  # Equivalent models agree on these images too.
  assert ranking["models"][0]["udr"] == pytest.approx(0.9, abs=0.02)
  with pytest.raises(selection.SelectionError, match="no such directory"):
    selection.rank_models(paths, np.random.RandomState(0), num_points=10,
                          dataset=f"{kind}:{tmp_path / 'nothing'}")


def test_real_exports_and_run_dir(tmp_path):
  """Exports written by tf_betavae.export (untrained) rank; the counts of
  informative latents are those of their encode signatures."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  from tf_betavae import export  # pylint: disable=g-import-not-at-top
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  paths = []
  for seed in (1, 2):
    config = training.TrainConfig(latent_dim=3, steps=1, seed=seed)
    model = training.build_model(config, (64, 64, 1))
    paths.append(export.export_model(
        model, str(tmp_path / "exported"), model_name=f"m{seed}",
        metadata=export.training_metadata(config, 1)))
  run_dir = fake_exports.save_run_dir(str(tmp_path / "run"), paths[0])
  ranking = selection.rank_models([run_dir, paths[1]],
                                  np.random.RandomState(4), num_points=300,
                                  method="udr_spearman", supervised="none")
  gt = data.ground_truth("dsprites")
  rs = np.random.RandomState(4)
  images = gt.sample_observations_from_factors(gt.sample_factors(300, rs), rs)
  for path, name in ((paths[0], run_dir), (paths[1], paths[1])):
    outputs = tf.saved_model.load(path).signatures["encode"](
        images=tf.constant(images))
    mean = outputs["mean"].numpy().astype(np.float64)
    log_var = outputs["log_variance"].numpy().astype(np.float64)
    kl = np.mean(0.5 * (mean ** 2 + np.exp(log_var) - log_var - 1), axis=0)
    entry, = [e for e in ranking["models"] if e["model"] == name]
    assert entry["informative_latents"] == int((kl > 0.01).sum())
    assert entry["latent_dim"] == 3
    assert entry["export"] == path
    assert 0.0 <= entry["udr"] <= 1.0


def _synthetic_ranking(pairwise, supervised):
  models = [f"m{i}" for i in range(len(pairwise))]
  entries = [{"model": m, "udr": 0.0} for m in models]
  for entry, scores in zip(entries, supervised):
    if scores is not None:
      entry["supervised"] = {k: {"score": v} for k, v in scores.items()}
  return {"models": entries[::-1],  # the ranking's order is not the pairs'
          "pairwise_scores": {"models": models, "scores": pairwise}}


def test_pool_summary_counts_picks_and_weighs_their_scores():
  # Column j holds the scores of the pairs (i, j): model 1 wins every pool
  # it is in, model 2 every other pool of 2 but (0, 3), which model 0 wins.
  pairwise = np.array([[0, .9, .5, .1], [.2, 0, .5, .1], [.2, .9, 0, .1],
                       [.2, .9, .5, 0]])
  supervised = [{"beta_vae": 0.6, "mig": 0.1}, {"beta_vae": 0.9, "mig": 0.4},
                {"beta_vae": 0.8, "mig": 0.2}, {"beta_vae": 0.7, "mig": 0.0}]
  pools = selection.pool_summary(_synthetic_ranking(pairwise, supervised),
                                 [2, 4])
  two, four = pools
  assert two["pool_size"] == 2 and two["pools"] == 6
  assert [p["count"] for p in two["picks"]] == [1, 3, 2, 0]
  assert [p["model"] for p in two["picks"]] == ["m0", "m1", "m2", "m3"]
  assert two["picks"][1]["share"] == pytest.approx(0.5)
  assert two["pick_mean"]["beta_vae"] == pytest.approx(
      (0.6 + 3 * 0.9 + 2 * 0.8) / 6)
  assert two["pick_mean"]["mig"] == pytest.approx((0.1 + 1.2 + 0.4) / 6)
  assert two["model_mean"]["beta_vae"] == pytest.approx(0.75)
  assert four["pools"] == 1 and four["pick_mean"]["mig"] == pytest.approx(0.4)


def test_pool_summary_without_scores_on_every_model_has_no_means():
  pairwise = np.full((3, 3), 0.5)
  pools = selection.pool_summary(
      _synthetic_ranking(pairwise, [{"mig": 0.3}, None, {"mig": 0.1}]), [2])
  assert "pick_mean" not in pools[0] and "model_mean" not in pools[0]
  assert [p["count"] for p in pools[0]["picks"]] == [2, 1, 0]


@pytest.mark.parametrize("pool_size", [1, 4])
def test_pool_summary_refuses_a_pool_size_out_of_range(pool_size):
  with pytest.raises(selection.SelectionError, match=r"integer in \[2, 3\]"):
    selection.pool_summary(_synthetic_ranking(np.full((3, 3), 0.5),
                                              [None] * 3), [pool_size])


def test_pools_of_a_real_ranking_pick_its_best_model(models, lasso_ranking):
  pools = selection.pool_summary(lasso_ranking, [3])[0]
  best = lasso_ranking["models"][0]
  assert [p["count"] for p in pools["picks"]
          if p["model"] == best["model"]] == [1]
  assert pools["pick_mean"]["mig"] == best["supervised"]["mig"]["score"]
  text = selection.ranking_table(dict(lasso_ranking, pools=[pools]))
  assert f"pools of 3 (1): picked {best['model']} 1.00" in text
  assert "mig: pick's mean" in text
