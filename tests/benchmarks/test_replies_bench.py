"""Reply benchmarks: parse + rules per fixture, the whole store→process pipeline, and
an IMAP poll from a loopback server."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Campaign, CampaignStep, Enrollment, Inbox, Prospect, Stage
from outreach.models import EmailMessage, InboundEmail
from outreach.replies.classify import classify_rules
from outreach.replies.errors import MalformedEmailError
from outreach.replies.imap import inbox_poll
from outreach.replies.parsing import parse_email
from outreach.replies.services import inbound_process, inbound_store
from tests.benchmarks.report import latency_row, print_table, time_calls
from tests.fakes.imap import fake_imap  # noqa: F401 - fixture
from tests.outreach.replies_fixtures import EML_DIR

REPLIES = 300
TEMPLATE = (EML_DIR / "gmail_interested.eml").read_bytes()


def _reply(i: int) -> bytes:
    return (
        TEMPLATE.replace(b"Anna@Hotel-Lisboa.example", f"anna{i}@bench{i}.example".encode())
        .replace(b"<step1.anna@jengu.example>", f"<bench-{i}@jengu.example>".encode())
        .replace(b"<CAJx8gmail-anna-1@mail.gmail.com>", f"<reply-{i}@mail.example>".encode())
    )


def _contacted(count: int) -> None:
    inbox = Inbox.objects.create(email="bench@jengu.example")
    campaign = Campaign.objects.create(name="replies bench", status="active")
    CampaignStep.objects.create(campaign=campaign, order=1, subject_template="s", body_template="b")
    prospects = Prospect.objects.bulk_create(
        Prospect(
            business_name=f"Bench {i}", email=f"anna{i}@bench{i}.example", stage=Stage.CONTACTED
        )
        for i in range(count)
    )
    enrollments = Enrollment.objects.bulk_create(
        Enrollment(prospect=p, campaign=campaign, next_send_at=timezone.now() + timedelta(days=2))
        for p in prospects
    )
    EmailMessage.objects.bulk_create(
        EmailMessage(
            direction="outbound",
            status="sent",
            prospect=p,
            enrollment=e,
            campaign=campaign,
            step=1,
            inbox=inbox,
            to_email=p.email,
            message_id=f"<bench-{i}@jengu.example>",
        )
        for i, (p, e) in enumerate(zip(prospects, enrollments, strict=True))
    )


@pytest.mark.django_db
def test_parse_and_rules_per_fixture():
    rows = []
    for path in sorted(EML_DIR.glob("*.eml")):
        raw = path.read_bytes()
        try:
            parse_email(raw)
        except MalformedEmailError:
            continue  # the malformed fixture: refused in microseconds, not worth a row
        samples = time_calls(lambda raw=raw: classify_rules(parse_email(raw)), repeat=30)
        rows.append(latency_row(path.stem, samples))
    print_table("Parse + rules classification (ms)", ["fixture", "p50", "p95", "max", ""], rows)


@pytest.mark.django_db
def test_store_and_process_pipeline(settings):
    settings.REPLY_AI_ENABLED = False
    _contacted(REPLIES)
    samples = []
    start = time.perf_counter()
    for i in range(REPLIES):
        began = time.perf_counter()
        inbound = inbound_store(raw=_reply(i), source="webhook", emit_event=False)
        inbound_process(inbound=inbound)
        samples.append((time.perf_counter() - began) * 1000)
    elapsed = time.perf_counter() - start
    assert InboundEmail.objects.filter(status="processed", label="interested").count() == REPLIES
    print_table(
        f"Store + process {REPLIES} replies, one process (ms per reply)",
        ["stage", "p50", "p95", "max", "throughput"],
        [latency_row("store+thread+classify+effects", samples, f"{REPLIES / elapsed:.0f}/s")],
    )


@pytest.mark.django_db
def test_imap_poll(fake_imap, settings):  # noqa: F811
    settings.IMAP_FETCH_LIMIT = REPLIES
    inbox = Inbox.objects.create(
        email="sales@jengu.example",
        imap_host="127.0.0.1",
        imap_port=fake_imap.port,
        imap_security="none",
        imap_password="imap-secret",
    )
    for i in range(REPLIES):
        fake_imap.add("INBOX", _reply(i))
    start = time.perf_counter()
    result = inbox_poll(inbox=inbox)
    elapsed = time.perf_counter() - start
    assert len(result.stored) == REPLIES
    print_table(
        "IMAP poll (loopback server)",
        ["messages", "seconds", "messages/s"],
        [[str(REPLIES), f"{elapsed:.2f}", f"{REPLIES / elapsed:.0f}"]],
    )
