"""Fixtures every test package may use: `broker` (Redis, or both brokers for a test
marked `@both_brokers`) and `rabbitmq_url` (see tests/brokers.py), and `two_regions`
(`JENGU_REGIONS=us-east,eu-west`, see tests/regions.py)."""

pytest_plugins = ["tests.brokers", "tests.regions"]
