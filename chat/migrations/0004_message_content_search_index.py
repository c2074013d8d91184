"""A GIN index for searching messages (PostgreSQL only; SQLite searches without one).

The expression is exactly the one chat.search builds (``SearchVector("content",
config="simple")``), so the planner can use it.
"""

from django.db import migrations

INDEX = "chat_message_content_fts"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON chat_message "
        "USING gin (to_tsvector('simple'::regconfig, COALESCE(content, '')))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("chat", "0003_conversation_source_system_prompt")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
