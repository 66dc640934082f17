"""Settings shared by every environment, read from the environment.

Every variable is listed in `.env.example`. `dev`, `test` and `production` import
this module and only decide defaults and hardening; nothing here starts a server.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from jengu.region_config import RegionConfigError, parse_regions

BASE_DIR = Path(__file__).resolve().parent.parent.parent
LOCAL_DIR = BASE_DIR / ".local"

env = environ.Env()


def require(name: str) -> str:
    """Return a required variable or refuse to start with a clear message."""
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set (see .env.example)")
    return value


def embedded_url(name: str) -> str:
    """URL of an embedded service started by `make run` / the test suite.

    The dev launcher (`python -m jengu.devrun`) writes `.local/services.env`
    while it runs, so a second shell's `manage.py` finds the same servers.
    """
    services_file = LOCAL_DIR / "services.env"
    if services_file.exists():
        for line in services_file.read_text().splitlines():
            key, _, value = line.partition("=")
            if key == name and value:
                return value
    raise ImproperlyConfigured(
        f"{name} is unset and no embedded services are running: "
        "start `make run` in another shell or set it (see .env.example)"
    )


def service_url(name: str) -> str:
    return env.str(name, default="") or embedded_url(name)


DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # Before django_dramatiq: its `rundramatiq` command is replaced by ours (`--regions`).
    "jengu.processes",
    "django_dramatiq",
    # Before dramatiq_crontab: its `crontab` command is replaced by ours.
    "jengu.scheduler",
    "dramatiq_crontab",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "anymail",
    "jengu.events",
    "jengu.apikeys",
    "crm",
    "enrichment",
    "outreach",
    "outreach.dashboard",
    "axes",
    # Last: its post_migrate hook syncs roles once every app's permissions exist.
    "jengu.access",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the database: decides where this request's reads go.
    "jengu.db_router.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "jengu.metrics.RequestMetricsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jengu.urls"
WSGI_APPLICATION = "jengu.wsgi.application"
ASGI_APPLICATION = "jengu.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "crm:login"
LOGIN_REDIRECT_URL = "crm:overview"

# Logins (dashboard and admin) are throttled by django-axes: after LOGIN_FAILURE_LIMIT
# failures for one username from one address, that pair is locked out for
# LOGIN_LOCKOUT_MINUTES (429); a success resets the count. Operators see and lift
# lockouts in the admin (Axes) or with `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "dashboard/locked_out.html"
# Reverse proxies in front of the web process, each appending to X-Forwarded-For;
# 0: the connection's own address is the client's (jengu/access/client_ip.py).
LOGIN_PROXY_COUNT = env.int("LOGIN_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "jengu.access.client_ip.login_client_address"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


def configure_services(database_url: str, redis_url: str) -> dict:
    """Settings that depend on the database and Redis URLs.

    Returned as a dict so each environment module can apply it with
    `globals().update(...)` once it has decided where the URLs come from.
    The broker is `BROKER_URL` when set, else the same Redis.
    """
    redis_base = redis_url.rstrip("/")
    broker_url = env.str("BROKER_URL", default="") or redis_base
    replica_urls = env.list("DATABASE_REPLICA_URLS", default=[])
    databases = database_settings(database_url, replica_urls)
    return {
        "DATABASES": databases,
        "DATABASE_REPLICAS": [alias for alias in databases if alias != "default"],
        "DATABASE_ROUTERS": ["jengu.db_router.ReplicaRouter"],
        "REDIS_URL": redis_base,
        "BROKER_URL": broker_url,
        "CACHES": {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": redis_base,
                "KEY_PREFIX": "jengu-cache",
            }
        },
        "DRAMATIQ_BROKER": broker_settings(broker_url),
        "DRAMATIQ_CRONTAB": {"REDIS_URL": redis_base},
    }


def database_settings(database_url: str, replica_urls: list[str]) -> dict:
    """`default` (the primary) and `replica_1`, `replica_2`, … for read replicas.

    Replicas are test mirrors of the primary: the test runner never creates or
    flushes a database on them (they are read-only).
    """
    databases = {"default": _database(database_url)}
    for number, url in enumerate(replica_urls, start=1):
        replica = _database(url)
        # A replica that is down must cost a request seconds, not minutes.
        replica.setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=2)
        )
        replica["TEST"] = {"MIRROR": "default"}
        databases[f"replica_{number}"] = replica
    return databases


def _database(url: str) -> dict:
    database = env.db_url_config(url)
    database["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    database["CONN_HEALTH_CHECKS"] = True
    return database


_BROKER_MIDDLEWARE = [
    "django_dramatiq.middleware.DbConnectionsMiddleware",
    "dramatiq.middleware.AgeLimit",
    "dramatiq.middleware.TimeLimit",
    "dramatiq.middleware.Callbacks",
    "dramatiq.middleware.Pipelines",
    # Before EventRetries too: counts final failures apart from retries.
    "jengu.workers.EventMetrics",
    "jengu.bus.middleware.EnvelopeContext",
    "jengu.bus.middleware.Deduplication",
    "jengu.events.middleware.EventLog",
    "jengu.events.middleware.DeadLetters",
    "jengu.bus.middleware.EventRetries",
    "dramatiq.middleware.CurrentMessage",
    "jengu.workers.WorkerHeartbeat",
    "jengu.workers.UrlconfPreload",
    "jengu.bus.middleware.RegionalQueues",
]


def broker_settings(broker_url: str) -> dict:
    """`DRAMATIQ_BROKER` for a `redis://` or `amqp://` URL (docs/scaling.md, "Brokers")."""
    scheme = broker_url.partition("://")[0]
    if scheme in ("redis", "rediss", "unix"):
        broker = "dramatiq.brokers.redis.RedisBroker"
        options = {
            "url": broker_url,
            # A silent worker's unacked messages come back after this many ms
            # (with the library's default chance of maintenance they stay for minutes).
            "heartbeat_timeout": env.int("DRAMATIQ_HEARTBEAT_TIMEOUT_MS", default=30000),
            "maintenance_chance": env.int("DRAMATIQ_MAINTENANCE_CHANCE", default=10000),
        }
    elif scheme in ("amqp", "amqps"):
        broker = "jengu.bus.brokers.RabbitmqBroker"
        queue_type = env.str("BROKER_QUEUE_TYPE", default="classic")
        if queue_type not in ("classic", "quorum"):
            raise ImproperlyConfigured(
                f"BROKER_QUEUE_TYPE must be classic or quorum, not {queue_type}"
            )
        options = {
            "url": broker_url,
            # Longer delays hop through the delay queue in steps of at most this, so
            # no delivery stays unacked up to RabbitMQ's consumer_timeout (30 min).
            "max_delay_ms": env.int("BROKER_MAX_DELAY_SECONDS", default=600) * 1000,
            # `quorum` replicates each queue across a RabbitMQ cluster's nodes.
            "queue_type": queue_type,
        }
    else:
        raise ImproperlyConfigured(
            f"BROKER_URL must start with redis:// or amqp:// (got {scheme or 'no scheme'}://)"
        )
    # Before-hooks run in this order, after-hooks in reverse. The bus middleware sit
    # before EventRetries so that their after-hooks see its retry-or-fail decision;
    # see jengu/bus/middleware.
    return {"BROKER": broker, "OPTIONS": options, "MIDDLEWARE": list(_BROKER_MIDDLEWARE)}


# Read replicas (docs/scaling.md, "Read replicas"). A replica further behind the primary
# than this is skipped; its health is measured at most this often per process; a browser
# that wrote reads from the primary for this long (at least the allowed lag).
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=5.0)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=5.0)
DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=15)
if DATABASE_REPLICA_PIN_SECONDS < DATABASE_REPLICA_MAX_LAG_SECONDS:
    raise ImproperlyConfigured(
        "DATABASE_REPLICA_PIN_SECONDS must be at least DATABASE_REPLICA_MAX_LAG_SECONDS: "
        "a user who just wrote would otherwise read a replica that has not seen it"
    )


# Regions (docs/scaling.md, "Regions"). Unset: one region, the plain stage queues.
try:
    JENGU_REGIONS = parse_regions(env.str("JENGU_REGIONS", default=""))
except RegionConfigError as exc:
    raise ImproperlyConfigured(f"JENGU_REGIONS: {exc}") from None
# A regional queue none of whose workers has beaten for this long is down: its work
# goes to the first region (in JENGU_REGIONS order) whose workers for that stage beat.
JENGU_REGION_DOWN_SECONDS = env.int("JENGU_REGION_DOWN_SECONDS", default=30)
# Workers write their heartbeat this often (seconds); a region is down only after
# several beats were missed.
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=5.0)
if JENGU_REGION_DOWN_SECONDS < 3 * WORKER_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "JENGU_REGION_DOWN_SECONDS must be at least 3 x WORKER_HEARTBEAT_SECONDS: a region "
        "would be called down between two beats of its live workers"
    )
# How often the scheduler looks for down regions and hands their waiting events over.
JENGU_REGION_CHECK_SECONDS = env.int("JENGU_REGION_CHECK_SECONDS", default=10)
# Events handed over per queue and check (the rest follow at the next checks).
JENGU_REGION_HANDOVER_BATCH = env.int("JENGU_REGION_HANDOVER_BATCH", default=5000)

# Event bus (README, "The event pipeline"). A running event's Redis claim lapses this many
# seconds after its worker dies (the worker renews it while alive).
EVENT_CLAIM_TTL_SECONDS = env.float("EVENT_CLAIM_TTL_SECONDS", default=30.0)
# How long a processed event id is remembered, so a redelivery is dropped.
EVENT_DEDUP_TTL_SECONDS = env.int("EVENT_DEDUP_TTL_SECONDS", default=7 * 86400)
# Workers write event-log rows in batches this often (and when idle); a killed
# worker loses at most this much of the started/succeeded log, never an effect.
EVENT_LOG_FLUSH_SECONDS = env.float("EVENT_LOG_FLUSH_SECONDS", default=0.1)
# How often a busy worker writes the counters it sums in memory (it also writes when idle).
METRICS_FLUSH_SECONDS = env.float("METRICS_FLUSH_SECONDS", default=1.0)
# A transient dead letter is requeued once by itself after this many seconds (0 = never).
DEAD_LETTER_AUTO_REQUEUE_SECONDS = env.int("DEAD_LETTER_AUTO_REQUEUE_SECONDS", default=900)

# Providers (every one optional: missing key -> that provider is skipped).
XAI_API_KEYS = env.list("XAI_API_KEYS", default=[])
XAI_BASE_URL = env.str("XAI_BASE_URL", default="https://api.x.ai/v1").rstrip("/")
XAI_MODEL = env.str("XAI_MODEL", default="grok-3-mini")
ANTHROPIC_API_KEY = env.str("ANTHROPIC_API_KEY", default="")
ANTHROPIC_BASE_URL = env.str("ANTHROPIC_BASE_URL", default="https://api.anthropic.com").rstrip("/")
ANTHROPIC_MODEL = env.str("ANTHROPIC_MODEL", default="claude-3-5-haiku-latest")
# AI gateway (docs/compose.md): fallback order of provider
# families, and per provider (each Grok key is one) a total timeout, breaker and bucket.
AI_PROVIDERS = env.list("AI_PROVIDERS", default=["grok", "anthropic"])
AI_TIMEOUT_SECONDS = env.float("AI_TIMEOUT_SECONDS", default=15.0)
AI_BREAKER_FAILURE_THRESHOLD = env.int("AI_BREAKER_FAILURE_THRESHOLD", default=3)
AI_BREAKER_RESET_SECONDS = env.int("AI_BREAKER_RESET_SECONDS", default=60)
AI_BUCKET_CAPACITY = env.int("AI_BUCKET_CAPACITY", default=10)
AI_BUCKET_REFILL_PER_SECOND = env.float("AI_BUCKET_REFILL_PER_SECOND", default=2.0)
AI_RATE_LIMIT_DEFAULT_SECONDS = env.int("AI_RATE_LIMIT_DEFAULT_SECONDS", default=10)
AI_RATE_LIMIT_MAX_SECONDS = env.int("AI_RATE_LIMIT_MAX_SECONDS", default=300)
# A busy provider (empty bucket, 429) is waited for, never replaced by the template:
# up to AI_BUSY_WAIT_SECONDS asleep in the worker, then the compose is re-queued with a
# delay. The template writes it only once waiting would pass the compose deadline: the
# end of the prospect's sending window, and at most AI_COMPOSE_MAX_WAIT_SECONDS after
# the first try (keep it under SEND_CLAIM_LEASE_MINUTES).
AI_BUSY_WAIT_SECONDS = env.float("AI_BUSY_WAIT_SECONDS", default=3.0)
AI_COMPOSE_MAX_WAIT_SECONDS = env.int("AI_COMPOSE_MAX_WAIT_SECONDS", default=600)
MILLIONVERIFIER_API_KEY = env.str("MILLIONVERIFIER_API_KEY", default="")
MILLIONVERIFIER_BASE_URL = env.str(
    "MILLIONVERIFIER_BASE_URL", default="https://api.millionverifier.com"
).rstrip("/")
# Web search for prospects' websites (Brave Search API); off without a key.
SEARCH_API_KEY = env.str("SEARCH_API_KEY", default="")
SEARCH_BASE_URL = env.str("SEARCH_BASE_URL", default="https://api.search.brave.com/res/v1").rstrip(
    "/"
)
MILLIONVERIFIER_RATE_PER_SECOND = env.float("MILLIONVERIFIER_RATE_PER_SECOND", default=5.0)

# Enrichment fetching. Private/loopback targets stay refused unless a test or the
# local demo turns this on: it is the SSRF guard's only off switch.
ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = env.bool("ENRICHMENT_ALLOW_PRIVATE_ADDRESSES", default=False)
ENRICHMENT_ALLOWED_NETWORKS = env.list("ENRICHMENT_ALLOWED_NETWORKS", default=[])
ENRICHMENT_USER_AGENT = env.str(
    "ENRICHMENT_USER_AGENT",
    default="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36 JenguBot/1.0",
)
ENRICHMENT_CONNECT_TIMEOUT = env.float("ENRICHMENT_CONNECT_TIMEOUT", default=5.0)
ENRICHMENT_READ_TIMEOUT = env.float("ENRICHMENT_READ_TIMEOUT", default=10.0)
ENRICHMENT_PAGE_TIMEOUT = env.float("ENRICHMENT_PAGE_TIMEOUT", default=15.0)
ENRICHMENT_TIME_BUDGET = env.float("ENRICHMENT_TIME_BUDGET", default=60.0)
ENRICHMENT_MAX_BYTES = env.int("ENRICHMENT_MAX_BYTES", default=1_000_000)
ENRICHMENT_MAX_REDIRECTS = env.int("ENRICHMENT_MAX_REDIRECTS", default=5)
ENRICHMENT_MAX_PAGES = env.int("ENRICHMENT_MAX_PAGES", default=6)
ENRICHMENT_VALIDATE_TOP = env.int("ENRICHMENT_VALIDATE_TOP", default=3)
ENRICHMENT_GUESS_URL_TEMPLATES = env.list(
    "ENRICHMENT_GUESS_URL_TEMPLATES", default=["https://{domain}/", "http://{domain}/"]
)
# Tried after the prospect's country TLD when guessing domains.
ENRICHMENT_GUESS_TLDS = env.list("ENRICHMENT_GUESS_TLDS", default=["com", "net", "eu"])
# Prospects quiet this long in `enriching` (or waiting for a verdict) are re-emitted.
ENRICHMENT_STUCK_AFTER_MINUTES = env.int("ENRICHMENT_STUCK_AFTER_MINUTES", default=15)
ENRICHMENT_DNS_RESOLVER = env.str("ENRICHMENT_DNS_RESOLVER", default="jengu.dns.DnsPythonResolver")
ENRICHMENT_DNS_TIMEOUT = env.float("ENRICHMENT_DNS_TIMEOUT", default=3.0)
SENTRY_DSN = env.str("SENTRY_DSN", default="")
ALERT_WEBHOOK_URL = env.str("ALERT_WEBHOOK_URL", default="")
# One incident = one alert: the same kind+subject is not re-sent within this many seconds.
ALERT_COOLDOWN_SECONDS = env.int("ALERT_COOLDOWN_SECONDS", default=900)

# Health thresholds (`GET /health`, the System page).
# See the README, "Dashboard, health, metrics and alerts".
JENGU_QUEUES = env.list(
    "JENGU_QUEUES", default=["enrich", "validate", "compose", "send", "reply", "track", "scheduled"]
)
HEALTH_QUEUE_DEPTH_WARN = env.int("HEALTH_QUEUE_DEPTH_WARN", default=1000)
HEALTH_QUEUE_AGE_WARN = env.int("HEALTH_QUEUE_AGE_WARN", default=300)
HEALTH_QUEUE_AGE_CRITICAL = env.int("HEALTH_QUEUE_AGE_CRITICAL", default=1800)
HEALTH_WORKER_STALE_SECONDS = env.int("HEALTH_WORKER_STALE_SECONDS", default=30)
HEALTH_DEAD_LETTERS_WARN = env.int("HEALTH_DEAD_LETTERS_WARN", default=50)

# JSON API (/api/v1/): per-key token bucket (burst, then a steady rate) and body cap.
API_RATE_LIMIT_BURST = env.int("API_RATE_LIMIT_BURST", default=120)
API_RATE_LIMIT_PER_SECOND = env.float("API_RATE_LIMIT_PER_SECOND", default=10.0)
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=2 * 1024 * 1024)
# Outbound webhooks connect only to public addresses (the enrichment fetcher's guard);
# allow private ones for receivers on your own network, all or by network.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
# Inbox SMTP/IMAP hosts set in the admin or the API may not resolve to loopback,
# private or link-local addresses unless allowed here (self-hosted mail servers).
MAIL_HOSTS_ALLOW_PRIVATE = env.bool("MAIL_HOSTS_ALLOW_PRIVATE", default=False)
MAIL_HOSTS_ALLOWED_NETWORKS = env.list("MAIL_HOSTS_ALLOWED_NETWORKS", default=[])
# Outbound webhooks: seconds to wait for a subscriber before retrying later.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Retries of a failed delivery (then a dead letter): backoff doubles from min to max.
WEBHOOK_MAX_RETRIES = env.int("WEBHOOK_MAX_RETRIES", default=8)
WEBHOOK_RETRY_MIN_BACKOFF_MS = env.int("WEBHOOK_RETRY_MIN_BACKOFF_MS", default=5000)
WEBHOOK_RETRY_MAX_BACKOFF_MS = env.int("WEBHOOK_RETRY_MAX_BACKOFF_MS", default=600000)

# Sending: see the README, "Sending".
SEND_BATCH_INTERVAL_MINUTES = env.int("SEND_BATCH_INTERVAL_MINUTES", default=5)
SEND_MAX_PER_DOMAIN_PER_DAY = env.int("SEND_MAX_PER_DOMAIN_PER_DAY", default=5)
BOUNCE_RATE_THRESHOLD = env.float("BOUNCE_RATE_THRESHOLD", default=0.03)
BOUNCE_MIN_SENDS = env.int("BOUNCE_MIN_SENDS", default=20)
# The slow rule beside the 24-hour burst: hard bounces over this share of the sends of
# the last BOUNCE_LONG_WINDOW_DAYS days (once BOUNCE_MIN_SENDS went) pause first touches.
BOUNCE_LONG_RATE_THRESHOLD = env.float("BOUNCE_LONG_RATE_THRESHOLD", default=0.02)
BOUNCE_LONG_WINDOW_DAYS = env.int("BOUNCE_LONG_WINDOW_DAYS", default=28)
SEND_PACING_JITTER_SECONDS = env.int("SEND_PACING_JITTER_SECONDS", default=30)
SEND_CLAIM_LEASE_MINUTES = env.int("SEND_CLAIM_LEASE_MINUTES", default=15)
SEND_STUCK_AFTER_MINUTES = env.int("SEND_STUCK_AFTER_MINUTES", default=10)
SEND_SMTP_TIMEOUT_SECONDS = env.int("SEND_SMTP_TIMEOUT_SECONDS", default=20)
SEND_BATCH_SCAN_LIMIT = env.int("SEND_BATCH_SCAN_LIMIT", default=2000)
SEND_SWEEP_INTERVAL_MINUTES = env.int("SEND_SWEEP_INTERVAL_MINUTES", default=5)
# Per inbox connection: failures in a row that open its breaker, and seconds it stays
# open before one probe send tests the server again.
SEND_BREAKER_FAILURE_THRESHOLD = env.int("SEND_BREAKER_FAILURE_THRESHOLD", default=3)
SEND_BREAKER_RESET_SECONDS = env.int("SEND_BREAKER_RESET_SECONDS", default=60)
RESEND_API_URL = env.str("RESEND_API_URL", default="https://api.resend.com/")

# Replies: see the README, "Replies".
# Shared secret for POST /webhooks/inbound/raw (Bearer token or signed v1 requests).
INBOUND_WEBHOOK_SECRET = env.str("INBOUND_WEBHOOK_SECRET", default="")
INBOUND_MAX_BYTES = env.int("INBOUND_MAX_BYTES", default=25 * 1024 * 1024)
REPLY_SOFT_BOUNCE_LIMIT = env.int("REPLY_SOFT_BOUNCE_LIMIT", default=3)
REPLY_OOO_DEFAULT_PAUSE_DAYS = env.int("REPLY_OOO_DEFAULT_PAUSE_DAYS", default=7)
REPLY_OOO_RESUME_DELAY_DAYS = env.int("REPLY_OOO_RESUME_DELAY_DAYS", default=1)
REPLY_AI_ENABLED = env.bool("REPLY_AI_ENABLED", default=True)
IMAP_POLL_INTERVAL_MINUTES = env.int("IMAP_POLL_INTERVAL_MINUTES", default=2)
IMAP_TIMEOUT_SECONDS = env.int("IMAP_TIMEOUT_SECONDS", default=30)
IMAP_FETCH_LIMIT = env.int("IMAP_FETCH_LIMIT", default=200)
# Hostile-input caps, checked before a message is parsed (docs/replies.md, "Limits").
INBOUND_MAX_HEADERS = env.int("INBOUND_MAX_HEADERS", default=1000)
INBOUND_MAX_HTML_CHARS = env.int("INBOUND_MAX_HTML_CHARS", default=128 * 1024)
INBOUND_MAX_MIME_PARTS = env.int("INBOUND_MAX_MIME_PARTS", default=200)
# Raw webhook signatures older or newer than this many seconds are refused (replays).
INBOUND_WEBHOOK_TOLERANCE_SECONDS = env.int("INBOUND_WEBHOOK_TOLERANCE_SECONDS", default=300)
# authserv-ids of OUR receiving mail servers whose Authentication-Results header is
# believed (e.g. "mx.google.com"); empty: only mail in our threads changes a prospect.
INBOUND_TRUSTED_AUTHSERV_IDS = env.list("INBOUND_TRUSTED_AUTHSERV_IDS", default=[])
# Envelope sender "inbox+<token>@domain" on SMTP inboxes (VERP): bounces name the e-mail
# they are about even when they quote nothing of it. Needs plus-addressing on the inbox.
BOUNCE_VERP_ENABLED = env.bool("BOUNCE_VERP_ENABLED", default=False)
# Spam complaints per e-mail sent (30 days) above which an inbox's first touches pause
# (0.1 %: Google's line for a healthy sender; at 0.3 % it starts refusing mail).
COMPLAINT_RATE_THRESHOLD = env.float("COMPLAINT_RATE_THRESHOLD", default=0.001)
# Deliverability: see docs/deliverability.md.
# Hours between scheduled SPF/DKIM/DMARC/MX/MTA-STS checks of every active inbox's domain.
DELIVERABILITY_AUTH_CHECK_HOURS = env.int("DELIVERABILITY_AUTH_CHECK_HOURS", default=24)
# MTA-STS: check it at all, where its policy file lives, and how long to wait for it.
DELIVERABILITY_MTA_STS_CHECK = env.bool("DELIVERABILITY_MTA_STS_CHECK", default=True)
DELIVERABILITY_MTA_STS_POLICY_URL = env.str(
    "DELIVERABILITY_MTA_STS_POLICY_URL", default="https://mta-sts.{domain}/.well-known/mta-sts.txt"
)
DELIVERABILITY_MTA_STS_TIMEOUT_SECONDS = env.float(
    "DELIVERABILITY_MTA_STS_TIMEOUT_SECONDS", default=10.0
)
# Minutes between health-score evaluations (bounces, complaints, authentication, placement).
DELIVERABILITY_HEALTH_INTERVAL_MINUTES = env.int(
    "DELIVERABILITY_HEALTH_INTERVAL_MINUTES", default=60
)
# Placement tests: hours between rounds (0 = only on demand), minutes before the seed
# mailboxes are first read, and hours after which a test e-mail not found is "missing".
PLACEMENT_TEST_INTERVAL_HOURS = env.int("PLACEMENT_TEST_INTERVAL_HOURS", default=24)
PLACEMENT_CHECK_AFTER_MINUTES = env.int("PLACEMENT_CHECK_AFTER_MINUTES", default=10)
PLACEMENT_MISSING_AFTER_HOURS = env.int("PLACEMENT_MISSING_AFTER_HOURS", default=6)
# Send-time optimisation: a human reply within this many hours counts as a success;
# pseudo-observations the pooled prior is worth; settled first touches each group (slots
# and holdout) needs before the lift is reported as more than "too early to say".
SEND_TIME_REPLY_WINDOW_HOURS = env.int("SEND_TIME_REPLY_WINDOW_HOURS", default=72)
SEND_TIME_PRIOR_STRENGTH = env.float("SEND_TIME_PRIOR_STRENGTH", default=20.0)
SEND_TIME_MIN_SAMPLE = env.int("SEND_TIME_MIN_SAMPLE", default=100)
# A/B winners: sends each variant needs before it can win, the probability of being best
# that makes it the winner (and, with auto-promotion on, promotes it), Monte Carlo draws.
AB_MIN_SENDS = env.int("AB_MIN_SENDS", default=100)
AB_WIN_PROBABILITY = env.float("AB_WIN_PROBABILITY", default=0.95)
AB_MONTE_CARLO_DRAWS = env.int("AB_MONTE_CARLO_DRAWS", default=20000)

# django-anymail inbound webhooks (/anymail/<esp>/inbound/) use basic auth "user:password".
ANYMAIL = {"WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="")}

# Key for secrets stored in the database (SMTP/IMAP passwords, ESP keys).
# Defaults to one derived from SECRET_KEY; set it to rotate SECRET_KEY safely.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")

LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'plain' or 'json'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "jengu.logs.JsonFormatter"},
    },
    "filters": {"trace": {"()": "jengu.logs.TraceFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["trace"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs every request URL at INFO; webhook and provider URLs can carry
        # secrets (Slack/Discord tokens, MillionVerifier's api key), so keep it quiet.
        "httpx": {"level": "WARNING"},
        # The crontab leader lock is refreshed every 5 s; one INFO line each is noise.
        "apscheduler": {"level": "WARNING"},
        # django-axes logs every sign-in at INFO; lockouts come at WARNING.
        "axes": {"level": "WARNING"},
        # RabbitMQ's client logs every connection's opening and closing at INFO.
        "pika": {"level": "WARNING"},
    },
}

if SENTRY_DSN:
    from jengu.logs import init_sentry

    init_sentry(SENTRY_DSN)
