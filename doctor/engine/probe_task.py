"""A probe task: the socket seen from a Swarm node whose engine this machine cannot reach.

The doctor cannot exec into a task container on such a node, but the manager can run a one-shot
service there: constrained to the node (``node.id==…``), from the database's own image (nothing
is pulled: ``--resolve-image never``'s equivalent, no registry lookup), mounting the client's
socket volume read-only at the client's socket directory, running ``pg_isready`` once with no
restart. It is labelled ``dev.cultivate.doctor.probe=<stack>`` and always removed. ``--read-only``
and ``--probe-container never`` forbid it, as they forbid the probe container."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from doctor.engine.api import EngineAPI
from doctor.engine.session import PROBE_LABEL

DONE = {"complete", "failed", "rejected", "shutdown", "orphaned", "remove"}


@dataclass(frozen=True)
class ProbeResult:
    answered: bool | None  # True: the server answered; False: no socket/no answer; None: could not look
    detail: str


def registry_auth(image: str) -> dict[str, str]:
    """The operator's credentials for the image's registry, as docker-py sent them with a service:
    the node that runs the probe may have to pull the database's image. Read by docker-py's own
    reader of ~/.docker/config.json and its credential helpers, imported only for a probe task.
    Nothing found, or anything failing, sends no header (a public or local image needs none)."""
    try:
        from docker import auth

        registry, _ = auth.resolve_repository_name(image)
        found = auth.load_config().resolve_authconfig(registry)
    except Exception:  # no config, a broken helper: the pull is tried without credentials
        return {}
    return {"X-Registry-Auth": auth.encode_header(found)} if found else {}


def run_probe_task(
    api: EngineAPI, *, stack: str, node_id: str, node_name: str, image: str, volume: str, target: str, directory: str, port: int, timeout: float
) -> ProbeResult:  # fmt: skip
    seconds = str(max(1, int(timeout)))
    name = f"doctor-probe-{uuid.uuid4().hex[:8]}"
    service_id = None
    result = ProbeResult(None, "the probe task did not finish")
    spec = {
        "Name": name,
        "Labels": {PROBE_LABEL: stack},
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": image,
                "Command": ["pg_isready"],
                "Args": ["-h", directory, "-p", str(port), "-t", seconds],
                "Labels": {PROBE_LABEL: stack},
                "Mounts": [{"Type": "volume", "Source": volume, "Target": target, "ReadOnly": True}],
            },
            "Placement": {"Constraints": [f"node.id=={node_id}"]},
            "RestartPolicy": {"Condition": "none"},
        },
        "Mode": {"Replicated": {"Replicas": 1}},
    }
    try:
        service_id = str(api.post("/services/create", body=spec, headers=registry_auth(image))["ID"])
        deadline = time.monotonic() + timeout + 30
        while time.monotonic() < deadline:
            tasks = api.listed("/tasks", {"service": [service_id]})
            finished = [t for t in tasks if (t.get("Status") or {}).get("State") in DONE]
            if finished:
                status = finished[0].get("Status") or {}
                code = (status.get("ContainerStatus") or {}).get("ExitCode")
                said = status.get("Err") or status.get("Message") or ""
                if status.get("State") == "rejected" or code is None:
                    result = ProbeResult(None, f"the probe task on node {node_name} could not run: {said}")
                else:
                    answered = int(code) in (0, 1)  # pg_isready: 0 accepting, 1 rejecting, 2 no response
                    verdict = "the server answered" if answered else "no response"
                    result = ProbeResult(answered, f"pg_isready in a probe task on node {node_name}: {verdict} (exit {code})")  # fmt: skip
                break
            time.sleep(0.5)
    except Exception as exc:  # an engine error: say so, do not crash
        result = ProbeResult(None, f"the probe task on node {node_name} could not run: {str(exc)[:200]}")
    if service_id is not None:
        try:
            api.delete(f"/services/{service_id}")
        except Exception as exc:  # a probe left behind must be visible, and is labelled
            note = f"; the probe service {name} could not be removed ({str(exc)[:100]}): docker service rm {name}"
            result = ProbeResult(result.answered, result.detail + note)
    return result
