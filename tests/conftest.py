"""Fixtures every test package may use: `broker` (Redis, or both brokers for a test
marked `@both_brokers`) and `rabbitmq_url` (see tests/brokers.py)."""

pytest_plugins = ["tests.brokers"]
