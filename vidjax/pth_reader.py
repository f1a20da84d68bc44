"""Reads PyTorch `.pth` state dicts without torch and without unpickling.

A `torch.save` file is a zip: `data.pkl` describes the dict (names, dtypes, shapes,
strides, which raw storage file holds each tensor) and `data/<key>` holds the bytes.
Here `pickletools.genops` only *parses* data.pkl's opcodes; a small stack machine
interprets the handful that a state dict uses, and the only "globals" it accepts are
names (OrderedDict, _rebuild_tensor_v2, _rebuild_parameter, the storage types), never
imported or called. Anything else is refused with the opcode or name it met.
"""

from __future__ import annotations

import pickletools
import zipfile

import numpy as np

_STORAGES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16, "BFloat16Storage": None,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
    "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
_GLOBALS = {"collections OrderedDict", "torch._utils _rebuild_tensor_v2", "torch._utils _rebuild_parameter"} | {
    f"torch {s}" for s in _STORAGES}
_MARK = object()


class PthFormatError(ValueError):
  pass


def _tensor(storage, offset, size, stride, path) -> np.ndarray:
  raw, dtype = storage
  if dtype is None:
    raise PthFormatError(f"{path}: bfloat16 tensors are not supported; save the weights as float32")
  flat = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))  # torch.save writes little-endian
  itemsize = flat.itemsize
  needed = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True)) + 1 if size else offset + 1
  if needed > flat.size or min(stride, default=0) < 0:
    raise PthFormatError(f"{path}: a tensor of shape {tuple(size)} reaches past its storage; the file is damaged")
  if not size:
    return flat[offset:offset + 1].reshape(()).copy()
  view = np.lib.stride_tricks.as_strided(flat[offset:], shape=tuple(size),
                                         strides=tuple(s * itemsize for s in stride), writeable=False)
  return np.array(view)  # own the memory, C order


def read_pth(path: str) -> dict[str, np.ndarray]:
  """{name: array} from a zip-format torch.save of a (possibly nested under 'state_dict') tensor dict."""
  try:
    z = zipfile.ZipFile(path)
  except zipfile.BadZipFile as e:
    raise PthFormatError(f"{path}: not a zip-format torch.save file (legacy pre-1.6 format?); re-save it with "
                         "a recent torch, or convert it to .npz") from e
  with z:
    pkl = next((n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl"), None)
    if pkl is None:
      raise PthFormatError(f"{path}: no data.pkl inside; not a torch.save file")
    prefix = pkl[: -len("data.pkl")]
    stack: list = []
    memo: dict = {}

    def pop_mark():
      i = len(stack) - 1
      while stack[i] is not _MARK:
        i -= 1
      items = stack[i + 1:]
      del stack[i:]
      return items

    result = None
    for op, arg, _ in pickletools.genops(z.read(pkl)):
      name = op.name
      if name in ("PROTO", "FRAME"):
        continue
      if name in ("EMPTY_DICT",):
        stack.append({})
      elif name == "EMPTY_TUPLE":
        stack.append(())
      elif name == "EMPTY_LIST":
        stack.append([])
      elif name == "MARK":
        stack.append(_MARK)
      elif name in ("BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "BININT", "BININT1", "BININT2", "LONG1",
                    "BINFLOAT", "SHORT_BINSTRING", "BINSTRING"):
        stack.append(arg)
      elif name == "NONE":
        stack.append(None)
      elif name in ("NEWTRUE", "NEWFALSE"):
        stack.append(name == "NEWTRUE")
      elif name in ("BINPUT", "LONG_BINPUT", "MEMOIZE"):
        memo[arg if name != "MEMOIZE" else len(memo)] = stack[-1]
      elif name in ("BINGET", "LONG_BINGET"):
        stack.append(memo[arg])
      elif name == "TUPLE":
        stack.append(tuple(pop_mark()))
      elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
        n = int(name[-1])
        items = tuple(stack[-n:])
        del stack[-n:]
        stack.append(items)
      elif name == "GLOBAL":
        if arg not in _GLOBALS:
          raise PthFormatError(f"{path}: refers to {arg!r}, which a plain tensor state dict does not; refusing it")
        stack.append(("global", arg))
      elif name == "BINPERSID":
        pid = stack.pop()
        if not (isinstance(pid, tuple) and pid[0] == "storage"):
          raise PthFormatError(f"{path}: unexpected persistent id {pid!r}")
        _, (_, storage_type), key, _location, _numel = pid
        stype = storage_type.split()[-1]
        stack.append((z.read(f"{prefix}data/{key}"), _STORAGES[stype]))
      elif name == "REDUCE":
        args = stack.pop()
        fn = stack.pop()
        if fn == ("global", "collections OrderedDict"):
          stack.append({})
        elif fn == ("global", "torch._utils _rebuild_tensor_v2"):
          storage, offset, size, stride = args[:4]
          stack.append(_tensor(storage, offset, size, stride, path))
        elif fn == ("global", "torch._utils _rebuild_parameter"):
          stack.append(args[0])
        else:
          raise PthFormatError(f"{path}: cannot rebuild {fn!r}")
      elif name == "SETITEM":
        v = stack.pop()
        k = stack.pop()
        stack[-1][k] = v
      elif name == "SETITEMS":
        items = pop_mark()
        d = stack[-1]
        for k, v in zip(items[::2], items[1::2], strict=True):
          d[k] = v
      elif name in ("APPEND", "APPENDS"):
        items = [stack.pop()] if name == "APPEND" else pop_mark()
        stack[-1].extend(items)
      elif name == "BUILD":
        stack.pop()  # object state, e.g. the state dict's _metadata: not needed
      elif name == "STOP":
        result = stack.pop()
        break
      else:
        raise PthFormatError(f"{path}: pickle opcode {name} is not used by tensor state dicts; refusing the file")
  if isinstance(result, dict) and "state_dict" in result and isinstance(result["state_dict"], dict):
    result = result["state_dict"]
  if not isinstance(result, dict):
    raise PthFormatError(f"{path}: holds a {type(result).__name__}, not a dict of tensors")
  return {k: v for k, v in result.items() if isinstance(v, np.ndarray)}
