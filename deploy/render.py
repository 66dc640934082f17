"""Render Jengu's Kubernetes manifests from a values file.

    python -m deploy.render [--values deploy/values.yaml] > jengu.yaml
    kubectl apply -f jengu.yaml

Gives the web Deployment and Service, the scheduler, a migration Job, one worker
Deployment per entry of `workers` and, for each, a KEDA ScaledObject that scales it
on the ready messages of its queues (a Redis list or a RabbitMQ queue). With
`regions`, a pool marked `regional` becomes one pool per region (of `pool_regions`),
on that region's queues (`send-eu-west`); the default region's pool also drains the
plain queue. `deploy/kubernetes/jengu.yaml` is this script's output for
`deploy/values.yaml`; `deploy/kubernetes/jengu-regions.yaml` for the same values with
`deploy/regions.yaml` on top.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

import yaml

DEFAULT_VALUES = Path(__file__).with_name("values.yaml")
APP = "jengu"
BROKER_AUTH = f"{APP}-broker"
# Seconds a worker gets to finish its messages before it is killed on scale-down.
WORKER_SHUTDOWN_SECONDS = 60

Manifest = dict[str, Any]


class ValuesError(ValueError):
    """A values file that would render manifests that cannot work."""


def render(values: dict[str, Any]) -> list[Manifest]:
    """Every manifest, in the order `kubectl apply` should see them."""
    pools = worker_pools(values)
    _check(values, pools)
    manifests = [_config_map(values), _migrate_job(values), *_web(values), _scheduler(values)]
    auth = _broker_auth(values)
    if auth:
        manifests.append(auth)
    for pool in pools:
        manifests += [_worker(values, pool), _scaled_object(values, pool, has_auth=bool(auth))]
    return manifests


def region_names(values: dict[str, Any]) -> list[str]:
    """`regions` entries are `JENGU_REGIONS` items: `eu-west` or `fra=Europe/Berlin`."""
    return [str(entry).partition("=")[0].strip() for entry in values.get("regions") or []]


def worker_pools(values: dict[str, Any]) -> list[dict[str, Any]]:
    """`workers`, with each `regional` pool split into one pool per region rendered."""
    regions = region_names(values)
    if not regions:
        return list(values["workers"])
    local = values.get("pool_regions") or regions
    unknown = sorted(set(local) - set(regions))
    if unknown:
        raise ValuesError(f"pool_regions {', '.join(unknown)} not in regions {regions}")
    pools = []
    for pool in values["workers"]:
        if not pool.get("regional"):
            pools.append(pool)
            continue
        for region in local:
            queues = [f"{queue}-{region}" for queue in pool["queues"]]
            if region == regions[0]:  # the default region drains the plain queues too
                queues += pool["queues"]
            pools.append({**pool, "name": f"{pool['name']}-{region}", "queues": queues})
    return pools


def _check(values: dict[str, Any], pools: list[dict[str, Any]]) -> None:
    kind = values["broker"]["kind"]
    if kind not in ("redis", "rabbitmq"):
        raise ValuesError(f"broker.kind must be redis or rabbitmq, not {kind!r}")
    names = [pool["name"] for pool in pools]
    if len(set(names)) != len(names):
        raise ValuesError(f"worker names must be unique: {names}")
    for pool in pools:
        if pool["min_replicas"] < 1:
            raise ValuesError(
                f"workers.{pool['name']}.min_replicas must be at least 1: a running worker "
                "also moves delayed messages to their queue, and KEDA cannot see them"
            )
        if pool["max_replicas"] < pool["min_replicas"]:
            raise ValuesError(f"workers.{pool['name']}.max_replicas is below min_replicas")


def _meta(values: dict[str, Any], name: str, component: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": values["namespace"],
        "labels": {"app.kubernetes.io/name": APP, "app.kubernetes.io/component": component},
    }


def _config_map(values: dict[str, Any]) -> Manifest:
    data = {"DJANGO_SETTINGS_MODULE": "jengu.settings.production", **values["env"]}
    if values.get("regions"):
        data["JENGU_REGIONS"] = ",".join(str(entry) for entry in values["regions"])
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(values, f"{APP}-config", "config"),
        "data": {key: str(value) for key, value in data.items()},
    }


def _container(values: dict[str, Any], name: str, command: list[str], **extra: Any) -> dict:
    return {
        "name": name,
        "image": values["image"],
        "command": command,
        "envFrom": [
            {"configMapRef": {"name": f"{APP}-config"}},
            {"secretRef": {"name": values["secret"]}},
        ],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1000,  # the Dockerfile's `jengu` user
            "allowPrivilegeEscalation": False,
        },
        **extra,
    }


def _deployment(
    values: dict[str, Any],
    name: str,
    component: str,
    replicas: int | None,
    container: dict,
    **spec: Any,
) -> Manifest:
    """`replicas=None` leaves the count to KEDA (an applied count would reset its scaling)."""
    selector = {"app.kubernetes.io/name": APP, "app.kubernetes.io/component": component}
    count = {} if replicas is None else {"replicas": replicas}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(values, name, component),
        "spec": {
            **count,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": selector},
                "spec": {"containers": [container], **spec},
            },
        },
    }


def _migrate_job(values: dict[str, Any]) -> Manifest:
    # Named after the image: a new release migrates once, before its pods need the schema.
    digest = hashlib.sha256(values["image"].encode()).hexdigest()[:8]
    container = _container(values, "migrate", ["python", "manage.py", "migrate", "--no-input"])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(values, f"{APP}-migrate-{digest}", "migrate"),
        "spec": {
            "backoffLimit": 3,
            "ttlSecondsAfterFinished": 86400,
            "template": {"spec": {"restartPolicy": "OnFailure", "containers": [container]}},
        },
    }


def _web(values: dict[str, Any]) -> list[Manifest]:
    web = values["web"]
    command = ["gunicorn", "jengu.wsgi", "--bind", "0.0.0.0:8000"]
    command += ["--workers", str(web["gunicorn_workers"]), "--access-logfile", "-"]
    # TCP probes: /health answers 503 while Redis is down, and taking every web pod out
    # of the Service then would turn a degraded system into an outage.
    probe = {"tcpSocket": {"port": 8000}, "periodSeconds": 10}
    container = _container(
        values,
        "web",
        command,
        ports=[{"name": "http", "containerPort": 8000}],
        readinessProbe=probe,
        livenessProbe={**probe, "initialDelaySeconds": 20},
        resources={"requests": {"cpu": web["cpu"], "memory": web["memory"]}},
    )
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(values, f"{APP}-web", "web"),
        "spec": {
            "selector": {"app.kubernetes.io/name": APP, "app.kubernetes.io/component": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }
    return [_deployment(values, f"{APP}-web", "web", web["replicas"], container), service]


def _scheduler(values: dict[str, Any]) -> Manifest:
    container = _container(values, "scheduler", ["python", "manage.py", "crontab"])
    replicas = values["scheduler"]["replicas"]
    return _deployment(values, f"{APP}-scheduler", "scheduler", replicas, container)


def _worker(values: dict[str, Any], pool: dict[str, Any]) -> Manifest:
    command = ["python", "manage.py", "rundramatiq", "--processes", "1"]
    command += ["--threads", str(pool["threads"]), "--queues", *pool["queues"]]
    command += ["--worker-shutdown-timeout", str((WORKER_SHUTDOWN_SECONDS - 10) * 1000)]
    container = _container(values, "worker", command)
    return _deployment(
        values,
        f"{APP}-worker-{pool['name']}",
        f"worker-{pool['name']}",
        None,
        container,
        terminationGracePeriodSeconds=WORKER_SHUTDOWN_SECONDS,
    )


def _broker_auth(values: dict[str, Any]) -> Manifest | None:
    """KEDA's credentials: RabbitMQ's AMQP URL, or the Redis password when it has one."""
    broker = values["broker"]
    if broker["kind"] == "rabbitmq":
        target = {"parameter": "host", "name": values["secret"], "key": "BROKER_URL"}
    elif broker.get("password_key"):
        target = {"parameter": "password", "name": values["secret"], "key": broker["password_key"]}
    else:
        return None
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "TriggerAuthentication",
        "metadata": _meta(values, BROKER_AUTH, "autoscaling"),
        "spec": {"secretTargetRef": [target]},
    }


def _scaled_object(values: dict[str, Any], pool: dict[str, Any], *, has_auth: bool) -> Manifest:
    triggers = [_trigger(values["broker"], queue, pool["target"]) for queue in pool["queues"]]
    if has_auth:
        for trigger in triggers:
            trigger["authenticationRef"] = {"name": BROKER_AUTH}
    name = f"{APP}-worker-{pool['name']}"
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": _meta(values, name, "autoscaling"),
        "spec": {
            "scaleTargetRef": {"name": name},
            "minReplicaCount": pool["min_replicas"],
            "maxReplicaCount": pool["max_replicas"],
            "pollingInterval": 15,
            # Scale down slowly: a backlog often comes in waves (each send batch).
            "cooldownPeriod": 300,
            "triggers": triggers,
        },
    }


def _trigger(broker: dict[str, Any], queue: str, target: int) -> dict[str, Any]:
    if broker["kind"] == "rabbitmq":
        metadata = {"protocol": "amqp", "queueName": queue, "mode": "QueueLength"}
        return {"type": "rabbitmq", "metadata": {**metadata, "value": str(target)}}
    return {
        "type": "redis",
        "metadata": {
            "address": broker["address"],
            "databaseIndex": str(broker["database"]),
            # Dramatiq's Redis broker keeps a queue's ready message ids in this list.
            "listName": f"dramatiq:{queue}",
            "listLength": str(target),
        },
    }


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        # Plain YAML for readers: no `&id001` anchors for values that repeat.
        return True


def dump(manifests: list[Manifest], source: str = "deploy/values.yaml") -> str:
    header = f"# Rendered by `python -m deploy.render` from {source}; do not edit.\n"
    body = yaml.dump_all(manifests, Dumper=_Dumper, sort_keys=False, explicit_start=True)
    return header + body


def _shown(path: Path) -> str:
    """A values file as the header names it: from the checkout's root when inside it."""
    resolved = path.resolve()
    root = DEFAULT_VALUES.parent.parent
    return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=Path, default=DEFAULT_VALUES)
    parser.add_argument(
        "--overlay",
        type=Path,
        action="append",
        default=[],
        help="More values on top (top-level keys replace the base's), e.g. deploy/regions.yaml",
    )
    args = parser.parse_args(argv)
    values = yaml.safe_load(args.values.read_text())
    for overlay in args.overlay:
        values.update(yaml.safe_load(overlay.read_text()))
    try:
        source = " + ".join(_shown(path) for path in [args.values, *args.overlay])
        sys.stdout.write(dump(render(values), source))
    except ValuesError as exc:
        print(f"{args.values}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
