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
from typing import Any

from doctor.engine.session import PROBE_LABEL

DONE = {"complete", "failed", "rejected", "shutdown", "orphaned", "remove"}


@dataclass(frozen=True)
class ProbeResult:
    answered: bool | None  # True: the server answered; False: no socket/no answer; None: could not look
    detail: str


def run_probe_task(
    client: Any, *, stack: str, node_id: str, node_name: str, image: str, volume: str, target: str, directory: str, port: int, timeout: float
) -> ProbeResult:  # fmt: skip
    from docker.types import Mount, RestartPolicy, ServiceMode

    seconds = str(max(1, int(timeout)))
    name = f"doctor-probe-{uuid.uuid4().hex[:8]}"
    service = None
    result = ProbeResult(None, "the probe task did not finish")
    try:
        service = client.services.create(
            image,
            command=["pg_isready"],
            args=["-h", directory, "-p", str(port), "-t", seconds],
            name=name,
            constraints=[f"node.id=={node_id}"],
            mounts=[Mount(target=target, source=volume, type="volume", read_only=True)],
            restart_policy=RestartPolicy(condition="none"),
            mode=ServiceMode("replicated", replicas=1),
            labels={PROBE_LABEL: stack},
            container_labels={PROBE_LABEL: stack},
        )
        deadline = time.monotonic() + timeout + 30
        while time.monotonic() < deadline:
            tasks = client.api.tasks(filters={"service": service.id}) or []
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
    if service is not None:
        try:
            service.remove()
        except Exception as exc:  # a probe left behind must be visible, and is labelled
            note = f"; the probe service {name} could not be removed ({str(exc)[:100]}): docker service rm {name}"
            result = ProbeResult(result.answered, result.detail + note)
    return result
