"""What an uploaded file really is, judged from its bytes (never from its name), without loading it.

Everything here only reads bytes: nothing is unpickled, imported, decompressed past a small bounded
prefix, or extracted. `sniff_format` names the format; `refusal` says why an unsafe one is refused and
what to export to instead.
"""

from __future__ import annotations

import bz2
import io
import json
import lzma
import pickletools
import zipfile
import zlib

from . import onnx_scan

# Formats that are plain data a safe loader can read.
SAFE_MODEL_FORMATS = ("skops", "onnx")

EXPORT_ADVICE = (
    "Export scikit-learn models with skops (skops.io.dump) and PyTorch / TensorFlow / Keras / XGBoost / "
    "LightGBM models to ONNX (torch.onnx.export, tf2onnx, onnxmltools)."
)

# Why each unsafe format is refused; every message ends with what to export to.
_REFUSALS = {
    "pickle": "Pickle files can run code when loaded and are refused.",
    "joblib": "joblib files are pickles (they can run code when loaded) and are refused.",
    "pytorch": "PyTorch .pt/.pth checkpoints contain a pickle (data.pkl) that can run code when loaded; refused.",
    "torchscript": "TorchScript archives contain pickles and code; refused.",
    "keras_h5": "Keras/HDF5 (.h5) models may carry custom objects and Lambda-layer bytecode; refused.",
    "keras_v3": "Keras .keras archives may reference custom objects and Python code; refused.",
    "tensorflow_savedmodel": "TensorFlow SavedModel archives are refused (they are not run on the platform).",
    "npy_object": "This .npy file holds Python objects (a pickle, needs allow_pickle); refused.",
    "npz": "numpy .npz archives are refused as models.",
    "xgboost_json": "XGBoost native model files are refused: the platform runs boosted trees as ONNX.",
    "xgboost_ubj": "XGBoost native model files are refused: the platform runs boosted trees as ONNX.",
    "xgboost_binary": "XGBoost native model files are refused: the platform runs boosted trees as ONNX.",
    "lightgbm_text": "LightGBM native model files are refused: the platform runs boosted trees as ONNX.",
    "safetensors": "safetensors holds weights without the network that uses them; refused.",
    "compressed": "Compressed files are refused (joblib/gzip/bz2/xz/lz4 wrappers usually hide a pickle).",
    "zip": "This zip archive is not a skops model; refused.",
    "tar": "Tar archives are refused.",
    "unknown": "The file is not a recognised model format.",
}

# Members that make a zip a PyTorch checkpoint or TorchScript archive (pickles inside).
_TORCH_MARKERS = ("data.pkl", "constants.pkl", "version")


def refusal(fmt: str) -> str:
    """The user-facing reason an upload in `fmt` is refused, with the format to export to."""
    return f"{_REFUSALS.get(fmt, _REFUSALS['unknown'])} {EXPORT_ADVICE}"


def is_pickle(data: bytes) -> bool:
    """True when `data` parses as a complete pickle opcode stream (any protocol).

    `pickletools.genops` only decodes opcodes; it never imports or calls anything.
    """
    if not data:
        return False
    if data[0] == 0x80 and len(data) > 1 and 2 <= data[1] <= 5:
        return True
    # Protocol 0/1 pickles have no header: they are a valid opcode stream ending with STOP ('.').
    if data.rstrip(b"\n")[-1:] != b".":
        return False
    try:
        for opcode, _arg, _pos in pickletools.genops(io.BytesIO(data)):  # noqa: S301 - decodes opcodes only, loads nothing
            if opcode.name == "STOP":
                return True
    except Exception:
        return False
    return False


def pickle_imports(data: bytes, *, limit: int = 20) -> list[str]:
    """The globals a pickle would import when loaded (for the refusal details), without loading it."""
    found: list[str] = []
    strings: list[str] = []
    try:
        for opcode, arg, _pos in pickletools.genops(io.BytesIO(data)):  # noqa: S301 - decodes opcodes only
            if opcode.name in ("GLOBAL", "INST") and isinstance(arg, str):
                found.append(arg.replace(" ", "."))
            elif opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8") and isinstance(arg, str):
                strings.append(arg)
            elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                found.append(f"{strings[-2]}.{strings[-1]}")
            if len(found) >= limit:
                break
    except Exception:  # noqa: S110 - a truncated stream still tells what it imported up to there
        pass
    return list(dict.fromkeys(found))


def _decompressed_prefix(data: bytes, size: int = 65536) -> bytes | None:
    """The first `size` bytes of a zlib/gzip/bz2/xz stream (bounded: a bomb cannot expand past it)."""
    try:
        if data[:2] in (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda"):
            return zlib.decompressobj().decompress(data, size)
        if data[:2] == b"\x1f\x8b":
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, size)
        if data[:3] == b"BZh":
            return bz2.BZ2Decompressor().decompress(data, size)
        if data[:6] == b"\xfd7zXZ\x00":
            return lzma.LZMADecompressor().decompress(data, size)
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError):
        return b""
    return None


def _is_compressed(data: bytes) -> bool:
    return _decompressed_prefix(data[:4096], 1) is not None or data[:4] == b"\x04\x22\x4d\x18"  # lz4 frame


def _zip_names(data: bytes) -> list[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None


def _zip_format(data: bytes) -> str:
    names = _zip_names(data)
    if names is None:
        return "zip"
    basenames = {name.rsplit("/", 1)[-1] for name in names}
    if any(name.endswith(".pkl") for name in basenames) or (
        "version" in basenames and any("/data/" in name for name in names)
    ):
        return "torchscript" if "constants.pkl" in basenames or any("/code/" in n for n in names) else "pytorch"
    if "schema.json" in names:
        return "skops"
    if "config.json" in names and ("model.weights.h5" in names or "metadata.json" in names):
        return "keras_v3"
    if any(name.endswith("saved_model.pb") for name in names):
        return "tensorflow_savedmodel"
    if names and all(name.endswith(".npy") for name in names):
        return "npz"
    return "zip"


def npy_header(data: bytes) -> dict | None:
    """The header dict of a .npy file ({'descr', 'fortran_order', 'shape'}), read without numpy's loader."""
    import ast

    if data[:6] != b"\x93NUMPY" or len(data) < 10:
        return None
    major = data[6]
    if major == 1:
        length, start = int.from_bytes(data[8:10], "little"), 10
    elif major in (2, 3):
        length, start = int.from_bytes(data[8:12], "little"), 12
    else:
        return None
    try:
        header = ast.literal_eval(data[start : start + length].decode("latin1"))
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        return None
    return header if isinstance(header, dict) else None


def _npy_is_object(header: dict) -> bool:
    # 'O' anywhere in the descr (structured dtypes too) means Python objects stored as a pickle.
    return "O" in repr(header.get("descr"))


def _json_model_format(data: bytes) -> str | None:
    head = data[:4096].lstrip()
    if not head.startswith(b"{"):
        return None
    if head[1:2] in (b"L", b"U", b"i", b"I", b"#", b"$") and b'"' not in head[:3]:
        return "xgboost_ubj"  # UBJSON: '{' then a length-typed key
    if b'"learner"' in head:
        return "xgboost_json"
    return None


def sniff_format(data: bytes) -> str:
    """The real format of `data`: pickle, joblib, pytorch, torchscript, keras_h5, keras_v3,
    tensorflow_savedmodel, npy, npy_object, npz, skops, onnx, xgboost_json, xgboost_ubj,
    xgboost_binary, lightgbm_text, safetensors, compressed, zip, tar, or unknown."""
    if not data:
        return "unknown"
    if data[0] == 0x80 and len(data) > 1 and 2 <= data[1] <= 5:
        return "pickle"
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return _zip_format(data)
    if data[:8] == b"\x89HDF\r\n\x1a\n":
        return "keras_h5"
    if data[:6] == b"\x93NUMPY":
        header = npy_header(data)
        return "npy_object" if header is None or _npy_is_object(header) else "npy"
    if _is_compressed(data):
        inner = _decompressed_prefix(data)
        # joblib's compressed dumps are a pickle inside zlib/gzip/bz2/xz/lz4
        return "joblib" if inner and inner[:1] == b"\x80" else "compressed"
    if len(data) > 262 and data[257:262] == b"ustar":
        return "tar"
    if data[:4] == b"binf" or data[:4] == b"bs64":
        return "xgboost_binary"
    if data.lstrip()[:4] == b"tree" and b"version=v" in data[:256]:
        return "lightgbm_text"
    json_model = _json_model_format(data)
    if json_model:
        return json_model
    if _is_safetensors(data):
        return "safetensors"
    if is_pickle(data):
        return "pickle"
    if onnx_scan.looks_like_onnx(data):
        return "onnx"
    return "unknown"


def _is_safetensors(data: bytes) -> bool:
    if len(data) < 10:
        return False
    length = int.from_bytes(data[:8], "little")
    if not 2 <= length <= len(data) - 8 or data[8:9] != b"{":
        return False
    try:
        json.loads(data[8 : 8 + length])
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return True
