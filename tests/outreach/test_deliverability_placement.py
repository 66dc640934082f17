"""Placement tests end to end: inboxes send test e-mails over SMTP; a stand-in for the seed
providers files each into the inbox or the spam folder of a real IMAP server (Dovecot
on loopback when installed, else the suite's fake), or drops it; Jengu reads the seeds
and reports where each landed, per inbox and provider."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from outreach.deliverability.health import inbox_health_evaluate
from outreach.deliverability.placement import HEADER, placement_round, placement_send, seed_check
from outreach.deliverability.selectors import placement_by_inbox_and_provider
from outreach.deliverability_models import PlacementTest, SeedMailbox
from tests.fakes import dovecot
from tests.fakes.imap import FakeImapServer
from tests.outreach.sending_fixtures import make_inbox

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sending_settings")]
SEEDS = {"seed@gmail.test": "gmail", "seed@outlook.test": "outlook", "seed@yahoo.test": "yahoo"}
PASSWORD = "seed-pw"


class FakeProviders:
    """Files messages as the seed providers' filters would, on one IMAP server."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "dovecot":
            self.server = dovecot.DovecotServer(users=dict.fromkeys(SEEDS, PASSWORD)).start()
            self.port = self.server.port
        else:
            self.fakes = {
                seed: FakeImapServer(username=seed, password=PASSWORD).start() for seed in SEEDS
            }

    def port_for(self, seed: str) -> int:
        return self.port if self.kind == "dovecot" else self.fakes[seed].port

    def file(self, seed: str, folder: str, raw: bytes) -> None:
        if self.kind == "dovecot":
            self.server.append(seed, PASSWORD, folder, raw)
        else:
            self.fakes[seed].add(folder, raw)

    def stop(self) -> None:
        if self.kind == "dovecot":
            self.server.stop()
        else:
            for fake in self.fakes.values():
                fake.stop()


@pytest.fixture(params=["dovecot", "fake"])
def providers(request):
    if request.param == "dovecot" and not dovecot.available():
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    providers = FakeProviders(request.param)
    yield providers
    providers.stop()


@pytest.fixture
def seeds(providers, settings):
    settings.PLACEMENT_CHECK_AFTER_MINUTES = 0
    settings.PLACEMENT_MISSING_AFTER_HOURS = 6
    return [
        SeedMailbox.objects.create(
            email=email,
            provider=provider,
            imap_host="127.0.0.1",
            imap_port=providers.port_for(email),
            imap_security="none",
            imap_username=email,
            imap_password=PASSWORD,
        )
        for email, provider in SEEDS.items()
    ]


def deliver(smtp_sink, providers, where: dict[str, str]) -> None:
    """Hand each test e-mail the sink received to its seed's `where[seed]` folder
    (None: the provider dropped it)."""
    for received in smtp_sink.messages:
        seed = received.rcpt_tos[0]
        if where.get(seed):
            providers.file(seed, where[seed], received.raw)


def test_placement_is_read_from_the_seeds_folders(smtp_sink, providers, seeds):
    inbox = make_inbox(smtp_sink)

    tests = placement_round(inboxes=[inbox])
    for test in tests:
        placement_send(test=test)
    assert smtp_sink.count() == 3
    assert all(m.message[HEADER] for m in smtp_sink.messages)
    deliver(smtp_sink, providers, {"seed@gmail.test": "INBOX", "seed@outlook.test": "Junk"})
    results = {seed.email: seed_check(seed=seed) for seed in seeds}

    assert results["seed@gmail.test"]["inbox"] == 1
    assert results["seed@outlook.test"]["spam"] == 1
    assert results["seed@yahoo.test"]["pending"] == 1  # not found yet, not missing yet
    by_seed = {t.seed.email: t for t in PlacementTest.objects.select_related("seed")}
    assert by_seed["seed@gmail.test"].status == "inbox"
    assert by_seed["seed@outlook.test"].folder == "Junk"
    assert by_seed["seed@yahoo.test"].status == "sent"

    PlacementTest.objects.filter(status="sent").update(sent_at=timezone.now() - timedelta(hours=7))
    assert seed_check(seed=seeds[2])["missing"] == 1

    rows = {row.provider: row for row in placement_by_inbox_and_provider(days=28)}
    assert (rows["gmail"].inbox_rate, rows["outlook"].inbox_rate) == (1.0, 0.0)
    assert rows["yahoo"].missing == 1
    health = inbox_health_evaluate(inbox=inbox)
    assert health.health_report["components"]["placement"]["inbox_rate"] == pytest.approx(1 / 3)
    assert "-20: 33% of seed tests in the inbox" in health.health_report["reasons"]


def test_a_seed_that_cannot_be_read_keeps_its_tests_pending(smtp_sink, providers, seeds):
    inbox = make_inbox(smtp_sink)
    for test in placement_round(inboxes=[inbox]):
        placement_send(test=test)
    seed = seeds[0]
    SeedMailbox.objects.filter(pk=seed.pk).update(imap_password="wrong")
    seed.refresh_from_db()

    counts = seed_check(seed=seed)

    seed.refresh_from_db()
    assert counts == {"inbox": 0, "spam": 0, "missing": 0, "pending": 0}
    assert seed.last_error
    assert "wrong" not in seed.last_error
    assert PlacementTest.objects.get(seed=seed).status == "sent"


def test_a_placement_e_mail_takes_a_slot_of_the_daily_cap(smtp_sink, seeds):
    inbox = make_inbox(smtp_sink, daily_limit=2)

    results = [placement_send(test=test) for test in placement_round(inboxes=[inbox])]

    assert [r.status for r in results].count("failed") == 1
    assert "daily cap" in next(r.error for r in results if r.status == "failed")
    assert smtp_sink.count() == 2


def test_a_paused_inbox_is_not_tested(smtp_sink, seeds):
    make_inbox(smtp_sink, paused_reason="blocked")
    active = make_inbox(smtp_sink)

    tests = placement_round()

    assert {test.inbox_id for test in tests} == {active.pk}
