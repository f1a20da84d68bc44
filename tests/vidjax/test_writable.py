"""vidjax.writable: a folder or file named on the command line is checked writable, and checking leaves nothing."""

import os

import pytest

from vidjax import writable


def test_a_writable_folder_passes_and_checking_it_makes_nothing(tmp_path):
  target = tmp_path / "runs" / "new run #1 (ü)"
  writable.check_folder(str(target), "--workdir")
  assert not (tmp_path / "runs").exists()
  target.mkdir(parents=True)
  (target / "keep.txt").write_text("mine")
  writable.check_folder(str(target), "--workdir")
  assert os.listdir(target) == ["keep.txt"]


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="no sysfs on this machine")
def test_a_folder_the_kernel_will_not_make_is_refused_by_trying():
  with pytest.raises(ValueError, match=r"^--workdir=/sys/kernel/vidjax_run cannot be written \("):
    writable.check_folder("/sys/kernel/vidjax_run", "--workdir")
  assert not os.path.exists("/sys/kernel/vidjax_run")


def test_an_output_file_is_checked_without_being_made(tmp_path):
  writable.check_file(str(tmp_path / "out" / "top5.csv"), "--output", (".json", ".csv"))
  assert not (tmp_path / "out").exists()
  with pytest.raises(ValueError, match=r"--output=.*top5.txt: name a .json or .csv file"):
    writable.check_file(str(tmp_path / "top5.txt"), "--output", (".json", ".csv"))
