"""Every Kafka compression codec is installed, and a consumer refuses to start without one (it would stall)."""

from __future__ import annotations

import pytest
from kafka import codec

from workers.core.errors import WirewatchError
from workers.infra.kafka import CODECS, missing_codecs, require_codecs


def test_every_codec_kafka_has_is_installed() -> None:
    assert set(CODECS) == {"lz4", "zstd", "snappy"}
    assert missing_codecs() == []
    require_codecs()


@pytest.mark.parametrize("name", sorted(CODECS))
def test_a_missing_codec_refuses_to_consume_naming_its_package(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    package, has = CODECS[name]
    monkeypatch.setattr(codec, has, lambda: False)
    with pytest.raises(WirewatchError, match=f"{name} \\(pip install {package}\\).*stall"):
        require_codecs()
