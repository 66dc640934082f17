"""Enrichment writes: enrich a prospect, validate an address.

The actors and the management command call these; asking for enrichment
(`crm.services.prospects_enqueue_enrichment`) is crm's, as it only emits events.
Everything found is stored in `Prospect.enrichment` with its source, so a user
can see why Jengu chose an address; stage moves go through `prospect_change_stage`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.models import EmailStatus, Prospect, Stage
from crm.services import ENRICHABLE_STAGES, prospect_change_stage, prospect_move_if_allowed
from enrichment.choice import Choice, choose_address
from enrichment.emails import EmailFinder, EmailSearch, candidate
from enrichment.fetch import Fetcher
from enrichment.search import SearchProvider, get_search_provider
from enrichment.validation import (
    MillionVerifier,
    ValidationResult,
    get_verifier,
    verify_address,
)
from enrichment.website import WebsiteFinder, WebsiteSearch
from jengu.bus import emit
from jengu.dns import Resolver, get_resolver
from jengu.redis_helpers import ProspectLock

logger = logging.getLogger(__name__)

MAX_SKIPS_KEPT = 10
_FROM_SETTINGS = object()


@dataclass
class EnrichmentResult:
    prospect_id: int
    status: str  # "enriched" | "skipped"
    reason: str = ""
    website: str = ""
    candidates: list[dict] = field(default_factory=list)
    to_validate: list[str] = field(default_factory=list)


def prospect_enrich(
    *,
    prospect: Prospect,
    resolver: Resolver | None = None,
    search: SearchProvider | None | object = _FROM_SETTINGS,
    changed_by: str = "actor:EnrichProspect",
) -> EnrichmentResult:
    """Find the website and addresses of one prospect and queue their validation.

    Holds the prospect's lock for the whole run: a second enrichment of the same
    prospect (a duplicate click, a redelivered message) is skipped and recorded.
    """
    lock = ProspectLock(prospect.pk, ttl=settings.ENRICHMENT_TIME_BUDGET + 30)
    if not lock.try_acquire():
        return _skipped(prospect, "already being enriched by another worker")
    try:
        prospect.refresh_from_db()
        if prospect.stage not in ENRICHABLE_STAGES:
            return _skipped(prospect, f"stage {prospect.stage} is past enrichment")
        prospect_change_stage(
            prospect=prospect, to_stage=Stage.ENRICHING, changed_by=changed_by,
            reason="enrichment started",
        )  # fmt: skip
        resolver = resolver or get_resolver()
        search = get_search_provider() if search is _FROM_SETTINGS else search
        try:
            website, emails = _find(prospect, resolver=resolver, search=search)
        except Exception as exc:  # noqa: BLE001 - see _failed_search
            website, emails = _failed_search(prospect, exc)
        return _save_findings(prospect, website, emails, changed_by=changed_by)
    finally:
        lock.release()


def _find(
    prospect: Prospect, *, resolver: Resolver, search: SearchProvider | None
) -> tuple[WebsiteSearch, EmailSearch]:
    deadline = time.monotonic() + settings.ENRICHMENT_TIME_BUDGET
    with Fetcher(resolver=resolver, deadline=deadline) as fetcher:
        website = WebsiteFinder(fetcher=fetcher, resolver=resolver, search=search).find(prospect)
        emails = EmailFinder(fetcher=fetcher).find(
            site=website.site,
            contact_name=prospect.contact_name,
            provided=prospect.email.lower(),
            business_name=prospect.business_name,
        )
    return website, emails


def _failed_search(prospect: Prospect, exc: Exception) -> tuple[WebsiteSearch, EmailSearch]:
    """What a run that broke on a stranger's website or DNS leaves: the reason, no findings.

    Reading websites touches no database: an error there (a parser or resolver bug
    on hostile input) fails the same way on every retry, and a retried message would
    leave the prospect in `enriching` until it is dead-lettered. So the run ends
    here, the reason is recorded and the error is logged for the operator.
    """
    logger.exception("enrichment of prospect %s failed while reading the web", prospect.pk)
    reason = f"failed: {type(exc).__name__}: {exc}"[:300]
    website = WebsiteSearch()
    website.tried("", "error", reason)
    emails = EmailSearch()
    if prospect.email:
        emails.candidates = [candidate(prospect.email.lower(), "provided", "provided")]
    return website, emails


@transaction.atomic
def _save_findings(
    prospect: Prospect, website: WebsiteSearch, emails: EmailSearch, *, changed_by: str
) -> EnrichmentResult:
    locked = Prospect.objects.select_for_update().get(pk=prospect.pk)
    site = website.site
    if site and not locked.website:
        locked.website = site.url[:500]
    if site and not locked.domain:
        locked.domain = site.domain[:255]
    to_validate = [c["email"] for c in emails.candidates[: settings.ENRICHMENT_VALIDATE_TOP]]
    verdicts: dict[str, dict] = {}
    if locked.email and locked.email_status != EmailStatus.UNKNOWN:
        # A pre-verified list: trust the status it came with, spend nothing on it.
        to_validate = [locked.email.lower()]
        verdicts[to_validate[0]] = {"status": locked.email_status, "method": "provided",
                                    "reason": "status given with the prospect"}  # fmt: skip
    locked.enrichment = {
        **_kept_history(locked.enrichment),
        "enriched_at": timezone.now().isoformat(),
        "website": _site_record(website),
        "website_attempts": website.attempts[-30:],
        "pages": emails.pages,
        "candidates": emails.candidates,
        "rejected": emails.rejected[:30],
        "to_validate": to_validate,
        "validation": verdicts,
        "summary": _summary(website, emails, to_validate),
    }
    locked.save(update_fields=["website", "domain", "enrichment", "updated_at"])
    prospect_change_stage(
        prospect=locked, to_stage=Stage.ENRICHED, changed_by=changed_by,
        reason=locked.enrichment["summary"],
    )  # fmt: skip
    if verdicts:
        _apply_choice(locked, changed_by=changed_by)
    else:
        for email in to_validate:
            emit("ValidateEmail", {"prospect_id": locked.pk, "email": email})
        if not to_validate:
            _apply_choice(locked, changed_by=changed_by)
    prospect.refresh_from_db()
    return EnrichmentResult(
        prospect_id=prospect.pk, status="enriched", reason=locked.enrichment["summary"],
        website=prospect.website, candidates=emails.candidates, to_validate=to_validate,
    )  # fmt: skip


def email_validate(
    *,
    prospect: Prospect,
    email: str,
    resolver: Resolver | None = None,
    verifier: MillionVerifier | None | object = _FROM_SETTINGS,
    fallback_to_local: bool = True,
    changed_by: str = "actor:ValidateEmail",
) -> ValidationResult:
    """Validate one address of a prospect, record the verdict and re-decide its address.

    `fallback_to_local=False` lets an actor with retries left re-raise a provider
    outage (`ProviderUnavailable`) instead of settling for the local verdict.
    """
    result = verify_address(
        email.strip().lower(),
        resolver=resolver or get_resolver(),
        verifier=get_verifier() if verifier is _FROM_SETTINGS else verifier,
        fallback_to_local=fallback_to_local,
    )
    with transaction.atomic():
        locked = Prospect.objects.select_for_update().get(pk=prospect.pk)
        data = dict(locked.enrichment or {})
        key = email.strip().lower()
        ranked = list(data.get("to_validate", []))
        if key not in ranked:
            ranked.insert(0, key)  # an explicit request for this address puts it first
        data["to_validate"] = ranked
        data["validation"] = {
            **data.get("validation", {}),
            key: {**result.as_dict(), "at": timezone.now().isoformat()},
        }
        locked.enrichment = data
        locked.save(update_fields=["enrichment", "updated_at"])
        _apply_choice(locked, changed_by=changed_by)
    prospect.refresh_from_db()
    return result


def _apply_choice(locked: Prospect, *, changed_by: str) -> Choice:
    """Set the chosen address, its status and the stage, inside the caller's transaction."""
    data = locked.enrichment
    verdicts = _without_taken_addresses(locked, data.get("validation", {}))
    choice = choose_address(ranked=data.get("to_validate", []), verdicts=verdicts)
    if not choice.decided:
        return choice
    if choice.email:
        locked.email = choice.email
    locked.email_status = choice.status
    locked.enrichment = {**data, "chosen": {"email": choice.email, "status": choice.status,
                                            "reason": choice.reason}}  # fmt: skip
    locked.save(update_fields=["email", "email_status", "enrichment", "updated_at"])
    reason = f"{choice.email or 'no address'}: {choice.status} ({choice.reason})"
    prospect_move_if_allowed(
        prospect=locked, to_stage=choice.stage, changed_by=changed_by, reason=reason
    )
    return choice


def _without_taken_addresses(locked: Prospect, verdicts: dict[str, dict]) -> dict[str, dict]:
    """An address another prospect already holds cannot be this one's (unique e-mail)."""
    taken = set(
        Prospect.objects.filter(email__in=list(verdicts))
        .exclude(pk=locked.pk)
        .values_list("email", flat=True)
    )
    return {
        email: (
            {"status": EmailStatus.INVALID, "reason": "address belongs to another prospect"}
            if email in taken
            else verdict
        )
        for email, verdict in verdicts.items()
    }


def _skipped(prospect: Prospect, reason: str) -> EnrichmentResult:
    with transaction.atomic():
        locked = Prospect.objects.select_for_update().get(pk=prospect.pk)
        data = dict(locked.enrichment or {})
        skips = [*data.get("skips", []), {"at": timezone.now().isoformat(), "reason": reason}]
        data["skips"] = skips[-MAX_SKIPS_KEPT:]
        locked.enrichment = data
        locked.save(update_fields=["enrichment", "updated_at"])
    logger.info("enrichment of prospect %s skipped: %s", prospect.pk, reason)
    return EnrichmentResult(prospect_id=prospect.pk, status="skipped", reason=reason)


def _kept_history(previous: dict | None) -> dict:
    return {"skips": previous["skips"]} if previous and previous.get("skips") else {}


def _site_record(website: WebsiteSearch) -> dict | None:
    site = website.site
    if site is None:
        return None
    return {"url": site.url, "domain": site.domain, "method": site.method,
            "confidence": site.confidence, "evidence": site.evidence}  # fmt: skip


def _summary(website: WebsiteSearch, emails: EmailSearch, to_validate: list[str]) -> str:
    site = website.site
    if site:
        found = f"website {site.url} ({site.method}, confidence {site.confidence:.2f})"
    else:
        last = website.attempts[-1]["outcome"] if website.attempts else "nothing to try"
        found = f"no website ({last})"
    return (
        f"{found}; {len(emails.candidates)} candidate addresses, "
        f"{len(emails.rejected)} rejected; validating {len(to_validate)}"
    )[:500]
