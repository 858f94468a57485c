"""Check: the container engine answers, and which runtime it is."""

from __future__ import annotations

from collections.abc import Iterator

from doctor import catalog
from doctor.context import Context
from doctor.models import Evidence, Facts, Finding, Remedy, Status, skipped

ID = catalog.ENGINE
SUMMARY = "The container engine answers; which runtime and VM it is"


def run(ctx: Context) -> Iterator[Finding]:
    if ctx.options.offline:
        yield skipped(ID, "engine checks skipped: --offline")
        return
    endpoint = ctx.endpoint
    if ctx.engine_error is not None and endpoint is not None:
        error = ctx.engine_error
        yield Finding(
            catalog.ENGINE_UNREACHABLE,
            Status.WARN,
            f"Cannot reach the container engine: {error.explanation}",
            f"Endpoint {endpoint.url}, chosen from {endpoint.reason}. The file, log and socket checks "
            "still ran; the live checks (volumes, containers, container logs, probes) did not.",
            (Evidence(endpoint.url, error.detail[:500]),),
            Remedy(error.remedy),
            facts=Facts(cause=error.cause, path=endpoint.url),
        )
        return
    engine = ctx.engine
    if engine is None or endpoint is None:
        yield skipped(ID, "no engine was contacted")
        return
    runtime = engine.runtime
    yield Finding(
        catalog.ENGINE_INFO,
        Status.INFO,
        f"Engine: {runtime.description}, API {runtime.api_version}",
        f"Endpoint {endpoint.url}, chosen from {endpoint.reason}. VM/host OS {runtime.vm_os or 'unknown'}, "
        f"kernel {runtime.kernel or 'unknown'}; containers judged as running on {ctx.target_os} "
        f"({ctx.target_os_reason}).",
        (Evidence("version", str(engine.version.get("Version", ""))), Evidence("info", runtime.vm_os)),
    )
