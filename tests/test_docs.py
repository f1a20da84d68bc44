"""README.md and docs/: every relative link resolves, and every mode, config and repository path they name exists."""

import re

import pytest

from tests.helpers import REPO_ROOT

PAGES = [REPO_ROOT / "README.md", REPO_ROOT / "ARCHITECTURE.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
MODE = re.compile(r"--mode=([A-Za-z_]+)")
# a path into the repository: a top-level folder of ours, then name characters (placeholders such as <name> and
# a config file's argument after ':' end it)
PATH = re.compile(r"(?<![\w/.])((?:configs|vidjax|input_pipeline|tests|benchmarks|scripts|docs)/[\w./-]*[\w/])")


def _ids(pages):
  return [str(p.relative_to(REPO_ROOT)) for p in pages]


def test_the_readme_is_short_and_every_docs_page_is_on_its_map():
  readme = (REPO_ROOT / "README.md").read_text()
  assert len(readme.splitlines()) <= 250
  for page in (REPO_ROOT / "docs").glob("*.md"):
    assert f"](docs/{page.name})" in readme, page.name
    assert page.read_text().split("\n", 2)[2].lstrip().startswith("```"), f"{page.name} opens with its commands"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_relative_link_resolves(page):
  for target in LINK.findall(page.read_text()):
    if re.match(r"[a-z]+:", target) or target.startswith("#"):
      continue
    path = (page.parent / target.split("#")[0]).resolve()
    assert path.exists(), f"{page.name}: link {target} -> {path} does not exist"
    assert REPO_ROOT in path.parents or path == REPO_ROOT, f"{page.name}: link {target} leaves the repository"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_mode_and_path_named_exists(page):
  import main

  text = page.read_text()
  modes = set(MODE.findall(text))
  assert modes <= set(main.MODES), f"{page.name} names modes main.py lacks: {modes - set(main.MODES)}"
  for name in PATH.findall(text):
    name = name.rstrip(".")
    assert (REPO_ROOT / name).exists(), f"{page.name} names {name}, which is not in the repository"
