"""Unit tests of the pure protocol layer: every message round-trips; garbage is a ProtocolError."""

from __future__ import annotations

import dataclasses
import typing

import msgpack
import pytest

from scarab import protocol as p
from scarab.errors import ProtocolError


def sample(tp: typing.Any) -> typing.Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, __import__("types").UnionType):
        return sample(typing.get_args(tp)[0])
    if origin is list:
        return [sample(typing.get_args(tp)[0])]
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{f.name: sample(hints[f.name]) for f in dataclasses.fields(tp)})
    return {int: 7, str: "x", bytes: b"\x00\xff", bool: True, float: 1.5}.get(tp, 0)


@pytest.mark.parametrize("cls", list(p.MESSAGES.values()), ids=lambda c: c.__name__)
def test_every_message_round_trips(cls: type[p.Message]) -> None:
    msg = sample(cls)
    wire = p.encode(msg)
    (length,) = p.HEADER.unpack(wire[:4])
    assert length == len(wire) - 4
    assert p.decode(wire[4:]) == msg


def test_tags_are_unique() -> None:
    classes = [c for c in vars(p).values() if isinstance(c, type) and issubclass(c, p.Message) and c is not p.Message]
    assert len({c.TAG for c in classes}) == len(classes) == len(p.MESSAGES)


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        (b"\xc1\xc1garbage", "malformed"),
        (msgpack.packb({"a": 1}), "expected [tag"),
        (msgpack.packb([999, {}]), "unknown message tag 999"),
        (msgpack.packb([p.SessionDelete.TAG, {}]), "missing field"),
        (msgpack.packb([p.SessionDelete.TAG, {"target": 5}]), "expected str"),
        (msgpack.packb([p.SessionCreate.TAG, {"cols": True}]), "expected int"),
        (msgpack.packb([p.SessionCreate.TAG, {"bogus": 1}]), "unknown field"),
        (msgpack.packb([p.Input.TAG, {"target": "a", "data": "text not bytes"}]), "expected bytes"),
    ],
)
def test_bad_frames_raise_protocol_error(payload: bytes, needle: str) -> None:
    with pytest.raises(ProtocolError, match=None) as info:
        p.decode(payload)
    assert needle in str(info.value)
