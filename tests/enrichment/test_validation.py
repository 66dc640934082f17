"""Address validation: local checks with an injected resolver, then MillionVerifier."""

import logging

import pytest

from enrichment.providers import ProviderUnavailable
from enrichment.validation import MillionVerifier, local_checks, verify_address
from jengu.dns import StaticResolver
from jengu.redis_helpers import CircuitBreaker, reset_breaker
from tests.fakes.millionverifier import API_KEY, FakeMillionVerifier

pytestmark = pytest.mark.django_db  # breaker transitions are recorded as events

RESOLVER = StaticResolver(
    addresses={"a-only.pt": ["93.184.216.34"], "nothing.pt": []},
    mx={
        "casaazul.pt": [(10, "mx1.casaazul.pt"), (20, "mx2.casaazul.pt")],
        "nullmx.pt": [(0, "")],
        "a-only.pt": [],
        "nothing.pt": [],
        "mailinator.com": [(10, "mail.mailinator.com")],
    },
    timeouts={"slow-dns.pt"},
)


@pytest.mark.parametrize(
    ("email", "status", "reason"),
    [
        ("ana@casaazul.pt", "valid", "domain receives mail; mailbox not verified"),
        ("Ana@CasaAzul.PT", "valid", "domain receives mail; mailbox not verified"),
        ("ana@a-only.pt", "valid", "domain receives mail; mailbox not verified"),
        ("ana@nothing.pt", "invalid", "domain has no MX and no address"),
        ("ana@nullmx.pt", "invalid", "domain accepts no mail (null MX)"),
        ("ana@no-such-domain.pt", "invalid", "domain does not exist"),
        ("ana@slow-dns.pt", "unknown", "DNS did not answer in time"),
        ("x@mailinator.com", "invalid", "disposable domain"),
    ],
)
def test_local_checks(email, status, reason):
    result = local_checks(email, resolver=RESOLVER)
    assert (result.status, result.reason, result.method) == (status, reason, "local")


@pytest.mark.parametrize("email", ["", "ana", "ana@", "@casaazul.pt", "ana@@casaazul.pt",
                                   "ana costa@casaazul.pt", "ana@casaazul"])  # fmt: skip
def test_bad_syntax_is_invalid_with_the_reason(email):
    result = local_checks(email, resolver=RESOLVER)
    assert result.status == "invalid"
    assert result.reason.startswith("syntax:")


def test_role_accounts_are_flagged_not_rejected():
    assert local_checks("reservas@casaazul.pt", resolver=RESOLVER).checks["role"] is True
    assert local_checks("ana@casaazul.pt", resolver=RESOLVER).checks["role"] is False


@pytest.fixture
def mv():
    reset_breaker("provider:millionverifier")
    fake = FakeMillionVerifier().start()
    yield fake
    fake.stop()
    reset_breaker("provider:millionverifier")


def verifier_for(fake, key=API_KEY):
    return MillionVerifier(base_url=fake.url, api_key=key, rate_per_second=100)


def verify(email, verifier, fallback=True):
    return verify_address(email, resolver=RESOLVER, verifier=verifier, fallback_to_local=fallback)


@pytest.mark.parametrize(
    ("answer", "status"),
    [("ok", "valid"), ("catch_all", "catch_all"), ("unknown", "risky"),
     ("invalid", "invalid"), ("disposable", "invalid")],
)  # fmt: skip
def test_millionverifier_results_map_to_email_status(mv, answer, status):
    mv.results["ana@casaazul.pt"] = answer
    result = verify("ana@casaazul.pt", verifier_for(mv))
    assert (result.status, result.method) == (status, "millionverifier")
    assert result.checks["provider"]["result"] == answer


def test_locally_invalid_addresses_spend_no_credit(mv):
    assert verify("ana@nullmx.pt", verifier_for(mv)).status == "invalid"
    assert mv.calls == []


def test_without_a_key_the_local_verdict_stands_and_says_so():
    result = verify("ana@casaazul.pt", None)
    assert (result.status, result.method) == ("valid", "local")
    assert result.checks["provider"] == "off: no MILLIONVERIFIER_API_KEY"


def test_a_refused_key_falls_back_to_local_and_never_shows_the_key(mv):
    result = verify("ana@casaazul.pt", verifier_for(mv, key="wrong-secret-key"))
    assert (result.status, result.method) == ("valid", "local")
    assert "refused" in result.checks["provider"]
    assert "wrong-secret-key" not in repr(result.as_dict())


def test_server_errors_fall_back_to_local_and_open_the_breaker(mv):
    mv.behave("error")
    verifier = verifier_for(mv)
    for _ in range(3):
        result = verify("ana@casaazul.pt", verifier)
        assert result.method == "local"
        assert result.checks["provider"] == "unavailable: HTTP 500"
    assert len(mv.calls) == 3
    # Given the breaker is now open, when another address is validated,
    # then MillionVerifier is not called and the local verdict says why.
    result = verify("ana@casaazul.pt", verifier)
    assert result.checks["provider"] == "unavailable: circuit open"
    assert len(mv.calls) == 3


def test_an_outage_is_raised_when_the_caller_can_retry(mv):
    mv.behave("error")
    with pytest.raises(ProviderUnavailable) as caught:
        verify("ana@casaazul.pt", verifier_for(mv), fallback=False)
    assert caught.value.reason == "HTTP 500"


def test_rate_limit_with_retry_after_opens_the_breaker_for_that_long(mv):
    mv.behave("rate_limit", retry_after="120")
    verifier = verifier_for(mv)
    assert verify("ana@casaazul.pt", verifier).checks["provider"] == "unavailable: 429 rate limited"
    assert CircuitBreaker("provider:millionverifier").state == "open"
    mv.behave("ok")
    assert verify("ana@casaazul.pt", verifier).checks["provider"] == "unavailable: circuit open"
    assert len(mv.calls) == 1


def test_the_api_key_never_reaches_the_logs(mv, caplog):
    caplog.set_level(logging.DEBUG)
    mv.behave("error")
    verify("ana@casaazul.pt", verifier_for(mv))
    mv.behave("ok")
    reset_breaker("provider:millionverifier")
    verify("ana@casaazul.pt", verifier_for(mv))
    assert len(mv.calls) == 2
    assert API_KEY not in caplog.text


def test_a_hanging_verifier_times_out(mv):
    mv.behave("hang")
    verifier = verifier_for(mv)
    verifier.timeout = 0.3
    assert verify("ana@casaazul.pt", verifier).checks["provider"] == "unavailable: timeout"
