"""CSV import: upsert keys, bad rows, chunks, idempotency, the command's output."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from crm.csv_import import prospects_import_csv
from crm.models import Enrollment, Prospect, Stage
from tests.factories import CampaignFactory, ProspectFactory

pytestmark = pytest.mark.django_db

GOOD = """\ufeffBusiness Name,E-Mail,City,Country,Timezone,Tags,Website
Hotel Azul,Info@HotelAzul.pt,Lisbon,pt,Europe/Lisbon,"boutique;sea",hotelazul.pt
Casa Verde,,Porto,PT,,,
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "prospects.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def run_import(path: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_prospects", path, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_creates_prospects_with_normalised_fields(tmp_path):
    out, err = run_import(write(tmp_path, GOOD))

    assert out.strip() == "created: 2, updated: 0, unchanged: 0, skipped: 0"
    azul = Prospect.objects.get(business_name="Hotel Azul")
    assert azul.email == "info@hotelazul.pt"
    assert azul.country == "PT"
    assert azul.tags == ["boutique", "sea"]
    assert azul.website == "https://hotelazul.pt"
    assert azul.domain == "hotelazul.pt"
    assert azul.source == "csv"


def test_rerunning_the_same_file_changes_nothing(tmp_path):
    path = write(tmp_path, GOOD)
    run_import(path)
    before = list(Prospect.objects.order_by("id").values_list("id", "updated_at"))

    out, _ = run_import(path)

    assert out.strip() == "created: 0, updated: 0, unchanged: 2, skipped: 0"
    assert list(Prospect.objects.order_by("id").values_list("id", "updated_at")) == before


def test_upsert_matches_email_case_insensitively_and_name_city_without_email(tmp_path):
    existing = ProspectFactory(email="info@hotelazul.pt", business_name="Old name", phone="1")
    casa = ProspectFactory(email="", business_name="CASA VERDE", city="porto", industry="")

    out, _ = run_import(
        write(
            tmp_path,
            "business_name,email,city,industry\nHotel Azul,INFO@hotelazul.pt,,\n"
            "Casa Verde,,Porto,hostel\n",
        )
    )

    assert out.strip() == "created: 0, updated: 2, unchanged: 0, skipped: 0"
    existing.refresh_from_db()
    casa.refresh_from_db()
    assert existing.business_name == "Hotel Azul"
    assert existing.phone == "1", "a blank cell never erases known data"
    assert casa.industry == "hostel"
    assert Prospect.objects.count() == 2


def test_bad_rows_are_reported_with_line_and_reason_and_the_rest_imported(tmp_path):
    text = (
        "name,email,country,timezone\n"
        "Good One,a@good.example,FR,Europe/Paris\n"
        ",nobody@x.example,FR,\n"
        "Bad Mail,not-an-email,FR,\n"
        "Bad Country,b@good.example,France,\n"
        "Bad Zone,c@good.example,FR,Mars/Olympus\n"
        "Twice,A@GOOD.EXAMPLE,FR,\n"
        "Good Two,d@good.example,FR,\n"
    )
    out, err = run_import(write(tmp_path, text))

    assert out.strip() == "created: 2, updated: 0, unchanged: 0, skipped: 5"
    assert err.splitlines() == [
        "line 3: business_name is required",
        "line 4: invalid e-mail 'not-an-email'",
        "line 5: country must be an ISO 3166 alpha-2 code, got 'France'",
        "line 6: unknown timezone 'Mars/Olympus' (use an IANA name such as Europe/Paris)",
        "line 7: duplicate of line 2",
    ]
    assert set(Prospect.objects.values_list("business_name", flat=True)) == {"Good One", "Good Two"}


def test_line_numbers_count_quoted_multiline_cells(tmp_path):
    text = 'name,email,notes\nA,a@x.example,"two\nlines"\nB,broken,\n'
    _, err = run_import(write(tmp_path, text))
    assert err.strip() == "line 4: invalid e-mail 'broken'"


def test_dry_run_reports_but_writes_nothing(tmp_path):
    out, _ = run_import(write(tmp_path, GOOD), "--dry-run")
    assert out.startswith("dry run, nothing written: created: 2")
    assert Prospect.objects.count() == 0


def test_import_enrolls_into_campaign(tmp_path):
    campaign = CampaignFactory()
    out, _ = run_import(write(tmp_path, GOOD), "--campaign", str(campaign.pk))
    assert out.strip().endswith(f"enrolled in {campaign.name!r}: 2")
    assert Enrollment.objects.filter(campaign=campaign).count() == 2


def test_chunks_commit_independently():
    rows = "name,email\n" + "".join(f"H{i},h{i}@x.example\n" for i in range(25))
    report = prospects_import_csv(stream=io.StringIO(rows), chunk_size=10)
    assert (report.created, report.skipped) == (25, 0)
    assert Prospect.objects.count() == 25


def test_file_level_errors_are_clear(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run_import(str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="no business name column"):
        run_import(write(tmp_path, "email,city\na@b.example,Rome\n"))
    with pytest.raises(CommandError, match="unknown|does not exist"):
        run_import(write(tmp_path, GOOD), "--campaign", "999999")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("name,city\nHôtel,Zürich\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        run_import(str(latin1))


@pytest.mark.parametrize("website", ["http://[::1", "not a url", "localhost", "ftp://x.example"])
def test_garbage_websites_are_rejected_with_the_value(tmp_path, website):
    _, err = run_import(write(tmp_path, f'name,website\nA,"{website}"\n'))
    assert err.strip() == f"line 2: invalid website {website!r}"


def test_enrich_flag_queues_enrichment_for_new_prospects(tmp_path):
    from jengu.events.models import Event

    ProspectFactory(email="info@hotelazul.pt", stage=Stage.CONTACTED)
    out, _ = run_import(write(tmp_path, GOOD), "--enrich")

    assert out.strip().endswith("queued for enrichment: 1")
    casa = Prospect.objects.get(business_name="Casa Verde")
    emitted = Event.objects.filter(type="EnrichProspect")
    assert [event.payload for event in emitted] == [{"prospect_id": casa.pk}]


def test_a_nul_byte_is_a_per_line_error_and_its_chunk_is_still_written(tmp_path):
    rows = [f"Hotel {n},Lisbon" for n in range(5)]
    rows[2] = "Hotel \x00Broken,Lisbon"
    path = write(tmp_path, "business_name,city\n" + "\n".join(rows) + "\n")

    out, err = run_import(path)

    assert out.strip() == "created: 4, updated: 0, unchanged: 0, skipped: 1"
    assert err.strip() == "line 4: business_name contains a NUL byte"
    assert Prospect.objects.count() == 4


def test_a_field_over_128_kib_is_a_per_line_error_and_the_rest_imported(tmp_path):
    huge = "x" * (200 * 1024)
    text = (
        "business_name,city,notes\n"
        "Hotel Before,Lisbon,\n"
        f'Hotel Huge,Lisbon,"{huge}"\n'
        "Hotel After,Lisbon,\n"
    )

    out, err = run_import(write(tmp_path, text))

    assert out.strip() == "created: 2, updated: 0, unchanged: 0, skipped: 1"
    assert err.strip() == "line 3: notes is longer than 10000 characters"
    assert set(Prospect.objects.values_list("business_name", flat=True)) == {
        "Hotel Before",
        "Hotel After",
    }


def test_a_field_beyond_the_reader_limit_is_reported_and_the_next_lines_imported(tmp_path):
    from crm.csv_import import MAX_FIELD_CHARACTERS

    beyond = "y" * (MAX_FIELD_CHARACTERS + 10)
    text = f"business_name,notes\nHotel One,{beyond}\nHotel Two,\n"

    out, err = run_import(write(tmp_path, text))

    assert out.strip() == "created: 1, updated: 0, unchanged: 0, skipped: 1"
    assert err.strip().startswith("line 2: a field is longer than")
    assert list(Prospect.objects.values_list("business_name", flat=True)) == ["Hotel Two"]
