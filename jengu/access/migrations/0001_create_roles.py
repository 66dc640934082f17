"""Create the Viewer, Sales and Operator groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_roles(apps, schema_editor):
    from jengu.access.roles import roles_sync

    # Permissions are normally created after all migrations (post_migrate); make
    # them now, from the historical models, so the groups get them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )


def delete_roles(apps, schema_editor):
    from jengu.access.roles import ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=[r.name for r in ROLES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("crm", "0003_prospect_tags_json_name_trigram"),
        ("outreach", "0005_enrollment_last_sent_at_backfill"),
        ("events", "0003_event_operator_permissions"),
        ("apikeys", "0001_initial"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
