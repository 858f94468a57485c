"""What the finch-daemon emulation answers, from finch-daemon's source: pure functions, no lab
needed (the proxy itself is tested against the lab's dockerd in test_finch_proxy.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lab.finchapi import (
    api_compare,
    bool_value,
    finch_version,
    finch_volume,
    finch_volume_filters,
    int64_or_zero,
    version_refusal,
)


@pytest.mark.parametrize(
    ("version", "refused"),
    [
        pytest.param("1.35", None, id="minimum"),
        pytest.param("1.43", None, id="default"),
        pytest.param("1.43.0", None, id="padded-equal"),
        pytest.param("1.41", None, id="inside"),
        pytest.param("1.34", "below the minimum supported version, v1.35", id="too-old"),
        pytest.param("1.9", "below the minimum supported version, v1.35", id="numeric-not-lexical"),
        pytest.param("1.44", "newer than the server's version, v1.43", id="docker-py-7.1"),
        pytest.param("1.100", "newer than the server's version, v1.43", id="three-digit-minor"),
        pytest.param("2", "newer than the server's version, v1.43", id="major"),
    ],
)
def test_api_version_bounds(version: str, refused: str | None) -> None:
    answer = version_refusal(version)
    if refused is None:
        assert answer is None
    else:
        assert answer == f"your api version, v{version}, is {refused}"


def test_api_compare_pads_and_orders_numerically() -> None:
    assert api_compare("1.41", "1.43") == -1
    assert api_compare("1.43", "1.43.0") == 0
    assert api_compare("1.100", "1.43") == 1


@pytest.mark.parametrize(
    ("docker", "finch"),
    [
        pytest.param(
            {"Name": "p_db_socket", "Driver": "local", "Mountpoint": "/m", "Labels": {"a": "b"},
             "Options": {"o": "bind", "device": "/x"}, "Scope": "local", "CreatedAt": "2026-01-01T00:00:00Z"},
            {"Name": "p_db_socket", "Mountpoint": "/m", "Labels": {"a": "b"}},
            id="options-driver-scope-created-dropped",
        ),
        pytest.param({"Name": "v", "Mountpoint": "/m", "Labels": None}, {"Name": "v", "Mountpoint": "/m"},
                     id="no-labels-omitted"),
        pytest.param({"Name": "v", "Mountpoint": "/m", "UsageData": {"Size": 42, "RefCount": 1}},
                     {"Name": "v", "Mountpoint": "/m", "Size": 42}, id="size-kept"),
        pytest.param({"Name": "v", "Mountpoint": "/m", "UsageData": {"Size": -1}}, {"Name": "v", "Mountpoint": "/m"},
                     id="unknown-size-omitted"),
    ],
)  # fmt: skip
def test_volume_objects_have_four_fields_at_most(docker: dict[str, Any], finch: dict[str, Any]) -> None:
    assert finch_volume(docker) == finch


@pytest.mark.parametrize(
    ("filters", "upstream"),
    [
        pytest.param({"label": ["com.docker.compose.project=p"]}, None, id="docker-label-dropped"),
        pytest.param({"labels": ["k=v"]}, {"label": ["k=v"]}, id="finch-labels-kept"),
        pytest.param({"name": ["p_"], "label": ["k"]}, {"name": ["p_"]}, id="name-kept-label-dropped"),
        pytest.param({"dangling": ["true"], "driver": ["local"]}, {"driver": ["local"], "dangling": ["true"]},
                     id="driver-dangling-kept"),
        pytest.param({"label": {"k=v": True}}, None, id="docker-cli-map-form-of-unknown-key"),
    ],
)  # fmt: skip
def test_volume_list_filters(filters: dict[str, Any], upstream: dict[str, Any] | None) -> None:
    kept = finch_volume_filters(json.dumps(filters))
    assert (json.loads(kept) if kept else None) == upstream


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"name": {"x": true}}', id="map-form-of-known-key"),
        pytest.param('{"name": "x"}', id="string-not-list"),
        pytest.param("[1]", id="not-an-object"),
        pytest.param("{", id="not-json"),
    ],
)
def test_volume_list_filters_finch_cannot_unmarshal(raw: str) -> None:
    with pytest.raises(ValueError):
        finch_volume_filters(raw)


@pytest.mark.parametrize(
    ("value", "number"),
    [
        pytest.param("1700000000", 1700000000, id="epoch"),
        pytest.param("+5", 5, id="signed"),
        pytest.param("1700000000.5", 0, id="fraction"),
        pytest.param("2026-11-26T00:00:00Z", 0, id="rfc3339"),
        pytest.param("", 0, id="empty"),
        pytest.param("99999999999999999999", 0, id="overflow"),
    ],
)
def test_since_is_an_int64_or_zero(value: str, number: int) -> None:
    assert int64_or_zero(value) == number


@pytest.mark.parametrize(
    ("value", "true"),
    [pytest.param(v, False, id=f"false-{v or 'empty'}") for v in ("", "0", "no", "false", "none", " FALSE ")]
    + [pytest.param(v, True, id=f"true-{v}") for v in ("1", "true", "yes", "anything")],
)
def test_bool_values_as_moby_reads_them(value: str, true: bool) -> None:
    assert bool_value(value) is true


def test_version_is_finch_daemons_shape() -> None:
    upstream = {
        "Platform": {"Name": "Docker Engine - Community"},
        "Version": "20.10.24",
        "ApiVersion": "1.41",
        "Arch": "amd64",
        "KernelVersion": "6.1.0",
        "Components": [{"Name": "Engine", "Version": "20.10.24"}, {"Name": "containerd", "Version": "1.6.20"}],
    }
    answer = finch_version(upstream)
    assert answer["Platform"]["Name"].startswith("Finch Daemon - ")
    assert (answer["ApiVersion"], answer["MinAPIVersion"], answer["Arch"]) == ("1.43", "1.35", "x86_64")
    assert [c["Name"] for c in answer["Components"]] == ["containerd"]
