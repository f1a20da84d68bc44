"""input_pipeline.records: the loader's lean parse of stored records against tfds's own."""



import numpy as np
import pytest


def _varint(v):
  out = bytearray()
  while True:
    out.append((v & 0x7F) | (0x80 if v > 0x7F else 0))
    v >>= 7
    if not out[-1] & 0x80:
      return bytes(out)


def _field(number, payload=None, *, varint=None):
  if varint is not None:
    return _varint(number << 3) + _varint(varint)
  return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _feature(key, value):
  return _field(1, _field(1, key) + _field(2, value))


def test_lean_record_parse_reads_both_int64_encodings_and_skips_the_rest():
  from input_pipeline import records

  offsets = [0, 300, 70_000, 2**40]
  unpacked = b"".join(_field(1, varint=v) for v in offsets)
  features = (_feature(b"path", _field(1, _field(1, b"/x/a b.avi")))
              + _feature(b"offsets", _field(3, unpacked))
              + _feature(b"fps", _field(2, _field(1, b"\x00\x00\xc8\x41")))  # float_list: not a loader field
              + _feature(b"label", _field(3, _field(1, _varint(2))))  # packed
              + _feature(b"jpeg", _field(1, _field(1, b"\xff\xd8jpeg")))
              + b"\x15\x01\x02\x03\x04")  # an unknown fixed32 field
  raw = _field(1, features)
  rec = records.ClipRecords([raw], "store S")[0]
  assert bytes(rec["jpeg"]) == b"\xff\xd8jpeg" and rec["label"] == 2
  np.testing.assert_array_equal(rec["offsets"], offsets)
  with pytest.raises(records.CorruptRecordError, match=r"store S: record 0 is corrupt .*rebuild"):
    records.ClipRecords([raw[:-3]], "store S")[0]
  assert records.parse_example(raw, (b"fps",))["fps"].tolist() == [25.0]  # packed float_list (what tfds writes)
  unpacked_floats = _field(1, _feature(b"fps", _field(2, b"\x0d\x00\x00\xc8\x41\x0d\x00\x00\x20\x41")))
  assert records.parse_example(unpacked_floats, (b"fps",))["fps"].tolist() == [25.0, 10.0]
  with pytest.raises(records.CorruptRecordError, match=r"\['jpeg'\] are missing"):
    records.ClipRecords([_field(1, _feature(b"label", _field(3, _field(1, b"\x01"))) + _feature(
        b"offsets", _field(3, _field(1, b"\x00\x05"))))], "store S")[0]

