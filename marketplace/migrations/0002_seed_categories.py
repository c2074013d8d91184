"""The ten marketplace categories (staff edit them in the admin)."""

from django.db import migrations

CATEGORIES = [
    ("writing", "Writing", "✍️", "Drafts, editing, stories and copy.", False),
    ("coding", "Coding", "💻", "Programming help, reviews and explanations.", False),
    ("learning", "Learning", "🎓", "Tutors, explainers and practice.", False),
    ("business", "Business", "💼", "Strategy, marketing, sales and operations.", False),
    ("career", "Career", "🧭", "Interviews, CVs and coaching.", False),
    ("productivity", "Productivity", "⚡", "Planning, summaries and everyday tasks.", False),
    ("creative", "Creative", "🎨", "Ideas, art direction, music and play.", False),
    (
        "health",
        "Health & wellbeing",
        "🌿",
        "Fitness, food and wellbeing (not medical advice).",
        False,
    ),
    ("entertainment", "Entertainment", "🎲", "Games, characters and fun.", False),
    ("mature", "Mature", "🔞", "Adult themes: only for adults.", True),
]


def seed(apps, schema_editor):
    Category = apps.get_model("marketplace", "Category")
    for position, (slug, name, icon, description, age_restricted) in enumerate(CATEGORIES):
        Category.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "icon": icon,
                "description": description,
                "age_restricted": age_restricted,
                "position": position * 10,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("marketplace", "Category").objects.filter(
        slug__in=[row[0] for row in CATEGORIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
