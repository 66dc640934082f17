"""deploy/: the rendered manifests are current, valid against the Kubernetes and KEDA
schemas (offline, from PyPI packages), and every queue has workers that scale on it."""

from __future__ import annotations

import copy
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.keda import v1alpha1 as keda
from kubernetes_validate.utils import latest_version

from deploy.render import DEFAULT_VALUES, ValuesError, dump, main, render
from jengu.bus import QUEUES
from jengu.region_config import REGIONAL_STAGES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RENDERED = DEPLOY / "kubernetes" / "jengu.yaml"
RENDERED_REGIONS = DEPLOY / "kubernetes" / "jengu-regions.yaml"
REGIONS_OVERLAY = DEPLOY / "regions.yaml"
# The oldest Kubernetes release we claim, and the newest whose schemas we have.
KUBERNETES_VERSIONS = ["1.29.0", latest_version()]
KEDA_KINDS = {
    "ScaledObject": keda.ScaledObject,
    "TriggerAuthentication": keda.TriggerAuthentication,
}


def values(**broker) -> dict:
    loaded = yaml.safe_load(DEFAULT_VALUES.read_text())
    loaded["broker"].update(broker)
    return loaded


def rabbitmq() -> dict:
    return values(kind="rabbitmq")


def three_regions() -> dict:
    return {**values(), **yaml.safe_load(REGIONS_OVERLAY.read_text())}


def rabbitmq_regions() -> dict:
    return {**rabbitmq(), **yaml.safe_load(REGIONS_OVERLAY.read_text())}


ALL_VALUES = [values, rabbitmq, three_regions, rabbitmq_regions]
ALL_IDS = ["redis", "rabbitmq", "regions", "rabbitmq-regions"]


def validate(manifest: dict, version: str) -> None:
    """Against Kubernetes' strict schema, or KEDA's models with nothing left over."""
    model = KEDA_KINDS.get(manifest["kind"])
    if model is None:
        kubernetes_validate.validate(manifest, version, strict=True)
        return
    parsed = model.model_validate(manifest)
    # The models ignore unknown fields and coerce types: an exact round trip says there were
    # neither (a misspelt `minReplicaCounts` or a "1" for 1 would not come back unchanged).
    assert parsed.model_dump(by_alias=True, exclude_unset=True, mode="json") == manifest


def test_the_rendered_files_are_what_the_values_render_to() -> None:
    assert RENDERED.read_text() == dump(render(values())), "run: python -m deploy.render"
    source = "deploy/values.yaml + deploy/regions.yaml"
    assert RENDERED_REGIONS.read_text() == dump(render(three_regions()), source), (
        "run: python -m deploy.render --overlay deploy/regions.yaml"
    )


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("broker_values", ALL_VALUES, ids=ALL_IDS)
def test_every_manifest_is_valid_for_kubernetes_and_keda(broker_values, version) -> None:
    manifests = render(broker_values())
    assert {m["kind"] for m in manifests} >= {"Deployment", "Service", "Job", "ScaledObject"}
    for manifest in manifests:
        validate(manifest, version)


def test_the_validation_catches_a_misspelt_field() -> None:
    manifests = render(values())
    deployment = copy.deepcopy(next(m for m in manifests if m["kind"] == "Deployment"))
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment, KUBERNETES_VERSIONS[-1])
    scaled = copy.deepcopy(next(m for m in manifests if m["kind"] == "ScaledObject"))
    scaled["spec"]["minReplicaCounts"] = 2
    with pytest.raises(AssertionError):
        validate(scaled, KUBERNETES_VERSIONS[-1])


@pytest.mark.parametrize("broker_values", ALL_VALUES, ids=ALL_IDS)
def test_each_queue_has_one_worker_pool_that_keda_scales_on_that_queue(broker_values) -> None:
    rendered_values = broker_values()
    manifests = render(rendered_values)
    deployments = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "Deployment"}
    consumed: list[str] = []
    for scaled in (m for m in manifests if m["kind"] == "ScaledObject"):
        target = deployments[scaled["spec"]["scaleTargetRef"]["name"]]
        command = target["spec"]["template"]["spec"]["containers"][0]["command"]
        queues = command[command.index("--queues") + 1 : command.index("--worker-shutdown-timeout")]
        assert [queue_of(trigger) for trigger in scaled["spec"]["triggers"]] == queues
        # KEDA owns the count: an applied `replicas` would reset it on every deploy.
        assert "replicas" not in target["spec"] and scaled["spec"]["minReplicaCount"] >= 1
        consumed += queues
    regional = [
        f"{stage}-{region}" for region in rendered_values["regions"] for stage in REGIONAL_STAGES
    ]
    assert sorted(consumed) == sorted([*QUEUES, *regional])


def test_with_regions_each_regional_stage_has_a_pool_per_region_and_the_config_names_them():
    manifests = render(three_regions())
    (config,) = [m for m in manifests if m["kind"] == "ConfigMap"]
    commands = {
        m["metadata"]["name"]: m["spec"]["template"]["spec"]["containers"][0]["command"]
        for m in manifests
        if m["kind"] == "Deployment" and "worker" in m["metadata"]["name"]
    }

    assert config["data"]["JENGU_REGIONS"] == "us-east,eu-west,asia-pacific"
    assert "send-eu-west" in commands["jengu-worker-send-eu-west"]
    # The default region's pool also drains the plain queue (messages from before regions).
    assert {"send-us-east", "send"} <= set(commands["jengu-worker-send-us-east"])
    assert "jengu-worker-send" not in commands and "jengu-worker-reply" in commands


def test_a_cluster_renders_the_pools_of_its_own_regions_only():
    one = {**three_regions(), "pool_regions": ["eu-west"]}
    names = {m["metadata"]["name"] for m in render(one) if m["kind"] == "Deployment"}

    assert {"jengu-worker-send-eu-west", "jengu-worker-compose-eu-west"} <= names
    assert "jengu-worker-send-us-east" not in names
    with pytest.raises(ValuesError, match="pool_regions mars not in regions"):
        render({**one, "pool_regions": ["mars"]})


def queue_of(trigger: dict) -> str:
    """The queue a trigger reads, with the metadata KEDA's scaler requires."""
    metadata = trigger["metadata"]
    if trigger["type"] == "rabbitmq":
        assert metadata["mode"] == "QueueLength" and int(metadata["value"]) > 0
        assert trigger["authenticationRef"]["name"] == "jengu-broker"
        return metadata["queueName"]
    assert trigger["type"] == "redis" and int(metadata["listLength"]) > 0
    assert metadata["address"].count(":") == 1
    return metadata["listName"].removeprefix("dramatiq:")


def test_rabbitmq_credentials_come_from_the_secret_not_the_manifest() -> None:
    manifests = render(rabbitmq())
    (auth,) = [m for m in manifests if m["kind"] == "TriggerAuthentication"]
    assert auth["spec"]["secretTargetRef"] == [
        {"parameter": "host", "name": "jengu-secrets", "key": "BROKER_URL"}
    ]
    assert "amqp://" not in dump(manifests)


def test_a_worker_pool_that_could_scale_to_zero_is_refused_with_the_reason() -> None:
    broken = values()
    broken["workers"][0]["min_replicas"] = 0
    with pytest.raises(ValuesError, match="delayed messages"):
        render(broken)


def test_the_command_renders_the_values_with_an_overlay_on_top(capsys) -> None:
    assert main(["--overlay", str(REGIONS_OVERLAY)]) == 0

    assert capsys.readouterr().out == RENDERED_REGIONS.read_text()
