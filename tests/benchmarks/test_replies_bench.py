"""Reply benchmarks: parse + rules per fixture, the whole store→process pipeline, an
IMAP poll from a loopback server, hostile messages (header and HTML bombs), and the
bounce corpus against our rules and against flufl.bounce."""

from __future__ import annotations

import email
import logging
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
from tests.outreach.bounce_corpus import confusion_rows, corpus_cases, corpus_dir, corpus_score
from tests.outreach.replies_fixtures import EML_DIR
from tests.work_budget import calls_of

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


def _header_bomb(count: int) -> bytes:
    fields = b"".join(b"X-Filler-%d: v\r\n" % i for i in range(count))
    return b"From: eve@evil.example\r\nMessage-ID: <h@evil.example>\r\n" + fields + b"\r\nx\r\n"


def _html_bomb(size: int) -> bytes:
    head = b"From: eve@evil.example\r\nMessage-ID: <n@evil.example>\r\nContent-Type: text/html\r\n"
    return head + b"\r\n" + b"<div>x" * (size // 6)


def _parse_or_refuse(raw: bytes) -> str:
    try:
        return f"read, {len(parse_email(raw).text):,} chars of text"
    except MalformedEmailError as exc:
        return f"flagged: {exc}"


def test_hostile_messages():
    rows = []
    for name, raw in [
        ("100k header fields", _header_bomb(100_000)),
        ("20k header fields", _header_bomb(20_000)),
        ("1 MB nested <div> HTML", _html_bomb(1_000_000)),
        ("480 KB nested <div> HTML (80k)", _html_bomb(480_000)),
    ]:
        outcome = _parse_or_refuse(raw)
        samples = time_calls(lambda raw=raw: _parse_or_refuse(raw), repeat=5, warmup=1)
        calls = calls_of(lambda raw=raw: parse_email(raw))
        rows.append([name, f"{max(samples):.0f}", f"{calls:,}", outcome])
    print_table(
        "Hostile messages: parse (ms, max of 5) and work", ["message", "ms", "calls", ""], rows
    )


def _flufl_score(cases) -> tuple[int, int, int, int]:
    from flufl.bounce import all_failures

    logging.getLogger("flufl.bounce").setLevel(logging.WARNING)  # it logs every detector
    bounces = found = agree = crashes = 0
    for case in (c for c in cases if c.counts_as_bounce):
        bounces += 1
        try:
            temporary, permanent = all_failures(email.message_from_bytes(case.path.read_bytes()))
        except Exception:  # noqa: BLE001 - a crash is what we count
            crashes += 1
            continue
        if temporary or permanent:
            found += 1
            agree += bool(permanent) == case.hard
    return bounces, found, agree, crashes


def test_bounce_corpus():
    root = corpus_dir()
    if root is None:
        pytest.skip("bounce corpus not found (JENGU_CORPUS_DIR)")
    cases = corpus_cases(root)
    start = time.perf_counter()
    ours = corpus_score(cases)
    ours_ms = (time.perf_counter() - start) * 1000 / len(cases)
    start = time.perf_counter()
    bounces, found, agree, crashes = _flufl_score(cases)
    flufl_ms = (time.perf_counter() - start) * 1000 / len(cases)
    rows = [
        [
            "Jengu rules",
            f"{ours.recognised}/{ours.bounces} ({ours.recognised_share:.1%})",
            f"{ours.agreement:.1%}",
            str(len(ours.crashes)),
            str(len(ours.reports_as_interest)),
            f"{ours_ms:.1f}",
        ],
        [
            "flufl.bounce 6.0",
            f"{found}/{bounces} ({found / bounces:.1%})",
            f"{agree / found:.1%}",
            str(crashes),
            "n/a",
            f"{flufl_ms:.1f}",
        ],
    ]
    print_table(
        f"Bounce corpus ({len(cases)} messages with sisimai's verdict)",
        [
            "parser",
            "bounces recognised",
            "hard/soft agreement",
            "crashes",
            "reports as interest",
            "ms/message",
        ],
        rows,
    )
    print_table("Bounce corpus: sisimai's verdict (rows) against our label", *confusion_rows(ours))
    reasons = sorted(ours.reasons.items(), key=lambda item: -item[1])[:25]
    print_table(
        "Bounce corpus: sisimai's reason against ours (top 25)",
        ["sisimai", "ours", "messages"],
        [[theirs, mine, str(n)] for (theirs, mine), n in reasons],
    )
