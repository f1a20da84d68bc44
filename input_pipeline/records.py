"""The loader's view of a stored split: each video's JPEG blob, frame offsets and label.

Read straight from the serialized tf.train.Example bytes. tfds's own parse converts all ten stored fields
and copies the blob, all of it holding the GIL, which the loader threads share; the loader needs three fields
and can keep the blob as a view of the record. Walking the protobuf wire format for them costs a fraction of
that (benchmarks/loader_parts.py, BENCHMARKS.md). tests/input_pipeline/test_records.py pins the result
to tfds's parse.
"""

from __future__ import annotations

import numpy as np

from input_pipeline import clips

LOADER_FIELDS = (b"jpeg", b"offsets", b"label")

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


class CorruptRecordError(ValueError):
  pass


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
  result = shift = 0
  while True:
    b = buf[pos]
    pos += 1
    result |= (b & 0x7F) << shift
    if b < 0x80:
      return result, pos
    shift += 7


def _skip(buf: memoryview, pos: int, wire_type: int) -> int:
  if wire_type == _VARINT:
    return _varint(buf, pos)[1]
  if wire_type == _LEN:
    n, pos = _varint(buf, pos)
    return pos + n
  if wire_type in (_I64, _I32):
    return pos + (8 if wire_type == _I64 else 4)
  raise CorruptRecordError(f"unknown protobuf wire type {wire_type}")


def _fields(buf: memoryview, start: int, end: int):
  """(field number, wire type, payload start, payload end) for each field of the message in buf[start:end]."""
  pos = start
  while pos < end:
    tag, pos = _varint(buf, pos)
    number, wire_type = tag >> 3, tag & 7
    if wire_type == _LEN:
      n, pos = _varint(buf, pos)
      yield number, wire_type, pos, pos + n
      pos += n
    else:
      after = _skip(buf, pos, wire_type)
      yield number, wire_type, pos, after
      pos = after
  if pos != end:
    raise CorruptRecordError("a protobuf field runs past the end of its message")


def _packed_varints(buf: memoryview) -> np.ndarray:
  """Decodes a run of varints at once (the frame offsets are ~150-300 of them)."""
  b = np.frombuffer(buf, np.uint8)
  if len(b) == 0:
    return np.zeros(0, np.int64)
  if b[-1] >= 0x80:
    raise CorruptRecordError("truncated varint")
  ends = np.flatnonzero(b < 0x80)
  starts = np.concatenate(([0], ends[:-1] + 1))
  shift = 7 * (np.arange(len(b)) - np.repeat(starts, ends - starts + 1)).astype(np.uint64)
  return np.add.reduceat((b & 0x7F).astype(np.uint64) << shift, starts).view(np.int64)


def _int64_list(buf: memoryview, start: int, end: int) -> np.ndarray:
  parts = []
  for number, wire_type, a, b in _fields(buf, start, end):
    if number != 1:
      continue
    if wire_type == _LEN:  # packed, as writers emit by default
      parts.append(_packed_varints(buf[a:b]))
    elif wire_type == _VARINT:
      parts.append(np.array([_varint(buf, a)[0]], np.uint64).view(np.int64))
  return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def _float_list(buf: memoryview, start: int, end: int) -> np.ndarray:
  parts = []
  for number, wire_type, a, b in _fields(buf, start, end):
    if number != 1:
      continue
    if wire_type == _LEN:  # packed little-endian float32s, as writers emit by default
      if (b - a) % 4:
        raise CorruptRecordError("a packed float list is not a whole number of floats")
      parts.append(np.frombuffer(buf[a:b], "<f4"))
    elif wire_type == _I32:
      parts.append(np.frombuffer(buf[a:b], "<f4"))
  return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def parse_example(raw: bytes, wanted: tuple[bytes, ...]) -> dict[str, memoryview | np.ndarray]:
  """tf.train.Example bytes -> {name: memoryview of the first bytes value | int64 array | float32 array} for `wanted`
  keys."""
  buf = memoryview(raw)
  out: dict[str, memoryview | np.ndarray] = {}
  try:
    for number, wire_type, a, b in _fields(buf, 0, len(buf)):
      if number != 1 or wire_type != _LEN:  # Example.features
        continue
      for n2, w2, ea, eb in _fields(buf, a, b):  # Features.feature: map<string, Feature> entries
        if n2 != 1 or w2 != _LEN:
          continue
        key = value = None
        for n3, w3, fa, fb in _fields(buf, ea, eb):
          if n3 == 1 and w3 == _LEN:
            key = buf[fa:fb]
          elif n3 == 2 and w3 == _LEN:
            value = (fa, fb)
        if key is None or value is None or key not in wanted:
          continue
        for kind, wk, va, vb in _fields(buf, *value):  # Feature: oneof bytes_list = 1, float_list = 2, int64_list = 3
          if kind == 1 and wk == _LEN:
            for n4, w4, xa, xb in _fields(buf, va, vb):
              if n4 == 1 and w4 == _LEN:
                out[bytes(key).decode()] = buf[xa:xb]
                break
          elif kind == 2 and wk == _LEN:
            out[bytes(key).decode()] = _float_list(buf, va, vb)
          elif kind == 3 and wk == _LEN:
            out[bytes(key).decode()] = _int64_list(buf, va, vb)
  except IndexError as e:
    raise CorruptRecordError("record ends inside a protobuf field") from e
  return out


class ClipRecords:
  """Random access to a stored split as {"jpeg": memoryview, "offsets": int64 [F + 1], "label": int}, and how
  such a record becomes the loader's examples (uint8 clips, input_pipeline/clips.py).

  `raw` is the split opened with `as_data_source(split, deserialize_method=RAW_BYTES)`; `where` names the
  store in error messages.
  """

  example_dtype = np.uint8
  train_example = staticmethod(clips.train_clip)
  eval_views = staticmethod(clips.eval_views)

  def __init__(self, raw, where: str):
    self.raw, self.where = raw, where

  @staticmethod
  def example_shape(spec: clips.ClipSpec) -> tuple[int, ...]:
    return spec.shape

  def __len__(self) -> int:
    return len(self.raw)

  def _read(self, i: int) -> bytes:
    try:
      return self.raw[i]
    except (RuntimeError, OSError, ValueError) as e:  # array_record: "Corrupted Riegeli/records file: ..."
      raise CorruptRecordError(f"{self.where}: record {i} cannot be read ({type(e).__name__}: "
                               f"{str(e).splitlines()[0][:200]}); delete this store folder and rerun to rebuild "
                               "it") from e

  def raw_record(self, i: int) -> bytes:
    """Record i's serialized bytes (for readers of other fields: `parse_example`)."""
    return self._read(i)

  def __getitem__(self, i: int) -> dict:
    raw = self._read(i)
    try:
      fields = parse_example(raw, LOADER_FIELDS)
      missing = [k.decode() for k in LOADER_FIELDS if k.decode() not in fields]
      if missing:
        raise CorruptRecordError(f"fields {missing} are missing")
    except CorruptRecordError as e:
      raise CorruptRecordError(f"{self.where}: record {i} is corrupt ({e}); delete this store folder and "
                               "rerun to rebuild it") from e
    return {"jpeg": fields["jpeg"], "offsets": fields["offsets"], "label": int(fields["label"][0])}

  def path(self, i: int) -> str:
    """The source file of record i (for per-video outputs), without parsing or copying the frames."""
    value = parse_example(self._read(i), (b"path",)).get("path")
    if value is None:
      raise CorruptRecordError(f"{self.where}: record {i} has no path; delete this store folder and rerun to rebuild it")
    return bytes(value).decode("utf-8", "surrogateescape")
