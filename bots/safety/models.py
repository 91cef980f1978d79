"""Safe loaders for uploaded models: skops with an explicit list of trusted types, ONNX via onnxruntime.

Nothing here unpickles. A file in any other format is refused with `UnsafeModel` before a loader
touches it. Error messages are written for the uploader: they name the problem and what to export
to, and never contain a traceback or the file's bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import onnx_scan
from .sniff import refusal, sniff_format

FRAMEWORKS = ("tensorflow", "pytorch", "sklearn", "xgboost", "lightgbm", "onnx")
ONNX_FRAMEWORKS = ("tensorflow", "pytorch", "xgboost", "lightgbm", "onnx")

# Every type a skops file may contain. Each estimator below is round-tripped by
# bots/tests/test_safety.py; the internal types are exactly what those estimators store
# (found by dumping each fitted estimator and listing its schema's types).
TRUSTED_SKOPS_TYPES: list[str] = [
    # containers and scalars skops writes for estimator attributes (it stores ints, floats, bools
    # and None as JSON under "builtins.str")
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.str",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.float32",
    "numpy.int64",
    "numpy.uint64",
    "numpy.random.mtrand.RandomState",
    "numpy.random._generator.Generator",
    # estimators and transformers
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._base.LinearRegression",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._classes.DecisionTreeRegressor",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.ensemble._forest.RandomForestRegressor",
    "sklearn.ensemble._gb.GradientBoostingClassifier",
    "sklearn.ensemble._gb.GradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    # internals those estimators hold: fitted trees, losses and links, binning, init estimators
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.dummy.DummyClassifier",
    "sklearn.dummy.DummyRegressor",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss._loss.CyHalfMultinomialLoss",
    "sklearn._loss._loss.CyHalfSquaredError",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.MultinomialLogit",
]


class ModelLoadError(Exception):
    """The model could not be loaded; the message is safe to show to the uploader."""


class UnsafeModel(ModelLoadError):
    """The file is in a format, or holds a type, that could run code when loaded."""


# -- skops ------------------------------------------------------------------------------------------


def skops_types(data: bytes) -> list[str]:
    """Every type (and bound method) named in a skops file's schema, read as JSON without loading."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, RecursionError, EOFError, NotImplementedError):
        raise ModelLoadError("This is not a readable skops file (schema.json is missing or broken).") from None
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            module, cls = node.get("__module__"), node.get("__class__")
            if isinstance(module, str) and isinstance(cls, str):
                found.add(f"{module}.{cls}")
                content = node.get("content")
                if node.get("__loader__") == "MethodNode" and isinstance(content, dict):
                    # a bound method is looked up by name on its object: trust it only if listed itself
                    found.add(f"{module}.{cls}.{content.get('func')}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(found)


def _refuse_untrusted(untrusted: list[str]) -> None:
    if untrusted:
        names = ", ".join(sorted(set(untrusted)))
        raise UnsafeModel(
            f"The skops file contains types that are not trusted: {names}. Only scikit-learn estimators on the "
            "platform's list can be uploaded (linear models, trees, forests, gradient boosting, scalers, pipelines)."
        )


def load_skops(data: bytes, *, trusted: Sequence[str] = TRUSTED_SKOPS_TYPES) -> Any:
    """Load a scikit-learn model from skops bytes, refusing any type outside `trusted`.

    Two independent checks must both pass: every type named in the file's schema is in `trusted`
    (our own reading of the schema), and skops' own audit (`get_untrusted_types`) finds nothing
    outside `trusted`. Only then does `skops.io.loads` construct anything.
    """
    import skops.io as sio  # imported here: sklearn is slow to import and most callers never need it

    fmt = sniff_format(data)
    if fmt != "skops":
        raise UnsafeModel(refusal(fmt)) if fmt != "onnx" else ModelLoadError("This is an ONNX model, not skops.")
    allowed = set(trusted)
    present = skops_types(data)
    _refuse_untrusted([name for name in present if name not in allowed])
    try:
        audited = sio.get_untrusted_types(data=data)
    except Exception:
        raise ModelLoadError(
            "The skops file could not be read (it is corrupt or from an unsupported skops version)."
        ) from None
    _refuse_untrusted([name for name in audited if name not in allowed])
    try:
        model = sio.loads(data, trusted=present)
    except Exception as exc:
        raise ModelLoadError(f"The skops file could not be loaded ({type(exc).__name__}).") from None
    if not callable(getattr(model, "predict", None)):
        raise ModelLoadError(f"The skops file holds a {type(model).__name__}, which has no predict().")
    return model


# -- ONNX -------------------------------------------------------------------------------------------


class OnnxModel:
    """A scikit-learn-like face over an onnxruntime session: `predict(X)` and, if the graph has a
    probabilities output, `predict_proba(X)`. Inputs are cast to float32 (what exporters emit)."""

    def __init__(self, session: Any) -> None:
        self.session = session
        inputs = session.get_inputs()
        if len(inputs) != 1:
            raise ModelLoadError(f"ONNX models must take exactly one input tensor; this one takes {len(inputs)}.")
        self.input_name: str = inputs[0].name
        self.input_shape: list[Any] = list(inputs[0].shape or [])
        self.output_names: list[str] = [output.name for output in session.get_outputs()]
        self._proba_name = next((name for name in self.output_names if "prob" in name.lower()), None)
        label = next((name for name in self.output_names if "label" in name.lower()), None)
        self._predict_name = label or next((n for n in self.output_names if n != self._proba_name), None)
        self._predict_name = self._predict_name or self.output_names[0]
        if self._proba_name is None:
            # no probabilities output: hide predict_proba so callers can test for it with hasattr
            self.predict_proba = None  # type: ignore[method-assign]

    def _run(self, X: Any, output: str) -> Any:
        values = np.asarray(X, dtype=np.float32)
        if values.ndim == 1:
            values = values.reshape(1, -1)
        return self.session.run([output], {self.input_name: values})[0]

    def predict(self, X: Any) -> np.ndarray:
        result = np.asarray(self._run(X, self._predict_name))
        if result.ndim == 2 and result.shape[1] == 1:
            result = result[:, 0]
        return result

    def predict_proba(self, X: Any) -> np.ndarray:  # replaced by None when the graph has no probabilities
        result = self._run(X, self._proba_name)
        if isinstance(result, list):
            # skl2onnx's ZipMap output: one {class: probability} dict per row
            keys = sorted(result[0]) if result else []
            return np.asarray([[row[k] for k in keys] for row in result], dtype=np.float64)
        return np.asarray(result, dtype=np.float64)


def onnx_session(data: bytes, *, optimize: bool = True) -> Any:
    """An onnxruntime session over ONNX bytes on the CPU, one thread, no external data."""
    import onnxruntime as ort

    ort.disable_telemetry_events()  # a worker has no business reporting to anyone
    ort.set_default_logger_severity(3)
    try:
        external = onnx_scan.external_tensors(data)
    except onnx_scan.ProtobufError:
        raise ModelLoadError("This is not a readable ONNX model (the protobuf is malformed).") from None
    if external:
        # onnxruntime would read these from the server's disk: refuse rather than resolve them
        raise UnsafeModel(
            f"The ONNX model keeps tensor data in external files ({', '.join(external[:5])}); "
            "save it as a single file (onnx.save_model(..., save_as_external_data=False))."
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # a model must not take every core of a worker
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        # onnxruntime's messages carry source paths and internals: keep only the gist
        gist = str(exc).split(":")[-1].strip()[:200]
        raise ModelLoadError(f"onnxruntime could not load the model: {gist or type(exc).__name__}") from None


def load_onnx(data: bytes) -> OnnxModel:
    """An `OnnxModel` (predict / predict_proba) over ONNX bytes."""
    fmt = sniff_format(data)
    if fmt != "onnx":
        raise UnsafeModel(refusal(fmt)) if fmt != "skops" else ModelLoadError("This is a skops file, not ONNX.")
    return OnnxModel(onnx_session(data))


# -- dispatch ---------------------------------------------------------------------------------------


def load_model(*, framework: str, data: bytes) -> Any:
    """Load an uploaded model for `framework`: sklearn as skops (or ONNX), every other framework as ONNX.

    Raises UnsafeModel for a format that could run code (pickle, joblib, .pt, .h5 ...) and
    ModelLoadError for anything else that cannot be loaded.
    """
    if framework not in FRAMEWORKS:
        raise ModelLoadError(f"Unknown framework {framework!r}; expected one of {', '.join(FRAMEWORKS)}.")
    fmt = sniff_format(data)
    if fmt == "onnx":
        return load_onnx(data)
    if fmt == "skops":
        if framework != "sklearn":
            raise UnsafeModel(f"skops files are accepted for scikit-learn models only; export {framework} to ONNX.")
        return load_skops(data)
    raise UnsafeModel(refusal(fmt))


def load_model_file(data: bytes) -> Any:
    """Load a model by what its bytes are (skops or ONNX); used by the sandbox for a bot's model files."""
    fmt = sniff_format(data)
    if fmt == "skops":
        return load_skops(data)
    if fmt == "onnx":
        return load_onnx(data)
    raise UnsafeModel(refusal(fmt))
