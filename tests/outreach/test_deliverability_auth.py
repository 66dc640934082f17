"""Authentication checks of an inbox's domain, the first-touch gate and its override."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from crm.errors import InvalidInput
from crm.models import Inbox
from outreach.deliverability import spf
from outreach.deliverability.auth import (
    inbox_auth_check,
    inbox_auth_override,
    inbox_deliverability_update,
)
from outreach.deliverability.auth_checks import inbox_auth_report
from outreach.deliverability_models import DeliverabilityLog, InboxDeliverability
from outreach.sending.rotation import rotation_candidates
from tests.factories import InboxFactory
from tests.outreach.deliverability_fixtures import (
    SELECTOR,
    PolicyServer,
    good_zone,
    resolver_for,
    signing_key,
)
from tests.outreach.sending_fixtures import make_campaign

pytestmark = pytest.mark.django_db
DOMAIN = "jengu.example"


@pytest.fixture(autouse=True)
def no_mta_sts(settings):
    settings.DELIVERABILITY_MTA_STS_CHECK = False
    return settings


def inbox(**fields):
    """The test's inbox on `DOMAIN` (made once), with the zone's DKIM selector."""
    fields.setdefault("email", f"sales@{DOMAIN}")
    fields.setdefault("smtp_host", "relay.test")
    box = Inbox.objects.filter(email=fields["email"]).first() or InboxFactory(**fields)
    InboxDeliverability.objects.get_or_create(inbox=box, defaults={"dkim_selector": SELECTOR})
    return box


def findings(report) -> dict:
    return {finding.check: finding for finding in report.findings}


def test_a_well_set_up_domain_passes_every_check():
    report = inbox_auth_report(inbox=inbox(), resolver=resolver_for(good_zone(DOMAIN)))

    by_check = findings(report)
    assert {c: f.status for c, f in by_check.items()} == {
        "spf": "pass",
        "dkim": "pass",
        "dmarc": "pass",
        "mx": "pass",
    }
    assert report.spf_aligned and report.dkim_aligned
    assert by_check["dkim"].details["bits"] == 2048


def test_spf_lookups_are_counted_through_nested_includes_and_eleven_fail():
    chain = {f"inc{n}.example": [f"v=spf1 include:inc{n + 1}.example ~all"] for n in range(11)}
    chain["inc11.example"] = ["v=spf1 ip4:127.0.0.1 -all"]
    zone = good_zone(DOMAIN, **{"": ["v=spf1 include:inc0.example ~all"]})
    zone["txt"].update(chain)

    report = inbox_auth_report(inbox=inbox(), resolver=resolver_for(zone))

    finding = findings(report)["spf"]
    assert finding.status == "fail"
    assert "receivers stop at 10" in finding.summary
    assert "10 lookups or fewer" in finding.fix
    assert not report.spf_aligned


def test_spf_counts_every_lookup_mechanism_once_and_ip_ranges_never():
    zone = good_zone(DOMAIN)
    zone["txt"]["a.example"] = ["v=spf1 a mx ip4:10.0.0.0/8 -all"]
    zone["addresses"]["a.example"] = ["198.51.100.7"]
    zone["mx"]["a.example"] = [(5, "mx.a.example")]
    zone["addresses"]["mx.a.example"] = ["198.51.100.8"]

    result = spf.spf_evaluate(resolver=resolver_for(zone), domain="a.example")

    assert result.lookups == 2
    assert result.allows("198.51.100.8") and result.allows("10.1.2.3")
    assert not result.allows("127.0.0.1")


def test_spf_that_does_not_list_the_relay_fails_with_the_record_to_publish():
    zone = good_zone(DOMAIN, **{"": ["v=spf1 ip4:203.0.113.9 -all"]})

    report = inbox_auth_report(inbox=inbox(), resolver=resolver_for(zone))

    finding = findings(report)["spf"]
    assert finding.status == "fail"
    assert "relay.test" in finding.summary
    assert finding.fix == f'Publish one TXT record at {DOMAIN}: "v=spf1 a:relay.test ~all".'


def test_a_google_workspace_inbox_needs_googles_include():
    box = inbox()
    InboxDeliverability.objects.filter(inbox=box).update(provider_preset="google_workspace")
    box.refresh_from_db()
    zone = good_zone(DOMAIN, **{"": ["v=spf1 include:_spf.google.com ~all"]})
    zone["txt"]["_spf.google.com"] = ["v=spf1 ip4:64.233.160.0/19 ~all"]

    report = inbox_auth_report(inbox=box, resolver=resolver_for(zone))

    assert findings(report)["spf"].status == "pass"
    assert report.spf_aligned


def dkim_record(bits: int) -> str:
    # Any odd modulus of that length serialises like a real key (cryptography will not
    # generate keys under 1024 bits, and receivers' check is only the length).
    modulus = (1 << (bits - 1)) | (3 << (bits // 2)) | 1
    public = rsa.RSAPublicNumbers(65537, modulus).public_key()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


@pytest.mark.parametrize(
    ("bits", "status", "aligned"),
    [(2048, "pass", True), (1024, "warn", True), (512, "fail", False)],
)
def test_dkim_key_length_decides_the_finding(bits, status, aligned):
    zone = good_zone(DOMAIN, **{f"{SELECTOR}._domainkey.{DOMAIN}": [dkim_record(bits)]})

    report = inbox_auth_report(inbox=inbox(), resolver=resolver_for(zone))

    assert findings(report)["dkim"].status == status
    assert findings(report)["dkim"].details["bits"] == bits
    assert report.dkim_aligned is aligned


def test_a_published_key_that_is_not_jengus_own_fails_when_jengu_signs():
    box = inbox()
    InboxDeliverability.objects.filter(inbox=box).update(
        dkim_sign=True, dkim_private_key=signing_key(1024)
    )
    box.refresh_from_db()

    report = inbox_auth_report(inbox=box, resolver=resolver_for(good_zone(DOMAIN)))

    dkim = findings(report)["dkim"]
    assert dkim.status == "fail"
    assert "not the one Jengu signs with" in dkim.summary
    assert dkim.fix.startswith(f'Publish a TXT record at {SELECTOR}._domainkey.{DOMAIN}: "v=DKIM1')


def test_no_selector_and_no_key_tell_the_operator_what_to_do():
    box = InboxFactory(email=f"ops@{DOMAIN}")  # generic SMTP, no selector

    report = inbox_auth_report(inbox=box, resolver=resolver_for(good_zone(DOMAIN)))

    dkim = findings(report)["dkim"]
    assert dkim.status == "fail"
    assert "selector" in dkim.fix


def test_dmarc_monitoring_only_warns_and_a_missing_record_fails():
    none = good_zone(DOMAIN, **{f"_dmarc.{DOMAIN}": ["v=DMARC1; p=none"]})
    missing = good_zone(DOMAIN, **{f"_dmarc.{DOMAIN}": []})

    assert (
        findings(inbox_auth_report(inbox=inbox(), resolver=resolver_for(none)))["dmarc"].status
        == "warn"
    )
    gone = findings(inbox_auth_report(inbox=inbox(), resolver=resolver_for(missing)))["dmarc"]
    assert gone.status == "fail"
    assert f"_dmarc.{DOMAIN}" in gone.fix


def test_dmarc_of_the_organisational_domain_covers_a_subdomain():
    zone = good_zone(f"mail.{DOMAIN}")
    zone["txt"][f"_dmarc.{DOMAIN}"] = ["v=DMARC1; p=reject; sp=quarantine"]
    del zone["txt"][f"_dmarc.mail.{DOMAIN}"]
    box = inbox(email=f"sales@mail.{DOMAIN}")

    dmarc = findings(inbox_auth_report(inbox=box, resolver=resolver_for(zone)))["dmarc"]

    assert dmarc.status == "pass"
    assert dmarc.details["found_at"] == DOMAIN
    assert dmarc.details["policy"] == "quarantine"


def test_a_domain_without_mx_fails():
    zone = good_zone(DOMAIN)
    zone["mx"][DOMAIN] = []

    assert (
        findings(inbox_auth_report(inbox=inbox(), resolver=resolver_for(zone)))["mx"].status
        == "fail"
    )


@pytest.fixture
def policy_server(settings):
    server = PolicyServer().start()
    settings.DELIVERABILITY_MTA_STS_CHECK = True
    settings.DELIVERABILITY_MTA_STS_POLICY_URL = server.url + "{domain}"
    settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = True
    yield server
    server.stop()


def test_mta_sts_policy_is_fetched_and_must_cover_the_mx_hosts(policy_server):
    zone = good_zone(DOMAIN, **{f"_mta-sts.{DOMAIN}": ["v=STSv1; id=2026120501"]})
    policy_server.policies[DOMAIN] = "version: STSv1\nmode: enforce\nmx: *.other.example\n"
    box = inbox()

    finding = findings(inbox_auth_report(inbox=box, resolver=resolver_for(zone)))["mta_sts"]
    assert finding.status == "fail"
    assert f"mx.{DOMAIN}" in finding.fix

    policy_server.policies[DOMAIN] = (
        f"version: STSv1\nmode: enforce\nmx: *.{DOMAIN}\nmax_age: 86400\n"
    )
    finding = findings(inbox_auth_report(inbox=inbox(), resolver=resolver_for(zone)))["mta_sts"]
    assert finding.status == "pass"


def test_an_announced_but_unreachable_mta_sts_policy_fails(policy_server):
    zone = good_zone(DOMAIN, **{f"_mta-sts.{DOMAIN}": ["v=STSv1; id=1"]})

    finding = findings(inbox_auth_report(inbox=inbox(), resolver=resolver_for(zone)))["mta_sts"]

    assert finding.status == "fail"
    assert "unreadable" in finding.summary


def test_mta_sts_policy_fetches_refuse_private_addresses(policy_server, settings):
    settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = False
    zone = good_zone(DOMAIN, **{f"_mta-sts.{DOMAIN}": ["v=STSv1; id=1"]})
    policy_server.policies[DOMAIN] = f"version: STSv1\nmode: enforce\nmx: *.{DOMAIN}\n"

    finding = findings(inbox_auth_report(inbox=inbox(), resolver=resolver_for(zone)))["mta_sts"]

    assert finding.status == "fail"


def broken_zone() -> dict:
    """Neither SPF (no record) nor DKIM (no key) can align."""
    return good_zone(DOMAIN, **{"": [], f"{SELECTOR}._domainkey.{DOMAIN}": []})


def test_failing_alignment_blocks_first_touches_but_not_follow_ups(settings):
    box = inbox()
    campaign = make_campaign([box])
    settings.ENRICHMENT_DNS_RESOLVER = resolver_for(broken_zone())

    row = inbox_auth_check(inbox=box)

    assert row.first_touch_blocked
    assert rotation_candidates(campaign=campaign, first_step=True) == []
    assert rotation_candidates(campaign=campaign, first_step=False) == [box]
    log = DeliverabilityLog.objects.get(kind="auth_checked")
    assert "first touches blocked" in log.detail

    settings.ENRICHMENT_DNS_RESOLVER = resolver_for(good_zone(DOMAIN))
    assert not inbox_auth_check(inbox=box).first_touch_blocked
    assert rotation_candidates(campaign=campaign, first_step=True) == [box]


def test_one_aligned_mechanism_is_enough_for_dmarc(settings):
    box = inbox()
    settings.ENRICHMENT_DNS_RESOLVER = resolver_for(good_zone(DOMAIN, **{"": []}))

    row = inbox_auth_check(inbox=box)

    assert row.auth_status == "fail"  # SPF missing is a failing check...
    assert not row.first_touch_blocked  # ...but DKIM alone aligns


def test_a_dns_outage_neither_blocks_nor_unblocks(settings):
    box = inbox()
    settings.ENRICHMENT_DNS_RESOLVER = resolver_for(broken_zone())
    inbox_auth_check(inbox=box)
    settings.ENRICHMENT_DNS_RESOLVER = resolver_for(
        good_zone(DOMAIN), timeouts={DOMAIN, f"{SELECTOR}._domainkey.{DOMAIN}"}
    )

    row = inbox_auth_check(inbox=box)

    assert row.auth_status == "error"
    assert row.first_touch_blocked
    assert row.auth_report["last_error"]["findings"][0]["status"] == "error"


def test_an_operator_override_lets_first_touches_go_and_is_logged(settings):
    box = inbox()
    campaign = make_campaign([box])
    settings.ENRICHMENT_DNS_RESOLVER = resolver_for(broken_zone())
    inbox_auth_check(inbox=box)

    with pytest.raises(InvalidInput):
        inbox_auth_override(inbox=box, enabled=True, actor="user:ops", note=" ")
    blocked = inbox_auth_override(inbox=box, enabled=True, actor="user:ops", note="DKIM at relay")
    assert blocked is False
    assert rotation_candidates(campaign=campaign, first_step=True) == [box]
    assert not inbox_auth_check(inbox=box).first_touch_blocked  # the override outlives checks

    inbox_auth_override(inbox=box, enabled=False, actor="user:ops")
    assert rotation_candidates(campaign=campaign, first_step=True) == []
    kinds = list(DeliverabilityLog.objects.order_by("id").values_list("kind", "actor"))
    assert ("override_set", "user:ops") in kinds
    assert ("override_cleared", "user:ops") in kinds


def test_a_bad_private_key_is_refused_with_a_reason():
    box = inbox()

    with pytest.raises(InvalidInput, match="PEM"):
        inbox_deliverability_update(
            inbox=box, data={"dkim_private_key": "not a key"}, actor="user:ops"
        )
    with pytest.raises(InvalidInput, match="private key"):
        inbox_deliverability_update(inbox=box, data={"dkim_sign": True}, actor="user:ops")


def test_the_demo_inbox_authenticates_so_make_run_keeps_sending():
    from enrichment.demo_site import DEMO_SENDING_DOMAIN, DemoResolver

    demo = InboxFactory(email=f"sam@{DEMO_SENDING_DOMAIN}", smtp_host="127.0.0.1")

    report = inbox_auth_report(inbox=demo, resolver=DemoResolver())

    assert report.spf_aligned
    assert not report.alignment_fails
