import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_daily_stat"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RemoveIndex(model_name="prospect", name="prospect_tags_gin"),
        # text[] → jsonb needs an explicit conversion Django's AlterField cannot write.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql="ALTER TABLE crm_prospect ALTER COLUMN tags DROP DEFAULT, "
                    "ALTER COLUMN tags TYPE jsonb USING to_jsonb(tags)",
                    reverse_sql="ALTER TABLE crm_prospect ALTER COLUMN tags TYPE varchar(64)[] "
                    "USING ARRAY(SELECT jsonb_array_elements_text(tags))",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="prospect",
                    name="tags",
                    field=models.JSONField(blank=True, default=list),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=django.contrib.postgres.indexes.GinIndex(fields=["tags"], name="prospect_tags_gin"),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("business_name"), name="gin_trgm_ops"
                ),
                name="prospect_name_trgm",
            ),
        ),
    ]
