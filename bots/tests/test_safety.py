"""Upload inspection, safe model loaders and the static code check (no database, no sandbox)."""

from __future__ import annotations

import builtins
import io
import os
import pickle
import pickletools
import zipfile
from pathlib import Path

import joblib
import numpy as np
import onnx
import pytest
import skops.io as sio
from onnx import TensorProto, helper
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from bots.safety.code_check import check_code
from bots.safety.formats import inspect_upload
from bots.safety.models import (
    TRUSTED_SKOPS_TYPES,
    ModelLoadError,
    UnsafeModel,
    load_model,
    load_onnx,
    load_skops,
    skops_types,
)
from bots.safety.sniff import pickle_imports, sniff_format

MB = 1_000_000


# -- malicious pickles in every wrapper -------------------------------------------------------------


class Payload:
    """Unpickling this creates the directory `marker`: proof that loading ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _torch_zip(pickled: bytes) -> bytes:
    # the layout torch.save writes: <name>/data.pkl (a pickle), <name>/version, <name>/data/<n>
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model/data.pkl", pickled)
        archive.writestr("model/version", "3\n")
        archive.writestr("model/data/0", b"\x00" * 16)
    return buffer.getvalue()


def _keras_v3() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        config = '{"class_name": "Functional", "config": {"layers": [{"class_name": "Lambda", "module": "custom"}]}}'
        archive.writestr("config.json", config)
        archive.writestr("metadata.json", '{"keras_version": "3.0.0"}')
        archive.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    return buffer.getvalue()


def _joblib(obj: object, tmp_path: Path, **kwargs) -> bytes:
    path = tmp_path / "model.joblib"
    joblib.dump(obj, path, **kwargs)
    return path.read_bytes()


def _npy_object(obj: object) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([obj, 1], dtype=object), allow_pickle=True)
    return buffer.getvalue()


MALICIOUS = {
    "pickle protocol 0": ("pickle", lambda p, tmp: pickle.dumps(p, protocol=0)),
    "pickle protocol 2": ("pickle", lambda p, tmp: pickle.dumps(p, protocol=2)),
    "pickle protocol 5": ("pickle", lambda p, tmp: pickle.dumps(p, protocol=5)),
    "joblib": ("pickle", lambda p, tmp: _joblib(p, tmp)),
    "joblib zlib": ("joblib", lambda p, tmp: _joblib(p, tmp, compress=3)),
    "joblib gzip": ("joblib", lambda p, tmp: _joblib(p, tmp, compress=("gzip", 3))),
    "torch .pt zip": ("pytorch", lambda p, tmp: _torch_zip(pickle.dumps(p, protocol=2))),
    "numpy object array": ("npy_object", lambda p, tmp: _npy_object(p)),
    "keras .h5": ("keras_h5", lambda p, tmp: b"\x89HDF\r\n\x1a\n" + pickle.dumps(p)),
    "keras .keras": ("keras_v3", lambda p, tmp: _keras_v3()),
}


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "payload-ran"


def test_the_payload_is_real(marker: Path):
    # the test pickles really would create the marker (checked by decoding the opcodes, not loading)
    imports = pickle_imports(pickle.dumps(Payload(marker), protocol=2))
    assert any(name.endswith("mkdir") for name in imports), imports


@pytest.mark.parametrize("case", list(MALICIOUS))
@pytest.mark.parametrize("framework", ["sklearn", "pytorch", "onnx"])
def test_malicious_files_are_refused_and_never_run(case: str, framework: str, marker: Path, tmp_path: Path):
    expected_format, build = MALICIOUS[case]
    data = build(Payload(marker), tmp_path)

    # named like a safe format on purpose: the bytes decide, not the extension
    verdict = inspect_upload(file_type="MODEL", framework=framework, filename="model.onnx", data=data, max_bytes=MB)

    assert not verdict.ok
    assert verdict.format == expected_format
    assert "skops" in verdict.message and "ONNX" in verdict.message
    assert verdict.size == len(data) and len(verdict.sha256) == 64
    with pytest.raises(UnsafeModel) as refused:
        load_model(framework=framework, data=data)
    assert "ONNX" in str(refused.value)
    with pytest.raises(UnsafeModel):
        load_skops(data)
    with pytest.raises(UnsafeModel):
        load_onnx(data)
    assert not marker.exists()


def test_pickle_refusal_says_what_it_would_import(marker: Path):
    verdict = inspect_upload(
        file_type="WEIGHTS", framework="pytorch", filename="w.bin", data=pickle.dumps(Payload(marker)), max_bytes=MB
    )
    assert not verdict.ok
    assert any("mkdir" in name for name in verdict.details["imports"])
    assert "Pickle files can run code" in verdict.message
    assert not marker.exists()


def test_a_pickle_uploaded_as_code_or_config_is_refused(marker: Path):
    data = pickle.dumps(Payload(marker), protocol=0)
    for file_type in ("CODE", "CONFIG", "DATA"):
        verdict = inspect_upload(file_type=file_type, framework="", filename="bot.py", data=data, max_bytes=MB)
        assert not verdict.ok and verdict.format == "pickle"
    assert not marker.exists()


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b'{"learner": {"gradient_booster": {}}, "version": [2, 0, 0]}', "xgboost_json"),
        (b"tree\nversion=v4\nnum_class=1\n", "lightgbm_text"),
        (
            len(b'{"w": {"dtype": "F32"}}').to_bytes(8, "little") + b'{"w": {"dtype": "F32"}}' + b"\x00" * 8,
            "safetensors",
        ),
    ],
)
def test_native_boosted_tree_and_weight_files_are_refused_with_export_advice(data: bytes, fmt: str):
    verdict = inspect_upload(file_type="MODEL", framework="xgboost", filename="m", data=data, max_bytes=MB)
    assert (verdict.ok, verdict.format) == (False, fmt)
    assert "ONNX" in verdict.message


# -- skops ------------------------------------------------------------------------------------------


def _xy(task: str, classes: int = 2):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1).astype(int) * (classes - 2) if task == "clf" else X @ [1, 2, 0, -1]
    return X, y


TRUSTED_ESTIMATORS = {
    "LogisticRegression": (lambda: LogisticRegression(), "clf"),
    "Pipeline(StandardScaler, LogisticRegression)": (
        lambda: Pipeline([("scale", StandardScaler()), ("logit", LogisticRegression())]),
        "clf",
    ),
    "LinearRegression": (lambda: LinearRegression(), "reg"),
    "Ridge": (lambda: Ridge(), "reg"),
    "DecisionTreeClassifier": (lambda: DecisionTreeClassifier(max_depth=3), "clf"),
    "DecisionTreeRegressor": (lambda: DecisionTreeRegressor(max_depth=3), "reg"),
    "RandomForestClassifier": (lambda: RandomForestClassifier(n_estimators=3, random_state=0), "clf"),
    "RandomForestRegressor": (lambda: RandomForestRegressor(n_estimators=3, random_state=0), "reg"),
    "GradientBoostingClassifier": (lambda: GradientBoostingClassifier(n_estimators=3), "clf"),
    "GradientBoostingClassifier 3 classes": (lambda: GradientBoostingClassifier(n_estimators=3), "clf3"),
    "GradientBoostingRegressor": (lambda: GradientBoostingRegressor(n_estimators=3), "reg"),
    "HistGradientBoostingClassifier": (lambda: HistGradientBoostingClassifier(max_iter=3), "clf"),
    "HistGradientBoostingClassifier 3 classes": (lambda: HistGradientBoostingClassifier(max_iter=3), "clf3"),
    "HistGradientBoostingRegressor": (lambda: HistGradientBoostingRegressor(max_iter=3), "reg"),
}


@pytest.mark.parametrize("name", list(TRUSTED_ESTIMATORS))
def test_trusted_estimators_round_trip(name: str):
    make, task = TRUSTED_ESTIMATORS[name]
    X, y = _xy("reg" if task == "reg" else "clf", classes=3 if task == "clf3" else 2)
    model = make().fit(X, y)
    data = sio.dumps(model)

    loaded = load_skops(data)

    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert set(skops_types(data)) <= set(TRUSTED_SKOPS_TYPES)
    verdict = inspect_upload(file_type="MODEL", framework="sklearn", filename="m.skops", data=data, max_bytes=MB)
    assert verdict.ok and verdict.format == "skops" and verdict.details["estimator"] == type(model).__name__


def test_every_trusted_type_is_needed_by_a_listed_estimator():
    # the list is exactly what the estimators above store (float64 and float32 inputs): nothing extra
    used: set[str] = set()
    for make, task in TRUSTED_ESTIMATORS.values():
        X, y = _xy("reg" if task == "reg" else "clf", classes=3 if task == "clf3" else 2)
        for features in (X, X.astype(np.float32)):
            used |= set(skops_types(sio.dumps(make().fit(features, y))))
    assert used == set(TRUSTED_SKOPS_TYPES)


class Sneaky:
    """A class no one trusted."""


def _with_attribute(value: object) -> bytes:
    X, y = _xy("clf")
    model = LogisticRegression().fit(X, y)
    model.hook = value  # an estimator carrying a function/object reference
    return sio.dumps(model)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (builtins.eval, "builtins.eval"),
        (os.system, "posix.system"),
        (Sneaky(), "Sneaky"),
    ],
    ids=["builtins.eval", "os.system", "custom class"],
)
def test_skops_with_an_untrusted_type_is_refused_naming_it(value: object, named: str):
    data = _with_attribute(value)

    with pytest.raises(UnsafeModel) as refused:
        load_skops(data)
    assert named in str(refused.value)
    with pytest.raises(UnsafeModel):
        load_model(framework="sklearn", data=data)
    verdict = inspect_upload(file_type="MODEL", framework="sklearn", filename="m.skops", data=data, max_bytes=MB)
    assert not verdict.ok and named in verdict.message


def test_skops_untrusted_estimator_and_bound_method_are_refused():
    X, y = _xy("clf")
    with pytest.raises(UnsafeModel, match="FunctionTransformer"):
        load_skops(sio.dumps(FunctionTransformer(func=np.log1p).fit(X)))
    other = LogisticRegression().fit(X, y)
    with pytest.raises(UnsafeModel, match=r"LogisticRegression\.predict"):
        load_skops(_with_attribute(other.predict))


def test_skops_is_for_sklearn_only_and_a_broken_file_says_so_without_its_contents():
    data = _with_attribute(None)
    with pytest.raises(UnsafeModel, match="ONNX"):
        load_model(framework="pytorch", data=data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as original, zipfile.ZipFile(buffer, "w") as copy:
        for name in original.namelist():
            copy.writestr(name, b'{"secret": "hunter2", ' if name == "schema.json" else original.read(name))
    broken = buffer.getvalue()
    with pytest.raises(ModelLoadError) as failed:
        load_skops(broken)
    message = str(failed.value)
    assert "schema.json" in message and "hunter2" not in message and "Traceback" not in message


# -- ONNX -------------------------------------------------------------------------------------------


def _linear_onnx() -> bytes:
    """y = x @ [[1], [2], [3]] + 0.5, built by hand with onnx.helper."""
    weights = helper.make_tensor("W", TensorProto.FLOAT, [3, 1], [1.0, 2.0, 3.0])
    bias = helper.make_tensor("B", TensorProto.FLOAT, [1], [0.5])
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["XW"]), helper.make_node("Add", ["XW", "B"], ["Y"])],
        "linear",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 1])],
        initializer=[weights, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _classifier_onnx() -> bytes:
    """Two-class softmax classifier with `label` and `probabilities` outputs (skl2onnx's names)."""
    weights = helper.make_tensor("W", TensorProto.FLOAT, [2, 2], [1.0, -1.0, -1.0, 1.0])
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["X", "W"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
            helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
        ],
        "classifier",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 2])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2]),
        ],
        initializer=[weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def test_onnx_model_loads_and_predicts():
    data = _linear_onnx()
    assert sniff_format(data) == "onnx"

    model = load_model(framework="pytorch", data=data)

    np.testing.assert_allclose(model.predict([[1, 1, 1], [0, 0, 1]]), [6.5, 3.5])
    np.testing.assert_allclose(model.predict(np.array([2.0, 0.0, 0.0])), [2.5])  # one row as 1-D
    assert model.predict_proba is None  # no probabilities output
    verdict = inspect_upload(file_type="MODEL", framework="tensorflow", filename="x.onnx", data=data, max_bytes=MB)
    assert verdict.ok and verdict.details["input"] == "X" and verdict.details["outputs"] == ["Y"]


def test_onnx_classifier_has_predict_proba():
    model = load_onnx(_classifier_onnx())
    np.testing.assert_array_equal(model.predict([[2.0, 0.0], [0.0, 2.0]]), [0, 1])
    proba = model.predict_proba([[2.0, 0.0]])
    assert proba.shape == (1, 2) and proba[0, 0] > 0.9
    verdict = inspect_upload(
        file_type="WEIGHTS", framework="onnx", filename="c.onnx", data=_classifier_onnx(), max_bytes=MB
    )
    assert verdict.ok and verdict.details["has_proba"] is True


def test_onnx_with_external_data_is_refused_before_onnxruntime_reads_any_file(tmp_path: Path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"s3cr3t-token-value-0123456789abc")
    model = onnx.load_model_from_string(_linear_onnx())
    tensor = model.graph.initializer[0]
    tensor.ClearField("float_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", str(secret)), ("offset", "0"), ("length", "12")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    data = model.SerializeToString()

    with pytest.raises(UnsafeModel, match="external") as refused:
        load_onnx(data)
    assert "s3cr3t" not in str(refused.value)
    assert not inspect_upload(file_type="MODEL", framework="onnx", filename="m.onnx", data=data, max_bytes=MB).ok


def test_garbage_named_onnx_is_refused_without_echoing_it():
    data = b"\x08\x07" + b"password=hunter2 " * 10
    verdict = inspect_upload(file_type="MODEL", framework="onnx", filename="m.onnx", data=data, max_bytes=MB)
    assert not verdict.ok
    assert "hunter2" not in verdict.message
    with pytest.raises(ModelLoadError) as failed:
        load_model(framework="onnx", data=data)
    assert "hunter2" not in str(failed.value)


# -- size, code, config and data uploads -----------------------------------------------------------


def test_size_limit_and_empty_files():
    big = inspect_upload(file_type="MODEL", framework="onnx", filename="m", data=b"x" * 2001, max_bytes=2000)
    assert not big.ok and big.format == "too_large" and "limit" in big.message
    assert not inspect_upload(file_type="DATA", framework="", filename="d.csv", data=b"", max_bytes=10).ok


GOOD_BOT = """
from bots.sdk import Action, CustomBot, features


class Momentum(CustomBot):
    name = "Momentum"

    def __init__(self, config=None):
        super().__init__(config)
        self.warmup = 21

    def analyze_market(self, candles):
        signal = features.returns(candles["close"], 20).iloc[-1]
        price = float(candles["close"].iloc[-1])
        return Action.buy(price, "up") if signal > 0 else Action.hold("flat", price=price)
"""


def test_code_upload_is_checked_statically():
    ok = inspect_upload(file_type="CODE", framework="", filename="bot.py", data=GOOD_BOT.encode(), max_bytes=MB)
    assert ok.ok and ok.format == "python" and ok.details["class_name"] == "Momentum"
    bad = inspect_upload(file_type="CODE", framework="", filename="bot.py", data=b"import os\n", max_bytes=MB)
    assert not bad.ok and any("line 1" in problem for problem in bad.details["problems"])
    binary = inspect_upload(file_type="CODE", framework="", filename="bot.py", data=b"\x00\x01", max_bytes=MB)
    assert not binary.ok


def test_config_upload_must_be_a_json_object():
    assert inspect_upload(file_type="CONFIG", framework="", filename="c.json", data=b'{"fast": 5}', max_bytes=MB).ok
    for data in (b"fast: 5\n", b"[1, 2]", b"{"):
        assert not inspect_upload(file_type="CONFIG", framework="", filename="c.yaml", data=data, max_bytes=MB).ok


def test_data_upload_candles_and_plain_csv():
    sample = Path(__file__).resolve().parents[1] / "data" / "sample_btc_usdt_1h.csv"
    candles = b"".join(sample.read_bytes().splitlines(keepends=True)[:51])
    verdict = inspect_upload(file_type="DATA", framework="", filename="c.csv", data=candles, max_bytes=MB)
    assert verdict.ok and verdict.format == "candles_csv" and verdict.details["rows"] == 50
    bad_candles = b"timestamp,open,high,low,close,volume\n1,2,3,1,x,4\n2,2,3,1,2,4\n"
    verdict = inspect_upload(file_type="DATA", framework="", filename="c.csv", data=bad_candles, max_bytes=MB)
    assert not verdict.ok and "row 1" in verdict.message
    plain = inspect_upload(file_type="DATA", framework="", filename="d.csv", data=b"a,b\n1,2\n3,4\n", max_bytes=MB)
    assert plain.ok and plain.details["rows"] == 2
    ragged = inspect_upload(file_type="DATA", framework="", filename="d.csv", data=b"a,b\n1,2,3\n", max_bytes=MB)
    assert not ragged.ok and "Line 2" in ragged.message


# -- static code check ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("import os", "line 1: import of 'os' is not allowed"),
        ("from subprocess import run", "import from 'subprocess'"),
        ("import numpy.ctypeslib", None),
        ("x = ().__class__.__bases__[0].__subclasses__()", "'__subclasses__'"),
        ("x = eval('1 + 1')", "'eval' is not allowed"),
        ("f = exec", "'exec' is not allowed"),
        ("x = open('/etc/passwd').read()", "'open' is not allowed"),
        ("x = __import__('os')", "'__import__' is not allowed"),
        ("x = getattr(int, '__subclasses__')", "getattr()' of '__subclasses__'"),
        ("name = 'x'\nx = getattr(int, name)", "computed attribute name"),
        ("g = (lambda: 0).__globals__", "'__globals__'"),
        ("b = __builtins__", "'__builtins__'"),
        ("import numpy as np\nnp.ctypeslib.load_library('x', '.')", "'.ctypeslib'"),
        ("import pandas as pd\npd.read_pickle('x')", "'.read_pickle'"),
        ("from . import x", "relative imports"),
        ("from bots import models", "'bots.models'"),
        ("import bots.safety", "import of 'bots.safety'"),
    ],
)
def test_static_check_flags_dangerous_code(snippet: str, expected: str | None):
    report = check_code(snippet + "\n" + GOOD_BOT)
    assert not report.ok
    if expected:
        assert any(expected in problem for problem in report.problems), report.problems


def test_static_check_accepts_a_normal_bot_and_names_it():
    extra = "import math\nimport numpy as np\nimport pandas as pd\nfrom dataclasses import dataclass\n"
    report = check_code(extra + GOOD_BOT)
    assert report.ok, report.problems
    assert report.class_name == "Momentum"


def test_static_check_wants_exactly_one_bot_and_reports_syntax_errors_with_lines():
    assert "none found" in check_code("x = 1\n").problems[0]
    two = GOOD_BOT + "\n\nclass Other(CustomBot):\n    pass\n"
    assert "found 2: Momentum, Other" in check_code(two).problems[0]
    broken = check_code("class X(CustomBot):\n    def f(:\n")
    assert not broken.ok and broken.problems[0].startswith("line 2: syntax error")


def test_decoding_a_pickle_never_imports_it(marker: Path):
    # pickletools is what the inspector uses; make sure its decoding really is inert
    data = pickle.dumps(Payload(marker))
    list(pickletools.genops(data))
    assert sniff_format(data) == "pickle"
    assert not marker.exists()
