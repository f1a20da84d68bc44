"""Split parsing against hand-written expectations, label order, subsets and group-aware validation."""

import os

import pytest

from input_pipeline.sources import hmdb51, subsets, ucf101, video_folder
from input_pipeline.sources.listing import DatasetLayoutError
from tests.helpers import dataset_trees as trees


def _rel(listing, split):
  return [(os.path.relpath(r.path, listing.root), r.label) for r in listing.splits[split]]


def test_ucf101_lists_labels_and_groups(tmp_path):
  root = str(tmp_path / "UCF-101")
  trees.write_ucf101(root)
  listing = ucf101.list_ucf101(root, 1)
  assert listing.classes == ("ApplyEyeMakeup", "Archery", "HandStandPushups")
  test = _rel(listing, "test")
  assert test == [("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi", 0), ("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c02.avi", 0),
                  ("Archery/v_Archery_g01_c01.avi", 1), ("Archery/v_Archery_g01_c02.avi", 1),
                  ("HandstandPushups/v_HandStandPushups_g01_c01.avi", 2),  # resolved to the folder's spelling
                  ("HandstandPushups/v_HandStandPushups_g01_c02.avi", 2)]
  assert len(listing.splits["train"]) == 12
  assert all(os.path.isfile(r.path) for r in listing.splits["train"])
  assert {r.group for r in listing.splits["train"]} == {f"{lab}:g0{g}" for lab in range(3) for g in (2, 3)}
  with pytest.raises(DatasetLayoutError, match=r"trainlist02\.txt"):
    ucf101.list_ucf101(root, 2)


def test_ucf101_bad_line_names_file_and_line(tmp_path):
  root = str(tmp_path / "UCF-101")
  trees.write_ucf101(root)
  with open(os.path.join(root, "ucfTrainTestlist", "testlist01.txt"), "a") as f:
    f.write("Juggling/v_Juggling_g01_c01.avi\n")
  with pytest.raises(DatasetLayoutError, match=r"testlist01.txt:7: class folder 'Juggling' is not in classInd.txt"):
    ucf101.list_ucf101(root, 1)


def test_hmdb51_split_files(tmp_path):
  root = str(tmp_path / "hmdb51")
  trees.write_hmdb51(root)
  listing = hmdb51.list_hmdb51(root, 1)
  assert listing.classes == ("brush_hair", "kick_ball")  # from the split file names, underscores kept
  assert _rel(listing, "train") == [
      ("brush_hair/Brushing_Hair_#1_brush_hair_h_nm_np1_ba_goo_0.avi", 0),
      ("brush_hair/Aussie_(hair)!_brush_hair_u_cm_np1_fr_med_1.avi", 0),
      ("kick_ball/Kick_Ball_kick_ball_f_cm_np1_ba_bad_0.avi", 1),
      ("kick_ball/Fußball_kick_ball_f_cm_np1_fr_med_1.avi", 1)]
  assert _rel(listing, "test") == [("brush_hair/ñandú_brush_hair_f_nm_np1_le_goo_2.avi", 0),
                                   ("kick_ball/Goal!!_kick_ball_f_nm_np1_le_goo_2.avi", 1)]
  with pytest.raises(DatasetLayoutError, match="No HMDB51 split files"):
    hmdb51.list_hmdb51(str(tmp_path), 1)


def test_ucf101_found_as_the_official_archives_and_mmaction2_unpack(tmp_path):
  import shutil

  # the official archives: UCF-101/ (UCF101.rar) beside ucfTrainTestlist/ (the splits zip)
  data = tmp_path / "data"
  trees.write_ucf101(str(data / "UCF-101"))
  shutil.move(data / "UCF-101" / "ucfTrainTestlist", data / "ucfTrainTestlist")
  for data_dir in (data, data / "UCF-101", str(data / "UCF-101") + "/"):
    listing = ucf101.list_ucf101(str(data_dir), 1)
    assert listing.root == str(data / "UCF-101") and len(listing.splits["train"]) == 12
    assert all(os.path.isfile(r.path) for split in ("train", "test") for r in listing.splits[split])
  # MMAction2: data/ucf101/videos/<Class>/ and data/ucf101/annotations/{classInd,trainlist01,...}.txt
  mm = tmp_path / "mmaction2" / "ucf101"
  mm.mkdir(parents=True)
  shutil.move(data / "UCF-101", mm / "videos")
  shutil.move(data / "ucfTrainTestlist", mm / "annotations")
  listing = ucf101.list_ucf101(str(mm), 1)
  assert listing.root == str(mm / "videos") and len(listing.splits["test"]) == 6

  # the videos one level too deep: one error, before any decoding, naming the folder to use
  deep = tmp_path / "deep"
  deep.mkdir()
  shutil.move(mm / "annotations", deep / "ucfTrainTestlist")
  (deep / "downloads").mkdir()
  shutil.move(mm / "videos", deep / "downloads" / "UCF-101")
  with pytest.raises(DatasetLayoutError, match=r"ucf101: the lists in .* name videos such as "
                     r"'ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi', but none of the first 12 is under .*deep'.* "
                     r"Point config.dataset.data_dir at '.*deep/downloads/UCF-101'\.$"):
    ucf101.list_ucf101(str(deep), 1)
  shutil.rmtree(deep / "downloads")
  with pytest.raises(DatasetLayoutError, match=r"Point config.dataset.data_dir at the folder that holds the class "
                                               r"folders \(ApplyEyeMakeup/, ...\)\.$"):
    ucf101.list_ucf101(str(deep), 1)
  with pytest.raises(DatasetLayoutError, match=r"ucf101: no ucfTrainTestlist/classInd.txt .* in '.*empty' or beside it "
                                               r"\(found there: nothing\)"):
    (tmp_path / "x" / "empty").mkdir(parents=True)
    ucf101.list_ucf101(str(tmp_path / "x" / "empty"), 1)


def test_hmdb51_found_in_a_videos_folder_beside_the_splits(tmp_path):
  import shutil

  root = tmp_path / "hmdb51"
  trees.write_hmdb51(str(root))
  (root / "videos").mkdir()
  for cls in trees.HMDB_NAMES:
    shutil.move(root / cls, root / "videos" / cls)
  for data_dir in (root, root / "videos"):
    listing = hmdb51.list_hmdb51(str(data_dir), 1)
    assert listing.root == str(root / "videos") and len(listing.splits["train"]) == 4
    assert all(os.path.isfile(r.path) for split in ("train", "test") for r in listing.splits[split])
  shutil.move(root / "testTrainMulti_7030_splits", root / "annotations")  # split files straight in annotations/
  assert hmdb51.list_hmdb51(str(root), 1).root == str(root / "videos")
  shutil.move(root / "videos", root / "annotations" / "hmdb51_org")
  (root / "annotations" / "hmdb51_org").rename(root / "clips")
  with pytest.raises(DatasetLayoutError, match=r"hmdb51: the lists in .* name videos such as "
                                               r"'brush_hair/Brushing_Hair_#1_brush_hair_h_nm_np1_ba_goo_0.avi'.* "
                                               r"Point config.dataset.data_dir at '.*hmdb51/clips'\.$"):
    hmdb51.list_hmdb51(str(root), 1)


def test_video_folder_order_and_stratified_split(tmp_path):
  root = str(tmp_path / "my videos")
  trees.write_video_folder(root)
  listing = video_folder.list_video_folder(root, 0.25, seed=0)
  assert listing.classes == ("cats", "dogs")
  assert listing.class_counts("test") == [2, 2]  # round(0.25 * 9) = 2, round(0.25 * 10) = 2
  assert listing.class_counts("train") == [7, 8]
  assert not any(p.endswith(".txt") for p, _ in _rel(listing, "train") + _rel(listing, "test"))
  again = video_folder.list_video_folder(root, 0.25, seed=0)
  assert again == listing  # seeded: the same split every time
  other = video_folder.list_video_folder(root, 0.25, seed=1)
  assert other.splits["test"] != listing.splits["test"]


def test_class_subset_and_caps(tmp_path):
  root = str(tmp_path / "UCF-101")
  trees.write_ucf101(root)
  listing = ucf101.list_ucf101(root, 1)
  sub = subsets.select_classes(listing, ("HandStandPushups", "ApplyEyeMakeup"))
  assert sub.classes == ("ApplyEyeMakeup", "HandStandPushups")  # dataset order, not request order
  assert sorted({r.label for r in sub.splits["train"]}) == [0, 1] and len(sub.splits["train"]) == 8
  with pytest.raises(DatasetLayoutError, match=r"\['Juggling'\], not classes of ucf101"):
    subsets.select_classes(listing, ("Juggling",))
  capped = subsets.cap_per_class(listing, "train", 3, seed=0)
  assert capped.class_counts("train") == [3, 3, 3] and capped.splits["test"] == listing.splits["test"]


def test_validation_split_never_cuts_a_group(tmp_path):
  root = str(tmp_path / "UCF-101")
  trees.write_ucf101(root)
  listing = subsets.carve_validation(ucf101.list_ucf101(root, 1), 0.5, seed=0)
  train_groups = {r.group for r in listing.splits["train"]}
  val_groups = {r.group for r in listing.splits["val"]}
  assert val_groups and not train_groups & val_groups
  assert listing.class_counts("val") == [2, 2, 2]  # one whole group (2 clips) per class
  assert len(listing.splits["train"]) + len(listing.splits["val"]) == 12


def test_validation_split_without_groups_is_stratified(tmp_path):
  root = str(tmp_path / "v")
  trees.write_video_folder(root)
  listing = subsets.carve_validation(video_folder.list_video_folder(root, 0.2, seed=0), 0.25, seed=0)
  assert listing.class_counts("val") == [2, 2]
