"""Read queries behind the sales pages, each cheap at 100k prospects / 500k messages.

Counts over messages come from `DailyStat` rollups (outreach.dashboard.rollups); lists use keyset
pagination (no COUNT(*)); per-inbox "sent today" uses the (inbox, sent_at) index.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from crm.models import Campaign, DailyStat, EmailStatus, Enrollment, Prospect, Stage
from jengu.admin_utils import column_values_cached
from outreach.dashboard.params import id_param

# The funnel shown on the overview, in order; a prospect counts in every step it
# has reached (a won prospect was also contacted and replied).
FUNNEL = [
    ("New", [Stage.NEW, Stage.ENRICHING]),
    ("Enriched", [Stage.ENRICHED]),
    ("Ready", [Stage.READY]),
    ("Contacted", [Stage.CONTACTED]),
    ("Replied", [Stage.REPLIED]),
    ("Meeting / won", [Stage.MEETING, Stage.WON]),
]
CHART_METRICS = ("sent", "replied", "bounced")
PAGE_SIZE = 50
SUMMARY_CACHE_SECONDS = 15


@dataclass
class EnrichmentRates:
    processed: int
    website_found: float
    email_found: float
    email_valid: float


@dataclass
class ProspectSummary:
    stage_counts: dict[str, int]
    enrichment: EnrichmentRates


def prospect_summary() -> ProspectSummary:
    """Prospects per stage and enrichment found rates, shared for a few seconds.

    One pass over the prospect table costs ~40 ms at 100k rows; the overview is
    polled every 5 s by every open browser, so all of them share one computation.
    """
    return cache.get_or_set("dashboard:prospect-summary", _prospect_summary, SUMMARY_CACHE_SECONDS)


def _prospect_summary() -> ProspectSummary:
    """Enrichment rates count the prospects enrichment has finished with (every stage
    after new/enriching): how often it found a website, an e-mail, a valid e-mail."""
    rows = (
        Prospect.objects.values("stage")
        .annotate(
            n=Count("id"),
            website=Count("id", filter=~Q(website="")),
            email=Count("id", filter=~Q(email="")),
            valid=Count("id", filter=Q(email_status=EmailStatus.VALID)),
        )
        .order_by()
    )
    stage_counts, done = {}, defaultdict(int)
    for row in rows:
        stage_counts[row["stage"]] = row["n"]
        if row["stage"] not in (Stage.NEW, Stage.ENRICHING):
            for key in ("n", "website", "email", "valid"):
                done[key] += row[key]
    n = done["n"]

    def pct(x: int) -> float:
        return round(100 * x / n, 1) if n else 0.0

    rates = EnrichmentRates(n, pct(done["website"]), pct(done["email"]), pct(done["valid"]))
    return ProspectSummary(stage_counts, rates)


@dataclass
class FunnelStep:
    label: str
    reached: int
    percent_of_first: float


def funnel(*, stage_counts: dict[str, int]) -> list[FunnelStep]:
    """Cumulative funnel: prospects at this step or any later one."""
    per_step = [sum(stage_counts.get(s, 0) for s in stages) for _, stages in FUNNEL]
    reached = [sum(per_step[i:]) for i in range(len(per_step))]
    first = reached[0] or 1
    return [
        FunnelStep(label, n, round(100 * n / first, 1))
        for (label, _), n in zip(FUNNEL, reached, strict=True)
    ]


@dataclass
class DailySeries:
    days: list[date]
    series: dict[str, list[int]] = field(default_factory=dict)


def daily_series(*, days: int = 30, today: date | None = None) -> DailySeries:
    """Sent / replied / bounced per day for the last `days` days, from rollups."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    rows = (
        DailyStat.objects.filter(day__gte=first, metric__in=CHART_METRICS)
        .values_list("day", "metric")
        .annotate(total=Sum("value"))
        .order_by()
    )
    by_key = {(day, metric): total for day, metric, total in rows}
    span = [first + timedelta(days=i) for i in range(days)]
    return DailySeries(span, {m: [by_key.get((d, m), 0) for d in span] for m in CHART_METRICS})


def metric_totals(*, since: date, campaign_id: int | None = None) -> dict[str, int]:
    qs = DailyStat.objects.filter(day__gte=since)
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id)
    return dict(qs.values_list("metric").annotate(total=Sum("value")).order_by())


@dataclass
class ProspectFilters:
    q: str = ""
    stage: str = ""
    campaign: int | None = None
    email_status: str = ""
    country: str = ""

    @classmethod
    def from_query(cls, params) -> ProspectFilters:
        return cls(
            q=params.get("q", "").strip()[:100],
            stage=params.get("stage", "") if params.get("stage") in Stage.values else "",
            campaign=id_param(params, "campaign"),
            email_status=params.get("email_status", "")
            if params.get("email_status") in EmailStatus.values
            else "",
            country=params.get("country", "").strip().upper()[:2],
        )


def prospect_search(*, filters: ProspectFilters) -> QuerySet[Prospect]:
    qs = Prospect.objects.all()
    if filters.q:
        qs = qs.searched(filters.q)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.email_status:
        qs = qs.filter(email_status=filters.email_status)
    if filters.country:
        qs = qs.filter(country=filters.country)
    if filters.campaign:
        enrolled = Enrollment.objects.filter(prospect=OuterRef("pk"), campaign_id=filters.campaign)
        qs = qs.filter(Exists(enrolled))
    return qs


@dataclass
class Page:
    rows: list
    next_cursor: int | None


def prospect_page(*, filters: ProspectFilters, before_id: int | None = None) -> Page:
    """One page of prospects, newest first; keyset on id, no COUNT(*)."""
    qs = (
        prospect_search(filters=filters)
        .order_by("-id")
        .only(
            "id",
            "business_name",
            "contact_name",
            "email",
            "city",
            "country",
            "stage",
            "email_status",
            "score",
            "updated_at",
        )
    )
    if before_id:
        qs = qs.filter(id__lt=before_id)
    rows = list(qs[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(rows, rows[-1].id if more else None)


def country_choices() -> list[str]:
    """Countries present, for the filter list (the admin's country filter shares them)."""
    return column_values_cached(model=Prospect, field="country")


def campaign_choices() -> list[tuple[int, str]]:
    return list(Campaign.objects.order_by("name").values_list("id", "name"))


@dataclass
class StatRow:
    """Counts and rates for one campaign, step or variant."""

    label: str
    enrolled: int = 0
    sent: int = 0
    replied: int = 0
    positive: int = 0
    bounced: int = 0
    unsubscribed: int = 0

    def rate(self, part: int) -> float:
        return round(100 * part / self.sent, 1) if self.sent else 0.0

    @property
    def reply_rate(self) -> float:
        return self.rate(self.replied)

    @property
    def positive_rate(self) -> float:
        return self.rate(self.positive)

    @property
    def bounce_rate(self) -> float:
        return self.rate(self.bounced)

    @property
    def unsubscribe_rate(self) -> float:
        return self.rate(self.unsubscribed)


ROLLED_UP = ("sent", "replied", "positive", "bounced", "unsubscribed")


def _fill(row: StatRow, metrics: dict[str, int]) -> StatRow:
    for name in ROLLED_UP:
        setattr(row, name, metrics.get(name, 0))
    return row


def campaign_overview() -> list[tuple[Campaign, StatRow]]:
    """Every campaign with its all-time numbers (rollups + one enrollment GROUP BY)."""
    campaigns = list(Campaign.objects.order_by("-id"))
    enrolled = dict(
        Enrollment.objects.values_list("campaign_id").annotate(n=Count("id")).order_by()
    )
    per: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        DailyStat.objects.filter(campaign_id__isnull=False, metric__in=ROLLED_UP)
        .values_list("campaign_id", "metric")
        .annotate(total=Sum("value"))
        .order_by()
    )
    for campaign_id, metric, total in rows:
        per[campaign_id][metric] = total
    out = []
    for campaign in campaigns:
        row = _fill(StatRow(campaign.name, enrolled.get(campaign.id, 0)), per[campaign.id])
        out.append((campaign, row))
    return out


@dataclass
class CampaignBreakdown:
    total: StatRow
    steps: list[StatRow]
    variants: list[StatRow]
    enrollment_status: dict[str, int]


def campaign_breakdown(*, campaign: Campaign) -> CampaignBreakdown:
    """One campaign per step and per A/B variant, from rollups."""
    rows = (
        DailyStat.objects.filter(campaign_id=campaign.id, metric__in=ROLLED_UP)
        .values_list("step", "variant", "metric")
        .annotate(total=Sum("value"))
        .order_by()
    )
    total: dict[str, int] = defaultdict(int)
    steps: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    variants: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for step, variant, metric, value in rows:
        total[metric] += value
        if step is not None:
            steps[step][metric] += value
        variants[variant or "A"][metric] += value
    status = dict(
        Enrollment.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    enrolled = sum(status.values())
    step_orders = sorted(set(campaign.steps.values_list("order", flat=True)) | set(steps))
    return CampaignBreakdown(
        total=_fill(StatRow("All steps", enrolled), total),
        steps=[_fill(StatRow(f"Step {order}"), steps.get(order, {})) for order in step_orders],
        variants=[_fill(StatRow(f"Variant {name}"), m) for name, m in sorted(variants.items())],
        enrollment_status=status,
    )
