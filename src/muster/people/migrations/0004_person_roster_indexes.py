"""Indexes for the roster at national scale: its order (family name, given name, id), so a
page is read from the index instead of sorting everyone; and, on PostgreSQL, the prefix
searches it runs (`istartswith` is UPPER(column) LIKE 'X%', which needs an expression index
with the pattern operator class under a non-C collation). The expression indexes are not part
of the model state: Django cannot express the operator class portably (SQLite has none)."""

from django.db import migrations, models

SEARCHED = ("national_id", "family_name", "given_name")


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "person_{column}_upper_idx" ON "people_person" '
            f'(UPPER("{column}"::text) text_pattern_ops)'
        )


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED:
        schema_editor.execute(f'DROP INDEX IF EXISTS "person_{column}_upper_idx"')


class Migration(migrations.Migration):
    dependencies = [("people", "0003_reference_stamp")]

    operations = [
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["family_name", "given_name", "id"], name="person_name_idx"),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
    ]
