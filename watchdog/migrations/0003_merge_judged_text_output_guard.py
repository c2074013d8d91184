# The screentext branch (judged texts) and main (the output guard's stage) each added a
# 0002 migration; this joins them.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("watchdog", "0002_judged_text"),
        ("watchdog", "0002_output_guard_stage"),
    ]

    operations = []
