"""Log shards: each origin's tree over its stretch of the journal. The subtree hashes gain the
shard in their key (a new table, as a composite primary key cannot be altered); a log that
already has a tree becomes shard 1 under the origin of its checkpoints."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from muster.core.append_only import MakeAppendOnly, create_sql, drop_sql


def first_shard(apps, schema_editor):
    TreeHead = apps.get_model("journal", "TreeHead")
    if not TreeHead.objects.exists():
        return  # a new log: the first shard is made when the log first integrates
    Checkpoint = apps.get_model("journal", "Checkpoint")
    LogShard = apps.get_model("journal", "LogShard")
    signed = Checkpoint.objects.order_by("id").first()
    origin = signed.origin if signed is not None else settings.LOG_ORIGIN
    LogShard.objects.create(id=1, origin=origin, start=0, started_at=timezone.now())
    table = apps.get_model("journal", "LogSubtree")._meta.db_table
    schema_editor.execute(
        f'INSERT INTO "{table}" (shard, level, "index", hash) '
        'SELECT 1, level, "index", hash FROM "journal_subtree"'
    )


def lift_tree_head_guard(apps, schema_editor):
    for statement in drop_sql(schema_editor.connection.vendor, "journal_treehead"):
        schema_editor.execute(statement, params=None)


def restore_tree_head_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in create_sql(vendor, "journal_treehead", allow_update=True):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("journal", "0005_cosignatures"),
    ]

    operations = [
        migrations.CreateModel(
            name="LogShard",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(
                        help_text="1, 2, … in order", primary_key=True, serialize=False
                    ),
                ),
                ("origin", models.CharField(max_length=200, unique=True)),
                (
                    "start",
                    models.BigIntegerField(
                        help_text="The journal seq of its index 0", unique=True
                    ),
                ),
                ("started_at", models.DateTimeField()),
                (
                    "previous_final",
                    models.ForeignKey(
                        blank=True,
                        help_text="The previous shard's final checkpoint, which this one's "
                        "first entry names",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="journal.checkpoint",
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("start__gte", 0)), name="log_shard_start_gte_0"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="LogSubtree",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "shard",
                        "level",
                        "index",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("shard", models.PositiveSmallIntegerField()),
                ("level", models.PositiveSmallIntegerField()),
                ("index", models.BigIntegerField()),
                ("hash", models.BinaryField(max_length=32)),
            ],
        ),
        migrations.RunPython(first_shard, migrations.RunPython.noop),
        migrations.DeleteModel(name="Subtree"),
        # SQLite removes a constraint by rebuilding the table, which loses its triggers: they
        # are lifted first and put back after, on every database alike.
        migrations.RunPython(lift_tree_head_guard, restore_tree_head_guard),
        migrations.RemoveConstraint(model_name="treehead", name="tree_head_single_row"),
        MakeAppendOnly("TreeHead", allow_update=True),
        MakeAppendOnly("LogShard"),
        MakeAppendOnly("LogSubtree"),
    ]
