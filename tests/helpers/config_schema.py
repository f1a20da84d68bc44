"""The config test's check that a config holds only keys the schema has (one that unlocked itself to add one)."""

import ml_collections

from vidjax import config as config_lib


def schema_problems(c: ml_collections.ConfigDict) -> list[str]:
  """Keys of `c` that the schema (base_config of its model) does not have, each with the closest valid key."""
  model = c.model.name if isinstance(c.get("model"), ml_collections.ConfigDict) and "name" in c.model else "csn"
  try:
    schema = config_lib.base_config(model)
  except ValueError as e:
    return [str(e)]
  problems: list[str] = []

  def walk(node, ref, prefix):
    for key in node:
      if key == "sweep" and not prefix:
        continue  # a sweep config carries its points beside the base run config
      if key not in ref:
        problems.append(f"config.{prefix}{key} is not a setting{config_lib.did_you_mean(key, ref, prefix)}")
      elif isinstance(node[key], ml_collections.ConfigDict) and isinstance(ref[key], ml_collections.ConfigDict):
        walk(node[key], ref[key], f"{prefix}{key}.")
  walk(c, schema, "")
  return problems
