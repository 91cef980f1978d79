"""A minimal read-only walk of an ONNX ModelProto's protobuf wire format.

Why: onnxruntime resolves a tensor's *external data* location against the current directory when a
model is loaded from bytes, so an uploaded model could pull any readable file of the worker into a
tensor (and out through its predictions). The `onnx` package that could inspect the model is a dev
dependency only, so this walks the few messages that can hold a TensorProto and reports every
tensor stored outside the file. It decodes wire format only; nothing is executed.
"""

from __future__ import annotations

# Field numbers from onnx.proto3 (stable since IR version 3).
_MODEL_IR_VERSION, _MODEL_GRAPH, _MODEL_TRAINING_INFO, _MODEL_FUNCTIONS = 1, 7, 20, 25
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_SPARSE_INITIALIZER = 1, 5, 15
_NODE_ATTRIBUTE = 5
_ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS, _ATTR_SPARSE, _ATTR_SPARSES = 5, 6, 10, 11, 22, 23
_SPARSE_VALUES, _SPARSE_INDICES = 1, 2
_TENSOR_NAME, _TENSOR_EXTERNAL_DATA, _TENSOR_DATA_LOCATION = 8, 13, 14
_TRAINING_INIT, _TRAINING_ALGO = 1, 2
_FUNCTION_NODE = 7
_EXTERNAL = 1

_MAX_DEPTH = 64  # subgraphs nest (If/Loop bodies); a deeper file is hostile or broken


class ProtobufError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(data: bytes | memoryview) -> list[tuple[int, int, int | memoryview]]:
    """(field number, wire type, value) of every field of one message; raises ProtobufError.

    Sub-messages come back as zero-copy memoryviews: a model's weights are never duplicated.
    """
    data = memoryview(data)
    out: list[tuple[int, int, int | memoryview]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, wire, value))
        elif wire == 1:
            if pos + 8 > len(data):
                raise ProtobufError("truncated fixed64")
            out.append((number, wire, data[pos : pos + 8]))
            pos += 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("truncated length-delimited field")
            out.append((number, wire, data[pos : pos + length]))
            pos += length
        elif wire == 5:
            if pos + 4 > len(data):
                raise ProtobufError("truncated fixed32")
            out.append((number, wire, data[pos : pos + 4]))
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
    return out


def _messages(data: memoryview | bytes, number: int) -> list[memoryview]:
    return [value for n, wire, value in fields(data) if n == number and wire == 2 and isinstance(value, memoryview)]


def _tensor(data: memoryview, found: list[str]) -> None:
    name = "?"
    external = False
    for number, wire, value in fields(data):
        if number == _TENSOR_NAME and wire == 2 and isinstance(value, memoryview):
            name = bytes(value).decode("utf-8", "replace")
        elif number == _TENSOR_EXTERNAL_DATA or (number == _TENSOR_DATA_LOCATION and value == _EXTERNAL):
            external = True
    if external:
        found.append(name)


def _sparse(data: memoryview, found: list[str]) -> None:
    for part in (_SPARSE_VALUES, _SPARSE_INDICES):
        for tensor in _messages(data, part):
            _tensor(tensor, found)


def _nodes(nodes: list[memoryview], found: list[str], depth: int) -> None:
    for node in nodes:
        for attribute in _messages(node, _NODE_ATTRIBUTE):
            for number, wire, value in fields(attribute):
                if wire != 2 or not isinstance(value, memoryview):
                    continue
                if number in (_ATTR_T, _ATTR_TENSORS):
                    _tensor(value, found)
                elif number in (_ATTR_SPARSE, _ATTR_SPARSES):
                    _sparse(value, found)
                elif number in (_ATTR_G, _ATTR_GRAPHS):
                    _graph(value, found, depth + 1)


def _graph(data: memoryview, found: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ProtobufError("subgraphs nested too deeply")
    for tensor in _messages(data, _GRAPH_INITIALIZER):
        _tensor(tensor, found)
    for sparse in _messages(data, _GRAPH_SPARSE_INITIALIZER):
        _sparse(sparse, found)
    _nodes(_messages(data, _GRAPH_NODE), found, depth)


def external_tensors(data: bytes) -> list[str]:
    """Names of the tensors of an ONNX model whose data lives outside the file (raises ProtobufError)."""
    found: list[str] = []
    for graph in _messages(data, _MODEL_GRAPH):
        _graph(graph, found, 0)
    for info in _messages(data, _MODEL_TRAINING_INFO):
        for part in (_TRAINING_INIT, _TRAINING_ALGO):
            for graph in _messages(info, part):
                _graph(graph, found, 0)
    for function in _messages(data, _MODEL_FUNCTIONS):
        _nodes(_messages(function, _FUNCTION_NODE), found, 0)
    return found


def looks_like_onnx(data: bytes) -> bool:
    """A well-formed protobuf with an IR version and a graph: the shape of an ONNX ModelProto."""
    try:
        top = fields(data)
    except ProtobufError:
        return False
    numbers = {number for number, _wire, _value in top}
    return _MODEL_IR_VERSION in numbers and _MODEL_GRAPH in numbers
