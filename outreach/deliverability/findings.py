"""A check's findings and an inbox domain's authentication report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

PASS, WARN, FAIL, ERROR = "pass", "warn", "fail", "error"
_RANK = {PASS: 0, WARN: 1, ERROR: 2, FAIL: 3}


@dataclass
class Finding:
    check: str  # spf | dkim | dmarc | mx | mta_sts
    status: str
    summary: str
    fix: str = ""
    details: dict = field(default_factory=dict)


@dataclass
class AuthReport:
    domain: str
    findings: list[Finding]
    spf_aligned: bool
    dkim_aligned: bool

    @property
    def status(self) -> str:
        return max((f.status for f in self.findings), key=_RANK.__getitem__, default=PASS)

    @property
    def alignment_fails(self) -> bool:
        """Neither SPF nor DKIM aligns: DMARC fails and big receivers refuse or junk it."""
        return not (self.spf_aligned or self.dkim_aligned)

    def as_dict(self) -> dict:
        return {
            "domain": self.domain,
            "status": self.status,
            "spf_aligned": self.spf_aligned,
            "dkim_aligned": self.dkim_aligned,
            "findings": [asdict(finding) for finding in self.findings],
        }
