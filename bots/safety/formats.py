"""`inspect_upload`: the verdict on an uploaded bot file, decided from its bytes before it is stored.

The real format comes from the bytes (magic numbers, archive members, opcode streams), never from the
file name. Unsafe formats are refused with a message saying what to export to; safe ones are
validated by loading them with the safe loaders (skops with trusted types, onnxruntime), never by
unpickling.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

from .code_check import check_code
from .models import FRAMEWORKS, ModelLoadError, OnnxModel, load_skops, onnx_session
from .sniff import EXPORT_ADVICE, npy_header, pickle_imports, refusal, sniff_format

FILE_TYPES = ("CODE", "MODEL", "WEIGHTS", "CONFIG", "DATA")
_BINARY_FORMATS = {"pickle", "joblib", "pytorch", "torchscript", "keras_h5", "keras_v3", "npy_object", "npz", "skops"}
_CANDLE_COLUMNS = {"open", "high", "low", "close"}
_TIME_COLUMNS = {"timestamp", "time", "date", "datetime"}
_MAX_CSV_COLUMNS = 200


@dataclass(frozen=True)
class Verdict:
    ok: bool
    format: str
    message: str
    sha256: str
    size: int
    details: dict[str, Any] = field(default_factory=dict)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def inspect_upload(*, file_type: str, framework: str, filename: str, data: bytes, max_bytes: int) -> Verdict:
    """Decide whether an uploaded file may be stored and used. Never executes or unpickles it.

    `filename` only shapes messages; the decision comes from the bytes.
    """
    digest = hashlib.sha256(data).hexdigest()
    size = len(data)

    def verdict(ok: bool, fmt: str, message: str, **details: Any) -> Verdict:
        return Verdict(ok=ok, format=fmt, message=message, sha256=digest, size=size, details=details)

    if file_type not in FILE_TYPES:
        return verdict(False, "unknown", f"Unknown file type {file_type!r}; expected one of {', '.join(FILE_TYPES)}.")
    if framework and framework not in FRAMEWORKS:
        return verdict(False, "unknown", f"Unknown framework {framework!r}; expected one of {', '.join(FRAMEWORKS)}.")
    if size == 0:
        return verdict(False, "empty", f"{filename or 'The file'} is empty.")
    if size > max_bytes:
        return verdict(
            False, "too_large", f"The file is {_mb(size)}; the limit for {file_type} files is {_mb(max_bytes)}."
        )

    fmt = sniff_format(data)
    if fmt in ("pickle", "joblib"):
        # what the pickle would import, to make the refusal concrete (decoded, never loaded)
        imports = pickle_imports(data) if fmt == "pickle" else []
        return verdict(False, fmt, refusal(fmt), imports=imports)
    if file_type in ("MODEL", "WEIGHTS"):
        return _inspect_model(fmt, framework=framework, data=data, verdict=verdict)
    if fmt in _BINARY_FORMATS or fmt == "onnx":
        return verdict(False, fmt, f"A {file_type} file must be text, but this is a {fmt} file. {refusal(fmt)}")
    if file_type == "CODE":
        return _inspect_code(data, verdict=verdict)
    if file_type == "CONFIG":
        return _inspect_config(data, verdict=verdict)
    return _inspect_data(data, verdict=verdict)


def _inspect_model(fmt: str, *, framework: str, data: bytes, verdict: Any) -> Verdict:
    if not framework:
        return verdict(False, fmt, "A model upload needs its framework (sklearn, pytorch, tensorflow, ...).")
    if fmt == "skops":
        if framework != "sklearn":
            return verdict(False, fmt, f"skops files are for scikit-learn models; export {framework} models to ONNX.")
        try:
            model = load_skops(data)
        except ModelLoadError as exc:
            return verdict(False, fmt, str(exc))
        details = {"estimator": type(model).__name__}
        if hasattr(model, "n_features_in_"):
            details["n_features"] = int(model.n_features_in_)
        if hasattr(model, "classes_"):
            details["classes"] = [c.item() if hasattr(c, "item") else c for c in model.classes_]
        return verdict(True, fmt, f"scikit-learn {details['estimator']} (skops), loaded with trusted types.", **details)
    if fmt == "onnx":  # every framework exports to ONNX (scikit-learn through skl2onnx)
        try:
            # optimizations off: we only check that onnxruntime accepts the graph
            wrapper = OnnxModel(onnx_session(data, optimize=False))
        except ModelLoadError as exc:
            return verdict(False, fmt, str(exc))
        details = {
            "input": wrapper.input_name,
            "input_shape": [d if isinstance(d, int) else str(d) for d in wrapper.input_shape],
            "outputs": wrapper.output_names,
            "has_proba": callable(wrapper.predict_proba),
        }
        return verdict(True, fmt, "ONNX model accepted by onnxruntime.", **details)
    if fmt == "npy":
        header = npy_header(data) or {}
        details = {"dtype": str(header.get("descr")), "shape": list(header.get("shape", ()))}
        return verdict(False, fmt, f"A bare numpy array is not a model. {EXPORT_ADVICE}", **details)
    return verdict(False, fmt, refusal(fmt))


def _text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _inspect_code(data: bytes, *, verdict: Any) -> Verdict:
    text = _text(data)
    if text is None:
        return verdict(False, "binary", "Bot code must be a UTF-8 Python source file.")
    report = check_code(text)
    if not report.ok:
        return verdict(
            False,
            "python",
            "The code was refused: " + "; ".join(report.problems),
            problems=report.problems,
            class_name=report.class_name,
        )
    return verdict(True, "python", f"Python source defining {report.class_name}.", class_name=report.class_name)


def _inspect_config(data: bytes, *, verdict: Any) -> Verdict:
    text = _text(data)
    if text is None:
        return verdict(False, "binary", "A config must be a UTF-8 JSON file.")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        where = f" (line {exc.lineno})" if hasattr(exc, "lineno") else ""
        return verdict(False, "text", f"A config must be JSON; this file does not parse{where}.")
    if not isinstance(value, dict):
        return verdict(False, "json", f"A config must be a JSON object, not a {type(value).__name__}.")
    return verdict(True, "json", "JSON config.", keys=sorted(value)[:50])


def _inspect_data(data: bytes, *, verdict: Any) -> Verdict:
    text = _text(data)
    if text is None:
        return verdict(False, "binary", "Data files must be UTF-8 CSV.")
    try:
        rows = csv.reader(io.StringIO(text))
        header = next(rows, None)
        if not header:
            return verdict(False, "csv", "The CSV is empty: expected a header row.")
        width = len(header)
        if width > _MAX_CSV_COLUMNS:
            return verdict(False, "csv", f"The CSV has {width} columns; at most {_MAX_CSV_COLUMNS} are accepted.")
        count = 0
        for number, row in enumerate(rows, start=2):
            if row and len(row) != width:
                return verdict(False, "csv", f"Line {number} has {len(row)} fields; the header has {width}.")
            count += bool(row)
    except csv.Error as exc:
        return verdict(False, "csv", f"The CSV could not be parsed: {exc}.")
    columns = {name.strip().lower().lstrip("\ufeff") for name in header}
    if columns >= _CANDLE_COLUMNS and columns & _TIME_COLUMNS:
        from bots.sdk.candles import read_candles_csv  # pandas: only for candle files

        try:
            frame = read_candles_csv(data)
        except ValueError as exc:
            return verdict(False, "candles_csv", f"Candle CSV refused: {exc}.")
        first, last = int(frame["timestamp"].iloc[0]), int(frame["timestamp"].iloc[-1])
        return verdict(True, "candles_csv", f"{len(frame)} candles.", rows=len(frame), first_ms=first, last_ms=last)
    return verdict(True, "csv", f"CSV with {count} rows and {width} columns.", rows=count, columns=header)
