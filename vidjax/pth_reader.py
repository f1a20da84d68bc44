"""Reads PyTorch `.pth` state dicts without torch and without unpickling.

A `torch.save` file (torch >= 1.6) is a zip: `data.pkl` describes the dict (names, dtypes,
shapes, strides, which raw storage file holds each tensor) and `data/<key>` holds the bytes.
Files saved by torch 0.1.10-1.5 (most weights released before 2020: torchvision's VGG and
video models, the CycleGAN release) use the legacy format instead: five pickles in a row
(magic number, protocol version, system info, the dict, the storage keys), then each
storage's element count and bytes; they are read the same way.
Here `pickletools.genops` only *parses* data.pkl's opcodes; a small stack machine
interprets the handful that a state dict uses, and the only "globals" it accepts are
names (OrderedDict, _rebuild_tensor_v2, _rebuild_parameter, the storage types), never
imported or called. Anything else is refused with the opcode or name it met.

The file is hostile until proven otherwise: every offset, size, stride and storage
reference is checked against the bytes really present before an array is made, and
what the file may make us allocate is capped (`max_bytes`). Any malformed input ends
as one `PthFormatError` naming the file and the tensor it was reading.
"""

from __future__ import annotations

import math
import os
import pickletools
import struct
import zipfile
import zlib

import numpy as np

_STORAGES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16, "BFloat16Storage": None,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
    "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
_REBUILD_TENSOR = ("torch._utils _rebuild_tensor_v2", "torch._utils _rebuild_tensor")  # v1: torch <= 0.3
_GLOBALS = {"collections OrderedDict", "torch._utils _rebuild_parameter", *_REBUILD_TENSOR} | {
    f"torch {s}" for s in _STORAGES}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_MARK = object()
_MAX_PICKLE_BYTES = 64 << 20  # a ResNet-152 state dict's data.pkl is ~60 KB
_MAX_NDIM = 32
# What parsing may raise on a damaged file; each becomes a PthFormatError naming the file and the tensor.
_PARSE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError, EOFError, OverflowError,
                 struct.error, zlib.error, zipfile.BadZipFile, NotImplementedError, MemoryError, OSError)


class PthFormatError(ValueError):
  """A malformed or refused `.pth`; the message is one line naming the file and the tensor."""

  def __init__(self, message: str):
    super().__init__(" ".join(message.splitlines()))


def _short(x) -> str:
  """A value from the file, as a short one-line repr (it may be anything, of any size)."""
  text = " ".join(repr(x).split())
  return text if len(text) <= 80 else text[:77] + "..."


def _is_int(x) -> bool:
  return type(x) is int  # not bool, not float


class _Storages:
  """The zip's raw storage files, read once each, sizes bounded by the zip's own directory."""

  def __init__(self, z: zipfile.ZipFile, prefix: str, path: str, byteorder: str, max_bytes: int):
    self._z, self._prefix, self._path, self._byteorder, self._max_bytes = z, prefix, path, byteorder, max_bytes
    self._cache: dict[str, np.ndarray] = {}

  def get(self, pid, where: str) -> np.ndarray:
    if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
      raise PthFormatError(f"{self._path}: {where}: unexpected persistent id {_short(pid)}")
    _, storage_type, key, _location, numel = pid
    dtype = _storage_dtype(storage_type, key, numel, self._byteorder, self._path, where)
    cache_key = f"{key}\0{dtype.str}"
    if cache_key not in self._cache:
      name = f"{self._prefix}data/{key}"
      try:
        info = self._z.getinfo(name)
      except KeyError:
        raise PthFormatError(f"{self._path}: {where}: its storage {_short(name)} is missing from the file") from None
      if info.file_size > self._max_bytes:
        raise PthFormatError(f"{self._path}: {where}: storage {_short(name)} claims {info.file_size:,} bytes, over the "
                             f"{self._max_bytes:,}-byte limit")
      raw = self._z.read(info)
      if len(raw) % dtype.itemsize:
        raise PthFormatError(f"{self._path}: {where}: storage {_short(name)} holds {len(raw)} bytes, not a whole number of "
                             f"{dtype.name} values")
      self._cache[cache_key] = np.frombuffer(raw, dtype=dtype)
    flat = self._cache[cache_key]
    if numel > flat.size:
      raise PthFormatError(f"{self._path}: {where}: storage {_short(key)} claims {numel:,} values but holds {flat.size:,}")
    return flat[:numel]


def _storage_dtype(storage_type, key, numel, byteorder: str, path: str, where: str) -> np.dtype:
  """The dtype of a persistent storage reference, after checking every field of it."""
  if not (isinstance(storage_type, tuple) and len(storage_type) == 2 and storage_type[0] == "global"):
    raise PthFormatError(f"{path}: {where}: storage type {_short(storage_type)} is not a torch storage class")
  stype = storage_type[1].split()[-1]
  if stype not in _STORAGES:
    raise PthFormatError(f"{path}: {where}: {_short(storage_type[1])} is not a tensor storage type")
  if _STORAGES[stype] is None:
    raise PthFormatError(f"{path}: {where}: bfloat16 tensors are not supported; save the weights as float32")
  if not isinstance(key, str) or not _is_int(numel) or numel < 0:
    raise PthFormatError(f"{path}: {where}: storage reference ({_short(key)}, {_short(numel)}) is malformed")
  return np.dtype(_STORAGES[stype]).newbyteorder(byteorder)


class _LegacyRef:
  """A legacy file's storage, known by key while the dict is parsed; its bytes come after all the pickles."""

  def __init__(self, key: str, dtype: np.dtype, numel: int):
    self.key, self.dtype, self.numel = key, dtype, numel


class _LazyTensor:
  """A tensor of a legacy file, made once its storage has been read."""

  def __init__(self, ref: _LegacyRef, offset, size, stride, where: str):
    self.ref, self.offset, self.size, self.stride, self.where = ref, offset, size, stride, where


def _is_dict_key_position(stack: list) -> bool:
  """Whether a value pushed now would be a key of a dict being filled (SETITEM, or SETITEMS' even items)."""
  if stack and isinstance(stack[-1], dict):
    return True
  for i in range(len(stack) - 1, -1, -1):
    if stack[i] is _MARK:
      return i > 0 and isinstance(stack[i - 1], dict) and (len(stack) - i - 1) % 2 == 0
  return False


class _Budget:
  """Caps what one file may make us allocate, whatever its tensors claim."""

  def __init__(self, limit: int):
    self.left = limit
    self.limit = limit

  def take(self, nbytes: int, path: str, where: str) -> None:
    if nbytes > self.left:
      raise PthFormatError(f"{path}: {where} needs {nbytes:,} bytes, over the {self.limit:,}-byte limit for this "
                           "file; it is damaged or crafted (raise max_bytes only for a file you trust)")
    self.left -= nbytes


def _tensor(flat: np.ndarray, offset, size, stride, budget: _Budget, path: str, where: str) -> np.ndarray:
  """A C-ordered copy of the strided view, made only after every index is proven inside `flat`."""
  if not (_is_int(offset) and isinstance(size, tuple) and isinstance(stride, tuple)
          and all(_is_int(n) for n in size) and all(_is_int(s) for s in stride)):
    raise PthFormatError(f"{path}: {where}: offset/size/stride are not integers "
                         f"({_short(offset)}, {_short(size)}, {_short(stride)})")
  if len(size) != len(stride) or len(size) > _MAX_NDIM:
    raise PthFormatError(f"{path}: {where}: shape {_short(size)} and strides {_short(stride)} do not match")
  if offset < 0 or min(size, default=0) < 0 or min(stride, default=0) < 0:
    raise PthFormatError(f"{path}: {where}: negative offset, size or stride ({offset}, {size}, {stride}); "
                         "the file is damaged")
  numel = math.prod(size)
  budget.take(numel * flat.itemsize, path, f"{where} (shape {size})")
  if numel == 0:
    return np.zeros(size, flat.dtype.newbyteorder("="))
  last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
  if last >= flat.size:
    raise PthFormatError(f"{path}: {where}: a tensor of shape {size} at offset {offset} reaches value {last:,} of a "
                         f"storage holding {flat.size:,}; the file is damaged")
  strides = tuple(s * flat.itemsize if n > 1 else 0 for n, s in zip(size, stride, strict=True))
  view = np.lib.stride_tricks.as_strided(flat[offset:], shape=size, strides=strides, writeable=False)
  return np.array(view, dtype=flat.dtype.newbyteorder("="), order="C")  # owns its memory, native order


def read_pth(path: str, *, max_bytes: int | None = None) -> dict[str, np.ndarray]:
  """{name: array} from a zip-format torch.save of a (possibly nested under 'state_dict') tensor dict.

  `max_bytes` caps the arrays' total size (default: twice the file plus 64 MiB, ample for a state dict,
  whose tensors are views of the storages the file carries).
  """
  with open(path, "rb") as f:
    head = f.read(4)
  if head[:2] == b"\x80\x02" and not zipfile.is_zipfile(path):  # a pickle first: torch 0.1.10-1.5's format
    return _parse_legacy(path, max_bytes)
  try:
    z = zipfile.ZipFile(path)
  except FileNotFoundError:
    raise
  except (zipfile.BadZipFile, *_PARSE_ERRORS) as e:
    raise PthFormatError(f"{path}: not a torch.save file (neither the zip format of torch >= 1.6 nor the legacy "
                         "pickle format; a pre-2017 tar file?); re-save it with a recent torch, or convert it to "
                         ".npz") from e
  try:
    with z:
      return _parse(z, path, max_bytes)
  except PthFormatError:
    raise
  except _PARSE_ERRORS as e:
    raise PthFormatError(f"{path}: damaged torch.save file (its zip directory): {type(e).__name__}: {e!s:.200}") from e


def _parse(z: zipfile.ZipFile, path: str, max_bytes: int | None) -> dict[str, np.ndarray]:
  pkl = next((n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl"), None)
  if pkl is None:
    raise PthFormatError(f"{path}: no data.pkl inside; not a torch.save file")
  prefix = pkl[: -len("data.pkl")]
  if z.getinfo(pkl).file_size > _MAX_PICKLE_BYTES:
    raise PthFormatError(f"{path}: data.pkl claims {z.getinfo(pkl).file_size:,} bytes; not a state dict")
  byteorder = "<"  # torch.save writes little-endian unless its `byteorder` record says otherwise
  if f"{prefix}byteorder" in z.namelist():
    order = z.read(f"{prefix}byteorder")[:16]
    if order not in (b"little", b"big"):
      raise PthFormatError(f"{path}: byteorder record {order!r} is neither little nor big")
    byteorder = "<" if order == b"little" else ">"
  file_size = os.path.getsize(path)
  budget = _Budget(max_bytes if max_bytes is not None else 2 * file_size + (64 << 20))
  storages = _Storages(z, prefix, path, byteorder, budget.limit)

  def rebuild(storage, offset, size, stride, where: str) -> np.ndarray:
    return _tensor(storage, offset, size, stride, budget, path, where)

  result = _interpret(pickletools.genops(z.read(pkl)), path, storages.get, rebuild, np.ndarray, "data.pkl")
  return _state_dict(result, path)


def _parse_legacy(path: str, max_bytes: int | None) -> dict[str, np.ndarray]:
  """torch 0.1.10-1.5's format: magic, protocol, sys_info, the dict, the storage keys (five pickles), then per
  storage in the keys' order an 8-byte element count and the bytes. Only opcodes are parsed, as for the zip."""
  file_size = os.path.getsize(path)
  budget = _Budget(max_bytes if max_bytes is not None else 2 * file_size + (64 << 20))
  refs: dict[str, _LegacyRef] = {}
  byteorder = "<"

  def no_storage(pid, where):
    raise PthFormatError(f"{path}: {where}: a storage reference in the legacy file's header; the file is damaged")

  def storage(pid, where: str) -> _LegacyRef:
    if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
      raise PthFormatError(f"{path}: {where}: unexpected persistent id {_short(pid)}")
    _, storage_type, key, _location, numel, view = pid
    if view is not None:
      raise PthFormatError(f"{path}: {where}: storage views are not supported; re-save it with a recent torch")
    dtype = _storage_dtype(storage_type, key, numel, byteorder, path, where)
    ref = refs.setdefault(key, _LegacyRef(key, dtype, numel))
    if ref.dtype != dtype:
      raise PthFormatError(f"{path}: {where}: storage {_short(key)} is used as two dtypes; the file is damaged")
    ref.numel = max(ref.numel, numel)
    return ref

  def lazy(ref, offset, size, stride, where: str) -> _LazyTensor:
    return _LazyTensor(ref, offset, size, stride, where)

  def ops(f, what: str):
    for op, arg, pos in pickletools.genops(f):
      if f.tell() - start > _MAX_PICKLE_BYTES:
        raise PthFormatError(f"{path}: the legacy file's {what} is over {_MAX_PICKLE_BYTES:,} bytes; not a state dict")
      yield op, arg, pos

  try:
    with open(path, "rb") as f:
      header = []
      for what in ("magic number", "protocol version", "system info"):
        start = f.tell()
        header.append(_interpret(ops(f, what), path, no_storage, lazy, _LegacyRef, what))
      magic, protocol, info = header
      if magic != _LEGACY_MAGIC or protocol != _LEGACY_PROTOCOL or not isinstance(info, dict):
        raise PthFormatError(f"{path}: starts like a pickle but is not a torch.save file (magic number "
                             f"{_short(magic)}, protocol {_short(protocol)})")
      if info.get("little_endian") is False:
        byteorder = ">"
      start = f.tell()
      result = _interpret(ops(f, "state dict"), path, storage, lazy, _LegacyRef, "the state dict")
      start = f.tell()
      keys = _interpret(ops(f, "storage keys"), path, no_storage, lazy, _LegacyRef, "the storage keys")
      if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or set(keys) != set(refs):
        raise PthFormatError(f"{path}: the storage key list {_short(keys)} does not match the tensors' storages")
      flats: dict[str, np.ndarray] = {}
      for key in keys:
        ref = refs[key]
        count = f.read(8)
        if len(count) < 8:
          raise PthFormatError(f"{path}: storage {_short(key)}: the file ends before its bytes; it is truncated")
        numel = int.from_bytes(count, "little" if byteorder == "<" else "big", signed=True)
        nbytes = numel * ref.dtype.itemsize
        if numel < ref.numel or nbytes > file_size - f.tell():
          raise PthFormatError(f"{path}: storage {_short(key)} claims {numel:,} values ({nbytes:,} bytes) where "
                               f"{ref.numel:,} are needed and {file_size - f.tell():,} bytes are left; the file is "
                               "damaged")
        budget.take(nbytes, path, f"storage {_short(key)}")
        flats[key] = np.frombuffer(f.read(nbytes), dtype=ref.dtype)
  except PthFormatError:
    raise
  except _PARSE_ERRORS as e:
    raise PthFormatError(f"{path}: damaged legacy torch.save file: {type(e).__name__}: {e!s:.200}") from e
  budget = _Budget(budget.limit)  # the storages are read; now their tensors

  def resolve(x):
    if isinstance(x, _LazyTensor):
      return _tensor(flats[x.ref.key], x.offset, x.size, x.stride, budget, path, x.where)
    if isinstance(x, dict):
      return {k: resolve(v) for k, v in x.items()}
    return x

  return _state_dict(resolve(result), path)


def _interpret(ops, path: str, persistent_load, rebuild, storage_type: type, what: str):
  """Runs the state-dict subset of pickle's opcodes on a stack; returns what the pickle holds. Storages come from
  `persistent_load(pid, where)` (instances of `storage_type`), tensors from `rebuild(storage, offset, size, stride,
  where)`."""
  stack: list = []
  memo: dict = {}
  key = None  # the last string seen: in a state dict, the name of the tensor being read

  def where() -> str:
    return f"tensor {_short(key)}" if key is not None else f"the start of {what}"

  def pop(n: int = 1):
    if len(stack) < n or any(x is _MARK for x in stack[len(stack) - n:]):
      raise PthFormatError(f"{path}: {where()}: data.pkl pops more than it pushed; the file is damaged")
    items = stack[len(stack) - n:]
    del stack[len(stack) - n:]
    return items if n > 1 else items[0]

  def pop_mark() -> list:
    for i in range(len(stack) - 1, -1, -1):
      if stack[i] is _MARK:
        items = stack[i + 1:]
        del stack[i:]
        return items
    raise PthFormatError(f"{path}: {where()}: data.pkl closes a group it never opened; the file is damaged")

  def top(kind: type, op: str):
    if not stack or not isinstance(stack[-1], kind):
      raise PthFormatError(f"{path}: {where()}: {op} applies to a {type(stack[-1]).__name__ if stack else 'nothing'}, "
                           f"not a {kind.__name__}; the file is damaged")
    return stack[-1]

  result = None
  try:
    for op, arg, _ in ops:
      name = op.name
      if name in ("PROTO", "FRAME"):
        continue
      if name == "EMPTY_DICT":
        stack.append({})
      elif name == "EMPTY_TUPLE":
        stack.append(())
      elif name == "EMPTY_LIST":
        stack.append([])
      elif name == "MARK":
        stack.append(_MARK)
      elif name in ("BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "BININT", "BININT1", "BININT2", "LONG1",
                    "BINFLOAT", "SHORT_BINSTRING", "BINSTRING"):
        if isinstance(arg, str) and _is_dict_key_position(stack):
          key = arg
        stack.append(arg)
      elif name == "NONE":
        stack.append(None)
      elif name in ("NEWTRUE", "NEWFALSE"):
        stack.append(name == "NEWTRUE")
      elif name in ("BINPUT", "LONG_BINPUT", "MEMOIZE"):
        if not stack or stack[-1] is _MARK:
          raise PthFormatError(f"{path}: {where()}: data.pkl memoizes nothing; the file is damaged")
        memo[arg if name != "MEMOIZE" else len(memo)] = stack[-1]
      elif name in ("BINGET", "LONG_BINGET"):
        if arg not in memo:
          raise PthFormatError(f"{path}: {where()}: data.pkl refers to memo entry {arg} it never stored")
        stack.append(memo[arg])
      elif name == "TUPLE":
        stack.append(tuple(pop_mark()))
      elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
        n = int(name[-1])
        stack.append(tuple(pop(n)) if n > 1 else (pop(),))
      elif name == "GLOBAL":
        if arg not in _GLOBALS:
          raise PthFormatError(f"{path}: refers to {_short(arg)}, which a plain tensor state dict does not; refusing it")
        stack.append(("global", arg))
      elif name == "BINPERSID":
        stack.append(persistent_load(pop(), where()))
      elif name == "REDUCE":
        fn, args = pop(2)
        if not isinstance(args, tuple):
          raise PthFormatError(f"{path}: {where()}: call arguments are a {type(args).__name__}, not a tuple")
        if fn == ("global", "collections OrderedDict"):
          stack.append({})
        elif fn[0] == "global" and fn[1] in _REBUILD_TENSOR:
          if len(args) < 4 or not isinstance(args[0], storage_type):
            raise PthFormatError(f"{path}: {where()}: {fn[1].split()[-1]} needs (storage, offset, size, stride)")
          stack.append(rebuild(args[0], *args[1:4], where()))
        elif fn == ("global", "torch._utils _rebuild_parameter"):
          if not args or not isinstance(args[0], (np.ndarray, _LazyTensor)):
            raise PthFormatError(f"{path}: {where()}: _rebuild_parameter needs a tensor")
          stack.append(args[0])
        else:
          raise PthFormatError(f"{path}: {where()}: cannot rebuild {_short(fn)}")
      elif name == "SETITEM":
        k, v = pop(2)
        top(dict, "SETITEM")[k] = v
      elif name == "SETITEMS":
        items = pop_mark()
        if len(items) % 2:
          raise PthFormatError(f"{path}: {where()}: SETITEMS with an odd number of items; the file is damaged")
        d = top(dict, "SETITEMS")
        for k, v in zip(items[::2], items[1::2], strict=True):
          d[k] = v
      elif name in ("APPEND", "APPENDS"):
        items = [pop()] if name == "APPEND" else pop_mark()
        top(list, name).extend(items)
      elif name == "BUILD":
        pop()  # object state, e.g. the state dict's _metadata: not needed
        if not stack:
          raise PthFormatError(f"{path}: {where()}: BUILD has no object to build; the file is damaged")
      elif name == "STOP":
        result = pop()
        break
      else:
        raise PthFormatError(f"{path}: pickle opcode {name} is not used by tensor state dicts; refusing the file")
  except PthFormatError:
    raise
  except _PARSE_ERRORS as e:
    raise PthFormatError(f"{path}: damaged torch.save file at {where()}: {type(e).__name__}: {e!s:.200}") from e
  if result is None:
    raise PthFormatError(f"{path}: {what} ends without a result; the file is truncated")
  return result


def _state_dict(result, path: str) -> dict[str, np.ndarray]:
  """The {name: array} of what the file holds (a state dict, or a checkpoint dict with one under 'state_dict')."""
  if isinstance(result, dict) and "state_dict" in result and isinstance(result["state_dict"], dict):
    result = result["state_dict"]
  if not isinstance(result, dict):
    raise PthFormatError(f"{path}: holds a {type(result).__name__}, not a dict of tensors")
  bad = [k for k, v in result.items() if isinstance(v, np.ndarray) and not isinstance(k, str)]
  if bad:
    raise PthFormatError(f"{path}: tensor names must be strings, found {_short(bad[0])}")
  return {k: v for k, v in result.items() if isinstance(v, np.ndarray)}
