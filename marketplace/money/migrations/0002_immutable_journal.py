"""On PostgreSQL, the database itself refuses UPDATE and DELETE of journal entries and lines."""

from django.db import migrations

TABLES = ("money_journalentry", "money_journalline")

FUNCTION = """
CREATE OR REPLACE FUNCTION money_journal_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'journal rows are immutable: book a reversing entry';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION money_journal_immutable()"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS money_journal_immutable()")


class Migration(migrations.Migration):
    dependencies = [("money", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
