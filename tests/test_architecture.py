"""The architecture's rules, checked (docs/architecture.md): the import contracts in
pyproject.toml, and one owner for every write to an Enrollment row."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)
APPS = ("jengu", "crm", "enrichment", "outreach")
ENROLLMENT_OWNER = BASE / "crm" / "enrollments.py"

# Calls that write rows, on a receiver that is (or comes from) an Enrollment: the
# manager, a related manager (`prospect.enrollments`), an instance (`enrollment`,
# `message.enrollment`, `Enrollment(...)`) or a queryset named for them.
_WRITES = {"update", "create", "bulk_create", "bulk_update", "delete", "save"}
_WRITES |= {"get_or_create", "update_or_create"}
_ENROLLMENT_RECEIVER = re.compile(
    r"\bEnrollment\.objects\b|\.enrollments\b|^Enrollment\(|(^|\.)enrollments?$"
)
# Hand-written SQL that changes the table, by the model's table name or literally.
_ENROLLMENT_SQL = re.compile(
    r"\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+(\{Enrollment\._meta\.db_table\}|\"?crm_enrollment\b)",
    re.IGNORECASE,
)


def _sources(root: Path) -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def enrollment_writes(path: Path) -> list[str]:
    """`path:line: code` for each place the module writes Enrollment rows itself."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        code = ""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = ast.unparse(node.func.value)
            if node.func.attr in _WRITES and _ENROLLMENT_RECEIVER.search(receiver):
                code = ast.unparse(node)
        elif isinstance(node, ast.JoinedStr | ast.Constant) and _is_text(node):
            text = _text(node)
            if _ENROLLMENT_SQL.search(text):
                code = " ".join(text.split())
        if code:
            found.append(f"{path}:{node.lineno}: {code[:120]}")
    return found


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or isinstance(node.value, str)


def _text(node: ast.JoinedStr | ast.Constant) -> str:
    """A string as written, an f-string's fields as `{expression}`."""
    if isinstance(node, ast.Constant):
        return node.value
    return "".join(
        part.value if isinstance(part, ast.Constant) else "{" + ast.unparse(part.value) + "}"
        for part in node.values
    )


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [str(lint_imports), "--config", str(BASE / "pyproject.toml"), "--no-cache"],
        cwd=BASE,
        env={**os.environ, "PYTHONPATH": str(BASE)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_owner_writes_enrollment_rows():
    writes = [
        line
        for path in _sources(BASE)
        if path != ENROLLMENT_OWNER
        for line in enrollment_writes(path)
    ]
    assert not writes, "write enrollments through crm.enrollments:\n" + "\n".join(writes)


def test_the_owner_check_sees_each_kind_of_write(tmp_path):
    module = tmp_path / "writer.py"
    module.write_text(
        "def f(enrollment, prospect, message):\n"
        "    Enrollment.objects.filter(pk=1).update(status='stopped')\n"
        "    prospect.enrollments.all().delete()\n"
        "    message.enrollment.save()\n"
        "    Enrollment(prospect=prospect).save()\n"
        "    enrollment.prospect.save()\n"  # a prospect write: not the owner's business
        "    execute(f'UPDATE {Enrollment._meta.db_table} SET variant = %s', [1])\n"
        "    execute('DELETE FROM crm_enrollment WHERE id = %s', [1])\n"
        "    execute(f'SELECT 1 FROM {Enrollment._meta.db_table}', [])\n"
        '    execute(f"""\nUPDATE {Enrollment._meta.db_table} SET variant = \'\'""", [])\n'
    )
    lines = sorted(int(line.split(":")[1]) for line in enrollment_writes(module))
    assert lines == [2, 3, 4, 5, 7, 8, 10]
