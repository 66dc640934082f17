"""API keys get scopes. Existing keys keep exactly the powers they had."""

import django.contrib.postgres.fields
from django.db import migrations, models

EVERY_SCOPE = ["read", "prospects:write", "campaigns:write", "send"]


def scopes_from_read_only(apps, schema_editor):
    ApiKey = apps.get_model("apikeys", "ApiKey")
    ApiKey.objects.filter(read_only=True).update(scopes=["read"])
    ApiKey.objects.filter(read_only=False).update(scopes=EVERY_SCOPE)


def read_only_from_scopes(apps, schema_editor):
    ApiKey = apps.get_model("apikeys", "ApiKey")
    ApiKey.objects.update(read_only=True)
    ApiKey.objects.filter(scopes__overlap=EVERY_SCOPE[1:]).update(read_only=False)


class Migration(migrations.Migration):
    dependencies = [("apikeys", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="scopes",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(max_length=32),
                default=list,
                help_text="What the key may do: read, prospects:write, campaigns:write, send.",
                size=None,
            ),
        ),
        migrations.RunPython(scopes_from_read_only, read_only_from_scopes),
        migrations.RemoveField(model_name="apikey", name="read_only"),
    ]
