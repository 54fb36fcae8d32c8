"""The message envelope: {"type": "dotted.name", "seq"?: int, "data": {...}} (and "id" from clients)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
# Client message ids are echoed back and stored; 100 characters is ample for a UUID and caps storage.
_MAX_ID = 100


def encode(type_: str, data: Any, *, seq: int | None = None) -> str:
    """Serialise once; the same text goes to every socket of a channel."""
    message: dict[str, Any] = {"type": type_}
    if seq is not None:
        message["seq"] = seq
    message["data"] = data
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def encode_around_seq(type_: str, data: Any) -> tuple[str, str]:
    """The text `encode(type_, data, seq=N)` would give, cut where N goes: a broker that assigns the
    seq itself (Redis, atomically with the log and the publish) puts it between the two halves."""
    head = '{"type":' + json.dumps(type_, ensure_ascii=False) + ',"seq":'
    tail = ',"data":' + json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "}"
    return head, tail


def envelope_seq(text: str) -> int | None:
    """The seq of an encoded server message, or None for a reply that carries none."""
    seq = json.loads(text).get("seq")
    return seq if isinstance(seq, int) else None


_SEQ_AT = re.compile(r'^\{"type":"[^"]*","seq":(\d+),')


def envelope_seq_fast(text: str) -> int | None:
    """envelope_seq for texts made by `encode` (type, then seq, first), without parsing the data."""
    found = _SEQ_AT.match(text)
    return int(found.group(1)) if found else None


class EnvelopeError(ValueError):
    def __init__(self, code: str, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id


@dataclass(frozen=True, slots=True)
class ClientMessage:
    type: str
    id: str | None
    data: Any


def decode_client(text: str) -> ClientMessage:
    """Parse a client message, or raise EnvelopeError with a code and a sentence."""
    try:
        raw = json.loads(text)
    except ValueError:
        raise EnvelopeError("malformed_json", "That message is not valid JSON.") from None
    if not isinstance(raw, dict):
        raise EnvelopeError("malformed_message", 'A message is a JSON object: {"type": ..., "data": ...}.')
    type_ = raw.get("type")
    if not isinstance(type_, str) or not _TYPE.match(type_):
        raise EnvelopeError("malformed_message", 'The message has no valid "type".')
    client_id = raw.get("id")
    if client_id is not None and (not isinstance(client_id, str) or not 0 < len(client_id) <= _MAX_ID):
        raise EnvelopeError("malformed_message", f'"id" must be a string of 1 to {_MAX_ID} characters.')
    return ClientMessage(type=type_, id=client_id, data=raw.get("data"))
