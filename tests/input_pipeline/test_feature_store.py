"""input_pipeline.feature_store: a damaged or hostile store is refused, the file named."""


import json
import os

import jax
import numpy as np
import pytest

from input_pipeline import feature_store


def test_hostile_feature_stores_are_refused_with_the_file_named(tmp_path):
  path = str(tmp_path / "store")
  index = {"format": 1, "backbone": {"name": "x"}, "frames": 2, "dim": 3, "classes": ["a", "b"], "source": {},
           "splits": {"train": {"videos": 2, "shard_size": 2}}}
  feature_store.write_index(path, index)
  feature_store.write_shard(path, "train", 0, np.zeros((2, 2, 3), np.float32), [0, 1], ["a.avi", "b.avi"])
  assert feature_store.open_store(path).split("train")[1]["label"] == 1
  np.save(os.path.join(path, "train", "00000.npy"), np.zeros((2, 2, 4), np.float32))  # wrong D
  with pytest.raises(feature_store.FeatureStoreError, match=r"00000.npy holds float32 \(2, 2, 4\)"):
    feature_store.open_store(path).split("train")
  with open(os.path.join(path, "train", "00000.npy"), "wb") as f:
    f.write(b"\x93NUMPY garbage")
  with pytest.raises(feature_store.FeatureStoreError, match=r"00000.npy cannot be read"):
    feature_store.open_store(path).split("train")
  np.save(os.path.join(path, "train", "00000.npy"), np.array([{"a": 1}], dtype=object), allow_pickle=True)
  with pytest.raises(feature_store.FeatureStoreError, match=r"00000.npy cannot be read"):  # never unpickled
    feature_store.open_store(path).split("train")
  feature_store.write_index(path, {**index, "dim": 10**9})
  with pytest.raises(feature_store.FeatureStoreError, match=r"out of range"):
    feature_store.open_store(path)
  with open(os.path.join(path, "features.json"), "w") as f:
    f.write("{not json")
  with pytest.raises(feature_store.FeatureStoreError, match=r"features.json: not valid JSON"):
    feature_store.open_store(path)
  assert jax.device_count() == 8  # the extraction above ran data-parallel over 8 devices


@pytest.mark.parametrize("label", [99, 2, -1, "abc", 1.0, True])
def test_a_label_that_is_not_one_of_the_stores_classes_is_refused_naming_the_shard(tmp_path, label):
  path = str(tmp_path / "store")
  index = {"format": 1, "backbone": {"name": "x"}, "frames": 2, "dim": 3, "classes": ["a", "b"], "source": {},
           "splits": {"train": {"videos": 2, "shard_size": 2}}}
  feature_store.write_index(path, index)
  feature_store.write_shard(path, "train", 0, np.zeros((2, 2, 3), np.float32), [0, 1], ["a.avi", "b.avi"])
  shard = os.path.join(path, "train", "00000.json")
  with open(shard, "w") as f:  # a hand-edited or hostile index
    json.dump({"labels": [0, label], "videos": ["a.avi", "b.avi"]}, f)
  with pytest.raises(feature_store.FeatureStoreError) as e:
    feature_store.open_store(path).split("train")
  assert str(e.value).startswith(f"{shard} holds the label {label!r}, not a class index of the store's 2 classes")

