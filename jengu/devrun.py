"""`make run`: embedded services, migrations, demo data, web + worker + scheduler.

Run as `python -m jengu.devrun`. Starts embedded PostgreSQL/Valkey for whichever
of DATABASE_URL / REDIS_URL is unset (data kept under `.local/`, so a restart
keeps it), then runs the processes side by side under a supervisor: one that
exits is restarted with backoff (see `jengu.supervisor`). Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from jengu.embedded import LOCAL_DIR, EmbeddedServices
from jengu.supervisor import Supervisor

MANAGE = [sys.executable, "manage.py"]
PROCESSES = {
    "web": [*MANAGE, "runserver", "127.0.0.1:8000", "--noreload"],
    "worker": [*MANAGE, "rundramatiq", "--processes", "1", "--threads", "4"],
    "scheduler": [*MANAGE, "crontab"],
    "mail": [sys.executable, "-m", "jengu.devmail"],
    "sites": [sys.executable, "-m", "enrichment.demo_site", "--port", "8025"],
}
# The demo hotels' websites are served on loopback by the "sites" process; the
# ENRICHMENT_* values let enrichment find them there (and only there) instead of
# on the internet. Each can be overridden from the environment.
DEMO_ENV = {
    "ENRICHMENT_DNS_RESOLVER": "enrichment.demo_site.DemoResolver",
    "ENRICHMENT_ALLOWED_NETWORKS": "127.0.0.1/32",
    "ENRICHMENT_GUESS_URL_TEMPLATES": "http://{domain}:8025/",
    "ENRICHMENT_GUESS_TLDS": "example",
    # The demo inbox sends to the local mail sink on 127.0.0.1, which the mail-host
    # guard refuses unless allowed: editing that inbox in the admin must keep working.
    "MAIL_HOSTS_ALLOWED_NETWORKS": "127.0.0.1/32",
    # A demo should show mail within a minute, not after a production-sized pause.
    "SEND_BATCH_INTERVAL_MINUTES": "1",
    "SEND_PACING_JITTER_SECONDS": "2",
    # Workers poll idle queues every 50 ms (Dramatiq's default is 1 s), as deployed.
    "dramatiq_worker_timeout": "50",
}


def write_services_file(urls: dict[str, str]) -> None:
    lines = [f"{key}={value}" for key, value in urls.items()]
    (LOCAL_DIR / "services.env").write_text("\n".join(lines) + "\n")


def _stop_softly(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    # SIGTERM (an IDE's stop button, `kill`) shuts down as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, _stop_softly)
    LOCAL_DIR.mkdir(exist_ok=True)
    services = EmbeddedServices(
        pg_dir=LOCAL_DIR / "pgdata", valkey_dir=LOCAL_DIR / "valkey", persist_valkey=True
    )
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "jengu.settings.dev")
    for name, value in DEMO_ENV.items():
        env.setdefault(name, value)
    added = services.fill_environment(env)
    if added:
        write_services_file(added)
        print(f"[devrun] embedded services: {', '.join(added)}")
    supervisor = Supervisor(PROCESSES, env=env)
    try:
        subprocess.run([*MANAGE, "migrate", "--no-input"], env=env, check=True)
        subprocess.run([*MANAGE, "seed_demo"], env=env, check=True)
        supervisor.start_all()
        print("[devrun] Jengu is running at http://127.0.0.1:8000 (Ctrl-C stops everything)")
        supervisor.run()
    except KeyboardInterrupt:
        print("\n[devrun] stopping")
    finally:
        supervisor.stop_all()
        (LOCAL_DIR / "services.env").unlink(missing_ok=True)
        services.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
