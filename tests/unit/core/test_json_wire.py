"""The wire JSON (orjson with the standard library behind it) reads and writes what ``json`` does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from workers.core.stories import StoryFormatError, compact_json, dataclass_json, load_json, read_json

VALUES = [
    {"title": "Ким Чен Ын прибыл в Россию", "hi": "उत्तर कोरिया", "ko": "북한", "n": [1, -2, 0, 2**63 - 1]},
    {"ctl": "tab\tnew\nline\x00nul\x1f", "quote": 'say "hi" \\ back', "sep": "\u2028\u2029", "emoji": "😀"},
    {"f": [0.1, 1.5, -0.0, 3.0], "b": [True, False, None], "empty": [{}, [], ""]},
]


@pytest.mark.parametrize("value", VALUES)
def test_written_as_the_standard_library_writes_it_compact(value: object) -> None:
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    assert compact_json(value) == expected
    assert load_json(compact_json(value)) == value
    assert read_json(compact_json(value).decode()) == value


def test_what_orjson_refuses_to_write_the_standard_library_writes() -> None:
    assert compact_json({1: "int key"}) == b'{"1":"int key"}'  # orjson wants str keys
    assert compact_json([2**64 + 1]) == b"[18446744073709551617]"  # past 64 bits


def test_a_dataclass_is_refused_as_json_refuses_it_but_dataclass_json_writes_its_fields() -> None:
    @dataclass
    class Hit:
        terms: list[str] = field(default_factory=lambda: ["Venäjän"])
        score: float = 1.0

    with pytest.raises(TypeError):
        compact_json(Hit())
    assert dataclass_json(Hit()) == b'{"terms":["Ven\xc3\xa4j\xc3\xa4n"],"score":1.0}'


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"t":"\\ud800x"}', {"t": "\ufffdx"}),  # a lone surrogate, valid JSON: orjson refuses it, we mend it
        (b'{"t":"\xed\xa0\x80"}', {"t": "\ufffd"}),  # its raw UTF-8 form
        (b"\xef\xbb\xbf[1]", [1]),  # a BOM
        ('{"t":"é"}'.encode("utf-16"), {"t": "é"}),  # another encoding json.loads detects
    ],
)
def test_what_orjson_refuses_to_read_the_standard_library_reads(raw: bytes, expected: object) -> None:
    assert load_json(raw) == expected


def test_nan_reads_as_json_reads_it() -> None:
    value = load_json(b"[NaN]")
    assert isinstance(value, list) and value[0] != value[0]
    assert read_json("[NaN]")[0] != read_json("[NaN]")[0]


@pytest.mark.parametrize("raw", [b"", b"{", b"not json", b"\xff\xfe\x00", b'{"a":1}x'])
def test_what_is_no_json_is_a_poison_message(raw: bytes) -> None:
    with pytest.raises(StoryFormatError):
        load_json(raw)


def test_nesting_deeper_than_the_stack_is_a_bad_record_not_a_crash() -> None:
    from workers.alerter.outbox import Undecodable, decode

    deep = b"[" * 200_000 + b"]" * 200_000  # under Kafka's 1 MB, past both parsers' depth
    with pytest.raises(StoryFormatError):
        load_json(deep)
    with pytest.raises(ValueError):
        read_json(deep)
    assert isinstance(decode("msg_1", "desk", deep), Undecodable), "an outbox item that deep is dead-lettered"
