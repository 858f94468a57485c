"""--bundle: one redacted archive for a ticket, with a manifest whose hashes match, consistent
tokens for the same secret, and no canary or traceback anywhere in it."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tarfile
from pathlib import Path

import pytest

from tests.conftest import Cli, member_text
from tests.test_redaction import CANARIES, COMPOSE, LOG


@pytest.fixture
def bundle(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    project = tmp_path / "shop"
    project.mkdir()
    (project / "compose.yaml").write_text(COMPOSE)
    (project / ".env").write_text(f"API_TOKEN={CANARIES['token']}\nSECRET_KEY='{CANARIES['dotenv']}'\n")
    (project / "app.log").write_text(LOG)
    monkeypatch.setenv("PGPASSWORD", CANARIES["shell"])
    archive = tmp_path / "ticket-1234.tar.gz"
    result = cli("--project-directory", str(project), "--offline", "--target-os", "macos",
                 "--log-file", str(project / "app.log"), "--bundle", str(archive), "--format", "json")  # fmt: skip
    assert result.code == 1
    with tarfile.open(archive) as tar:
        assert all(name.startswith("ticket-1234/") for name in tar.getnames())
        members = {m.name.split("/", 1)[1]: member_text(tar, m) for m in tar.getmembers() if m.isfile()}
    assert archive.stat().st_mode & 0o077 == 0  # readable by its owner only
    return members


def test_contents(bundle: dict[str, str]) -> None:
    expected = {"report.md", "report.json", "version.json", "engine.json", "compose/compose.yaml",
                "effective-model.json", "logs/app.log.txt", "logs/evidence.txt", "redactions.json", "manifest.json"}  # fmt: skip
    assert expected <= set(bundle)


def test_no_canary_and_no_traceback_anywhere(bundle: dict[str, str]) -> None:
    for name, text in bundle.items():
        leaked = [key for key, value in CANARIES.items() if value in text]
        assert leaked == [], name
        assert "Traceback" not in text, name


def test_manifest_hashes_match(bundle: dict[str, str]) -> None:
    manifest = json.loads(bundle["manifest.json"])
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(bundle) - {"manifest.json"}
    for path, entry in listed.items():
        assert hashlib.sha256(bundle[path].encode()).hexdigest() == entry["sha256"], path


def test_same_secret_same_token_everywhere(bundle: dict[str, str]) -> None:
    compose = bundle["compose/compose.yaml"]
    token = re.search(r'POSTGRES_PASSWORD: "(\[secret-\d+\])"', compose)  # quoted: the copy stays YAML
    assert token is not None
    model = json.loads(bundle["effective-model.json"])
    assert model["services"]["database"]["environment"]["POSTGRES_PASSWORD"] == token.group(1)
    url_token = re.search(r"postgresql://app:(\[secret-\d+\])@", compose)
    assert url_token is not None and url_token.group(1) in bundle["logs/app.log.txt"]


def test_redactions_say_what_and_where_never_the_value(bundle: dict[str, str]) -> None:
    redactions = json.loads(bundle["redactions.json"])
    assert {"compose/compose.yaml", "logs/app.log.txt"} <= {r["file"] for r in redactions}
    for entry in redactions:
        assert set(entry) == {"file", "kind", "token", "count", "locations"}
        assert re.fullmatch(r"\[secret-\d+\]", entry["token"])
    assert not [v for v in CANARIES.values() if v in bundle["redactions.json"]]


def test_fingerprint_in_every_format(bundle: dict[str, str]) -> None:
    fingerprint = json.loads(bundle["report.json"])["fingerprint"]
    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint)
    assert fingerprint in bundle["report.md"]
    assert json.loads(bundle["manifest.json"])["fingerprint"] == fingerprint


def test_log_excerpt_says_what_was_cut(bundle: dict[str, str]) -> None:
    assert bundle["logs/app.log.txt"].startswith("# app.log: all ")


def test_fingerprint_is_the_same_for_the_same_mistake_elsewhere(cli: Cli, tmp_path: Path) -> None:
    prints = []
    for name in ("one", "other-place"):
        directory = tmp_path / name
        shutil.copytree(Path(__file__).parent / "fixtures" / "compose" / "guide-incorrect", directory)
        result = cli("--project-directory", str(directory), "--offline", "--target-os", "macos", "--format", "json")
        prints.append(json.loads(result.out)["fingerprint"])
    assert prints[0] == prints[1]
    other = cli("--project-directory", str(Path(__file__).parent / "fixtures" / "compose" / "guide-correct"),
                "--offline", "--format", "json")  # fmt: skip
    assert json.loads(other.out)["fingerprint"] != prints[0]


def test_bundle_needs_a_tar_gz_name(cli: Cli, tmp_path: Path) -> None:
    result = cli("--project-directory", str(Path(__file__).parent / "fixtures" / "compose" / "guide-correct"),
                 "--bundle", str(tmp_path / "x.zip"))  # fmt: skip
    assert result.code == 2 and ".tar.gz" in result.err


def test_a_compose_file_that_is_not_yaml_is_still_in_the_bundle(cli: Cli, tmp_path: Path) -> None:
    # Support needs the broken file most of all; with no structure to mask by, the patterns apply.
    (tmp_path / "compose.yaml").write_text(
        "services:\n  db:\n    image: postgres:16\n    environment:\n"
        "      DATABASE_URL: postgresql://app:Sup3r-s3cret@db/app\n    volumes: [unclosed\n"
    )
    bundle = tmp_path / "out" / "b.tar.gz"
    bundle.parent.mkdir()
    result = cli("--project-directory", str(tmp_path), "--offline", "--bundle", str(bundle))
    assert result.code == 1
    with tarfile.open(bundle) as archive:
        names = [m.name for m in archive.getmembers()]
        copy = next(n for n in names if n.endswith("compose/compose.yaml"))
        member = archive.extractfile(copy)
        assert member is not None
        text = member.read().decode()
    assert "volumes: [unclosed" in text and "Sup3r-s3cret" not in text
