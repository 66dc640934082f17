"""docker-compose.yml's two-region example: a worker per region, commands our
`rundramatiq` accepts (there is no Docker engine here to run them)."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml

from jengu.processes.management.commands.rundramatiq import Command

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_the_regions_profile_runs_one_worker_per_region():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    regional = {name: s for name, s in services.items() if "regions" in s.get("profiles", [])}
    parser = Command().create_parser("manage.py", "rundramatiq")

    regions = {}
    for name, service in regional.items():
        program, script, command, *args = shlex.split(service["command"])
        assert (program, script, command) == ("python", "manage.py", "rundramatiq")
        regions[name] = parser.parse_args(args).regions

    assert regions == {"worker-us-east": ["us-east"], "worker-eu-west": ["eu-west"]}
