"""One strict reading of what clients send, before GraphQL sees it, for every transport:
UTF-8, bounded JSON (nesting, numbers, no lone surrogates), and the shape of a GraphQL
request. Anything else is a `MalformedRequest` with a sentence that is safe to show."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Longest number literal accepted (digits, sign, point and exponent). GraphQL's Int is 32
# bits and Float a double; Python refuses to read integers over 4,300 digits anyway.
MAX_NUMBER_CHARS = 100


class MalformedRequest(ValueError):
    """The request is not what the transport expects; the message says how."""


def _number(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise MalformedRequest(
            f"A number in the JSON is longer than {MAX_NUMBER_CHARS} characters."
        )


def _int(text: str) -> int:
    _number(text)
    return int(text)


def _float(text: str) -> float:
    _number(text)
    value = float(text)
    if not math.isfinite(value):
        raise MalformedRequest("A number in the JSON is out of range.")
    return value


def _constant(name: str) -> Any:
    raise MalformedRequest(f"`{name}` is not JSON.")


def _check_nesting(value: object, max_depth: int, surrogates: bool) -> None:
    """Depth (and, where escapes could have made them, lone surrogates), without recursion."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
            if surrogates:
                stack.extend((key, depth) for key in item)
        elif isinstance(item, list):
            children = item
        else:
            if surrogates and isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise MalformedRequest("A JSON string holds a lone surrogate.") from None
            continue
        if depth > max_depth:
            raise MalformedRequest(f"The JSON is nested more than {max_depth} levels deep.")
        stack.extend((child, depth + 1) for child in children)


def loads(data: bytes | str, *, max_depth: int) -> object:
    """JSON from a client: strict UTF-8, at most `max_depth` levels of arrays and objects,
    numbers of a sane length and finite, strings that encode back to UTF-8."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedRequest("The request is not valid UTF-8.") from None
    else:
        text = data
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise MalformedRequest(
            f"The request is not valid JSON: {error.msg} (line {error.lineno}, "
            f"column {error.colno})."
        ) from None
    except RecursionError:  # the C parser stops at the interpreter's recursion limit
        raise MalformedRequest(f"The JSON is nested more than {max_depth} levels deep.") from None
    surrogates = "\\ud" in text or "\\uD" in text
    if surrogates or text.count("[") + text.count("{") > max_depth:
        _check_nesting(value, max_depth, surrogates)
    return value


@dataclass(frozen=True)
class Operation:
    """One GraphQL request, as every transport carries it."""

    query: str | None  # None only for a persisted operation (named by its hash)
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None
    document_id: str | None = None


def operation(data: object, where: str = "The request") -> Operation:
    """The `{query, variables, operationName, extensions, documentId}` object of a request;
    other keys are ignored, as the GraphQL-over-HTTP spec allows. `query` may be left out
    only by a persisted operation: `documentId`, or `extensions.persistedQuery`."""
    if not isinstance(data, dict):
        raise MalformedRequest(f"{where} must be a JSON object with a `query` string.")
    query = data.get("query")
    for key in ("variables", "extensions"):
        if not isinstance(data.get(key), (dict, type(None))):
            raise MalformedRequest(f"{where}: `{key}` must be an object or null.")
    for key in ("operationName", "documentId"):
        if not isinstance(data.get(key), (str, type(None))):
            raise MalformedRequest(f"{where}: `{key}` must be a string or null.")
    extensions, document_id = data.get("extensions"), data.get("documentId")
    if query is None and document_id is None and "persistedQuery" not in (extensions or {}):
        raise MalformedRequest(f"{where} has no `query`.")
    if not isinstance(query, (str, type(None))):
        raise MalformedRequest(f"{where}: `query` must be a string.")
    return Operation(
        query, data.get("variables"), data.get("operationName"), extensions, document_id
    )


def query_params(params: Mapping[str, object], *, max_depth: int) -> dict[str, Any]:
    """A GET request's parameters as a request object: `variables` and `extensions` are
    JSON text, empty meaning absent."""
    data: dict[str, Any] = {k: v for k, v in params.items() if isinstance(v, str)}
    for key in ("variables", "extensions"):
        text = data.get(key)
        data[key] = loads(text, max_depth=max_depth) if text else None
    if not data.get("operationName"):
        data["operationName"] = None
    return data


def _index(step: str) -> int:
    return int(step) if step.isascii() and step.isdigit() and len(step) < 10 else 1 << 62


def place_files(operations: object, files_map: object, files: Mapping[str, object]) -> object:
    """The multipart request spec's `map` applied to `operations`: each path must lead,
    through objects and arrays, to an existing null placeholder; `files` holds the parts
    that are files (and only those)."""
    if not isinstance(files_map, dict):
        raise MalformedRequest("`map` must be an object of file field names to path lists.")
    for name, paths in files_map.items():
        if name not in files:
            raise MalformedRequest(f"`map` names a file `{name}` that the request lacks.")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise MalformedRequest(f"`map[{name!r}]` must be a list of paths.")
        for path in paths:
            *steps, last = path.split(".")
            target: Any = operations
            for step in [*steps, last]:
                container = target
                if isinstance(container, dict) and step in container:
                    target = container[step]
                elif isinstance(container, list) and _index(step) < len(container):
                    target = container[int(step)]
                else:
                    raise MalformedRequest(f"`map` path {path!r} is not in `operations`.")
            if target is not None:
                raise MalformedRequest(f"`map` path {path!r} must point at a null placeholder.")
            if isinstance(container, dict):
                container[last] = files[name]
            else:
                container[int(last)] = files[name]
    return operations
