"""Hostile `.pth` files: every malformed input is one PthFormatError, never a crash, a stray read or a huge allocation.

A small pickle assembler writes torch.save-shaped files whose fields hold whatever a crafted file could hold
(negative offsets, 4 TiB shapes, missing storages, broken opcode streams); the fuzz cases mutate and truncate the
real torch.save fixture. A segfault would end pytest itself, so "no crash" is checked by the run finishing.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from vidjax.pth_reader import PthFormatError, read_pth

FIXTURE = "tests/fixtures/small_state_dict.pth"
LEGACY_FIXTURE = "tests/fixtures/small_state_dict_legacy.pth"  # the same tensors, torch 0.1.10-1.5 format


class Op(bytes):
  """Raw opcode bytes, emitted as they are."""


def glob(name: str) -> Op:
  module, attr = name.rsplit(" ", 1)
  return Op(b"c" + module.encode() + b"\n" + attr.encode() + b"\n")


def value(x) -> bytes:
  """Pickle opcodes pushing x (protocol 2 subset that torch.save uses)."""
  if isinstance(x, Op):
    return bytes(x)
  if x is None:
    return b"N"
  if isinstance(x, bool):
    return b"\x88" if x else b"\x89"
  if isinstance(x, int):
    if -(1 << 31) <= x < (1 << 31):
      return b"J" + struct.pack("<i", x)
    raw = x.to_bytes((x.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw
  if isinstance(x, float):
    return b"G" + struct.pack(">d", x)
  if isinstance(x, str):
    data = x.encode()
    return b"X" + struct.pack("<I", len(data)) + data
  if isinstance(x, tuple):
    return b"(" + b"".join(value(i) for i in x) + b"t"
  raise TypeError(x)


def tensor(key="0", offset=0, size=(2,), stride=(1,), numel=None, storage="torch FloatStorage") -> Op:
  """What torch.save writes for one tensor: _rebuild_tensor_v2(persistent storage, offset, size, stride, ...)."""
  numel = int(np.prod(size)) if numel is None else numel
  pid = Op(value(("storage", glob(storage) if " " in storage else storage, key, "cpu", numel)) + b"Q")
  od = Op(bytes(glob("collections OrderedDict")) + b")R")
  return Op(bytes(glob("torch._utils _rebuild_tensor_v2")) + value((pid, offset, size, stride, False, od)) + b"R")


def state_dict(items: dict) -> bytes:
  return b"\x80\x02}(" + b"".join(value(k) + value(v) for k, v in items.items()) + b"u."


def write_pth(path, pkl: bytes, storages: dict[str, bytes], byteorder: bytes = b"little") -> str:
  with zipfile.ZipFile(path, "w") as z:
    z.writestr("archive/data.pkl", pkl)
    z.writestr("archive/byteorder", byteorder)
    for key, data in storages.items():
      z.writestr(f"archive/data/{key}", data)
  return str(path)


def outcome(path: str) -> str:
  """'read' (a dict of arrays) or 'refused' (one PthFormatError naming the file); anything else fails the test."""
  try:
    out = read_pth(path)
  except PthFormatError as e:
    msg = str(e)
    assert msg.startswith(path) and "\n" not in msg, msg
    return "refused"
  assert isinstance(out, dict)
  assert all(isinstance(k, str) and isinstance(v, np.ndarray) for k, v in out.items())
  return "read"


FLOATS = np.arange(8, dtype="<f4").tobytes()  # storage "0": 8 float32 values 0..7

HOSTILE = {
    "negative offset": (state_dict({"w": tensor(offset=-1000)}), "negative offset"),
    "4 TiB through a zero stride": (state_dict({"w": tensor(size=(1 << 40,), stride=(0,), numel=8)}),
                                    "over the .*-byte limit"),
    "huge shape": (state_dict({"w": tensor(size=(1 << 20, 1 << 20), stride=(1, 1), numel=8)}), "over the .*-byte limit"),
    "past the storage": (state_dict({"w": tensor(size=(4, 4), stride=(4, 1), numel=8)}), "reaches value 15 of a storage"),
    "offset past the storage": (state_dict({"w": tensor(offset=7, size=(2,), numel=8)}), "reaches value 8"),
    "numel over the storage": (state_dict({"w": tensor(size=(2,), numel=9)}), "claims 9 values but holds 8"),
    "shape and strides differ": (state_dict({"w": tensor(size=(2, 2), stride=(1,), numel=8)}), "do not match"),
    "float offset": (state_dict({"w": tensor(offset=1.5)}), "are not integers"),
    "bool size": (state_dict({"w": tensor(size=(True,), stride=(1,))}), "are not integers"),
    "2**100 offset": (state_dict({"w": tensor(offset=1 << 100)}), "reaches value"),
    "2**70 stride": (state_dict({"w": tensor(size=(2,), stride=(1 << 70,), numel=8)}), "reaches value"),
    "missing storage": (state_dict({"w": tensor(key="99")}), "storage 'archive/data/99' is missing"),
    "storage type not a class": (state_dict({"w": tensor(storage="FloatStorage")}), "is not a torch storage class"),
    "bfloat16": (state_dict({"w": tensor(storage="torch BFloat16Storage")}), "bfloat16 tensors are not supported"),
    "code in a global": (state_dict({"w": Op(bytes(glob("os system")) + value(("echo hi",)) + b"R")}),
                         "refers to 'os system'"),
    "pops more than pushed": (b"\x80\x02R.", "pops more than it pushed"),
    "SETITEMS without MARK": (b"\x80\x02}u.", "closes a group it never opened"),
    "unknown memo": (b"\x80\x02h\x05.", "memo entry 5"),
    "no STOP": (b"\x80\x02}(", "damaged torch.save file at"),
    "a list, not a dict": (b"\x80\x02].", "holds a list"),
    "int tensor name": (state_dict({7: tensor()}), "names must be strings"),
    "SETITEM on a tuple": (b"\x80\x02)" + value("w") + bytes(tensor()) + b"s.", "SETITEM applies to a tuple"),
    "storage reference not a tuple": (b"\x80\x02" + bytes(glob("torch._utils _rebuild_tensor_v2")) + b"(" +
                                      value("x") + b"Q" + value((0, (2,), (1,))) + b"tR.", "unexpected persistent id"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_crafted_file_is_one_clear_error(case, tmp_path):
  pkl, message = HOSTILE[case]
  path = write_pth(tmp_path / f"crafted {case}.pth", pkl, {"0": FLOATS})
  with pytest.raises(PthFormatError, match=message) as e:
    read_pth(path)
  assert str(e.value).startswith(path) and "\n" not in str(e.value)


def test_many_views_of_one_storage_cannot_exhaust_memory(tmp_path):
  big = np.zeros(1 << 20, "<f4").tobytes()  # a 4 MiB storage read a thousand times: 4 GiB if each were copied
  pkl = state_dict({f"w{i}": tensor(size=(1 << 20,), numel=1 << 20) for i in range(1000)})
  path = write_pth(tmp_path / "views.pth", pkl, {"0": big})
  with pytest.raises(PthFormatError, match=r"tensor 'w\d+' \(shape \(1048576,\)\) needs 4,194,304 bytes, over the "):
    read_pth(path)
  assert len(read_pth(path, max_bytes=8 << 30)) == 1000  # a trusted file may ask for more


def test_valid_corner_cases_read_exactly(tmp_path):
  pkl = state_dict({"scalar": tensor(offset=3, size=(), stride=(), numel=8), "empty": tensor(size=(0, 5), stride=(5, 1)),
                    "strided": tensor(offset=1, size=(3, 2), stride=(2, 1), numel=8), "broadcast": tensor(size=(3,), stride=(0,)),
                    "unit dim, wild stride": tensor(size=(1, 2), stride=(1 << 70, 1))})
  got = read_pth(write_pth(tmp_path / "ok.pth", pkl, {"0": FLOATS}))
  assert got["scalar"].shape == () and got["scalar"] == 3.0
  assert got["empty"].shape == (0, 5)
  np.testing.assert_array_equal(got["strided"], [[1, 2], [3, 4], [5, 6]])
  np.testing.assert_array_equal(got["broadcast"], [0, 0, 0])
  np.testing.assert_array_equal(got["unit dim, wild stride"], [[0, 1]])
  big_endian = read_pth(write_pth(tmp_path / "be.pth", state_dict({"w": tensor(size=(8,))}),
                                  {"0": np.arange(8, dtype=">f4").tobytes()}, byteorder=b"big"))
  np.testing.assert_array_equal(big_endian["w"], np.arange(8))
  with pytest.raises(PthFormatError, match="not a whole number of float32"):
    read_pth(write_pth(tmp_path / "odd.pth", state_dict({"w": tensor(size=(1,))}), {"0": b"\0" * 7}))


def _mutate(rng: np.random.Generator, data: bytes) -> bytes:
  b = bytearray(data)
  for _ in range(int(rng.integers(1, 4))):
    kind = rng.integers(5)
    i = int(rng.integers(len(b)))
    if kind == 0:  # flip a byte
      b[i] = int(rng.integers(256))
    elif kind == 1:  # drop a run
      del b[i:i + int(rng.integers(1, 16))]
    elif kind == 2:  # repeat a run
      b[i:i] = b[i:i + int(rng.integers(1, 16))]
    elif kind == 3:  # an extreme 4-byte value, e.g. a BININT argument
      b[i:i + 4] = struct.pack("<i", int(rng.choice([-1, -(1 << 31), (1 << 31) - 1, 1 << 20, 0])))
    else:  # one random opcode byte
      b[i:i] = bytes([int(rng.choice(list(b"}()tuRQsqhcJKMX\x8a\x80.NG]ea\x85\x86\x87b")))])
    if not b:
      b = bytearray(b".")
  return bytes(b)


def test_fuzz_thousands_of_damaged_files(tmp_path):
  rng = np.random.default_rng(0)
  original = open(FIXTURE, "rb").read()
  with zipfile.ZipFile(FIXTURE) as z:
    members = {i.filename: z.read(i) for i in z.infolist()}
  pkl_name = next(n for n in members if n.endswith("data.pkl"))
  counts = {"read": 0, "refused": 0}
  start = time.perf_counter()
  path = str(tmp_path / "fuzz case #1 (ü).pth")
  for i in range(3000):
    if i % 6 == 0:  # the file cut short anywhere
      data = original[:int(rng.integers(len(original)))]
    elif i % 6 == 1:  # random damage anywhere (CRCs catch most of it)
      data = _mutate(rng, original)
    else:  # data.pkl damaged, re-zipped with good CRCs, so the parser itself meets the damage
      buf = io.BytesIO()
      with zipfile.ZipFile(buf, "w") as z:
        for name, content in members.items():
          if name == pkl_name:
            content = _mutate(rng, content)
          elif "/data/" in name and i % 6 == 5:  # and a storage cut short
            content = content[:int(rng.integers(len(content) + 1))]
          z.writestr(name, content)
      data = buf.getvalue()
    with open(path, "wb") as f:
      f.write(data)
    counts[outcome(path)] += 1
  seconds = time.perf_counter() - start
  assert counts["refused"] > 2000 and counts["read"] > 10, counts  # both paths really exercised
  assert seconds < 30, f"3000 fuzz cases took {seconds:.1f} s"


def test_the_converter_says_one_line_for_a_crafted_file(tmp_path):
  path = write_pth(tmp_path / "crafted.pth", state_dict({"conv1.weight": tensor(offset=-(1 << 30))}), {"0": FLOATS})
  p = subprocess.run([sys.executable, "-m", "vidjax.weights", "--pth", path, "--arch", "resnet18",
                      "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120,
                     env={**os.environ, "JAX_PLATFORMS": "cpu"})
  assert p.returncode == 1, (p.returncode, p.stderr[-2000:])
  lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
  assert len(lines) == 1 and "crafted.pth: tensor 'conv1.weight': negative offset" in lines[0], p.stderr[-2000:]
  assert not os.path.exists(tmp_path / "out")


def test_fuzz_damaged_legacy_files(tmp_path):
  """The legacy format (torch 0.1.10-1.5) cut short or damaged anywhere: read, or one PthFormatError."""
  rng = np.random.default_rng(1)
  original = open(LEGACY_FIXTURE, "rb").read()
  counts = {"read": 0, "refused": 0}
  path = str(tmp_path / "legacy case (ü).pth")
  for i in range(1500):
    data = original[:int(rng.integers(len(original)))] if i % 3 == 0 else _mutate(rng, original)
    with open(path, "wb") as f:
      f.write(data)
    counts[outcome(path)] += 1
  assert counts["refused"] > 900 and counts["read"] > 10, counts


def test_a_legacy_file_claiming_a_huge_storage_is_refused_before_reading(tmp_path):
  data = bytearray(open(LEGACY_FIXTURE, "rb").read())
  # the last storage's 8-byte element count sits right before its bytes; claim 2^40 values there
  sd = read_pth(LEGACY_FIXTURE)
  last = data.rfind(struct.pack("<q", sd["odd.transposed"].size))
  assert last > 0
  data[last:last + 8] = struct.pack("<q", 1 << 40)
  path = tmp_path / "huge.pth"
  path.write_bytes(bytes(data))
  with pytest.raises(PthFormatError, match=r"huge.pth: storage .* claims 1,099,511,627,776 values"):
    read_pth(str(path))
