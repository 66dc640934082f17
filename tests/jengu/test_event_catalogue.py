"""The event catalogue: docs/events.md is what `manage.py events` prints."""

from __future__ import annotations

import textwrap
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from jengu.bus import registry
from jengu.events.catalogue import event_catalogue
from jengu.events.emit_graph import EmitGraph

DOC = Path(settings.BASE_DIR) / "docs" / "events.md"


def test_docs_events_md_is_the_commands_output():
    out = StringIO()
    call_command("events", stdout=out)
    assert DOC.read_text() == out.getvalue(), (
        "docs/events.md is stale: run `manage.py events > docs/events.md`"
    )


def test_every_event_the_code_emits_has_an_actor():
    known = set(registry.all_actors())
    graph = EmitGraph(Path(settings.BASE_DIR), ("jengu", "crm", "enrichment", "outreach"))
    assert set(graph.emit_sites()) <= known


def test_the_pipeline_hops_are_in_the_catalogue():
    by_type = {entry.event_type: entry for entry in event_catalogue()}
    assert "ComposeEmail" in by_type["SendEmailBatch"].emits
    assert "SendEmail" in by_type["ComposeEmail"].emits
    assert "ValidateEmail" in by_type["EnrichProspect"].emits
    assert by_type["SendEmail"].queue == "send"
    assert by_type["SendEmailBatch"].schedule.startswith("every ")


def _write(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))


def test_emits_are_followed_through_calls_re_exports_methods_and_constants(tmp_path):
    _write(tmp_path, "app/__init__.py", "from .services import start\n")
    _write(
        tmp_path,
        "app/services.py",
        """
        from jengu.bus import emit, emit_many
        from app import other

        NEXT = "Next"

        def start():
            Worker().run()
            other.finish()

        class Worker:
            def run(self):
                self._step()

            def _step(self):
                emit(NEXT, {})
        """,
    )
    _write(
        tmp_path,
        "app/other.py",
        """
        from jengu.bus import emit_many

        def finish():
            emit_many("Done", [])

        def unused():
            emit_many("Never", [])
        """,
    )
    _write(tmp_path, "app/tasks.py", "from app import start\n\ndef actor():\n    start()\n")
    graph = EmitGraph(tmp_path, ("app",))
    assert graph.emitted_by("app.tasks.actor") == {"Next", "Done"}
    assert graph.emit_sites() == {
        "Done": ["app.other.finish"],
        "Never": ["app.other.unused"],
        "Next": ["app.services.Worker._step"],
    }
