"""The JSON Schema of the report, shipped as package data (``report.schema.json``)."""

from __future__ import annotations

from importlib.resources import files


def report_schema_text() -> str:
    return files(__name__).joinpath("report.schema.json").read_text(encoding="utf-8")
