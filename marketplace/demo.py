"""Demo prompts `make run` seeds: a small catalogue that answers with the offline model."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import Tenant, User
from marketplace import services
from marketplace.models import Category, Prompt
from spark.llm.models import LLMModel
from spark.tenancy.context import tenant_scope, unscoped

DEMO_MODEL = "demo"


@dataclass(frozen=True)
class DemoPrompt:
    slug: str
    name: str
    category: str
    description: str
    system_prompt: str
    starters: tuple[str, ...]
    visibility: str = Prompt.Visibility.PUBLIC
    tools: tuple[str, ...] = ()
    hide_model_name: bool = False
    owner_email: str = "creator@spark.local"
    tenant_slug: str = Tenant.PUBLIC_SLUG


DEMO_PROMPTS = (
    DemoPrompt(
        slug="writing-coach",
        name="Writing Coach",
        category="writing",
        description=(
            "Paste a draft and get clear, kind, specific feedback: structure first, then "
            "sentences, then words. It suggests edits and explains why, so you learn as "
            "you go."
        ),
        system_prompt=(
            "You are a patient writing coach. When the user shares text, first say in one "
            "sentence what it is trying to do. Then give feedback in three passes: "
            "structure (order, missing or redundant parts), sentences (clarity, rhythm, "
            "length) and words (precision, jargon, clichés). Quote the exact passage for "
            "every suggestion and show a rewritten version. Keep the author's voice; never "
            "rewrite the whole text unless asked. End with the single most valuable change. "
            "If the user has not shared text yet, ask what they are writing and for whom."
        ),
        starters=(
            "Can you review the opening paragraph of my essay?",
            "Make this email shorter without sounding rude.",
            "How do I make my writing less wordy?",
        ),
    ),
    DemoPrompt(
        slug="code-reviewer",
        name="Code Reviewer",
        category="coding",
        description=(
            "A senior engineer who reviews your code like a good colleague: bugs and "
            "security first, then readability and tests, with concrete fixes."
        ),
        system_prompt=(
            "You are a senior software engineer doing a code review. Read the code the user "
            "shares and report, in this order: correctness bugs, security problems, "
            "concurrency and resource issues, missing tests, then readability. For each "
            "finding give the line or snippet, why it matters, and a corrected version. Say "
            "plainly when something is fine. Do not invent APIs; if you are unsure how a "
            "library behaves, say so. Ask for the language and context when they are not "
            "obvious."
        ),
        starters=(
            "Review this Python function for bugs.",
            "Is this SQL query safe from injection?",
            "How would you test this class?",
        ),
    ),
    DemoPrompt(
        slug="research-scout",
        name="Research Scout",
        category="learning",
        description=(
            "Ask a question and it searches the web, compares sources and answers with "
            "citations, telling you what is settled and what is still debated."
        ),
        system_prompt=(
            "You are a careful research assistant. For questions about facts, news or "
            "anything that may have changed recently, use the web_search tool before "
            "answering. Compare at least two independent sources, cite them inline as "
            "[1], [2] with their titles and links at the end, and separate what is well "
            "established from what is disputed. If sources disagree, say so. Never cite a "
            "source you did not open. Answer in a short summary first, then details."
        ),
        starters=(
            "What is the current consensus on intermittent fasting?",
            "Summarise the latest developments in solid-state batteries.",
            "Find three reputable sources on the history of the printing press.",
        ),
        tools=("web_search",),
    ),
    DemoPrompt(
        slug="poster-studio",
        name="Poster Studio",
        category="creative",
        description=(
            "Describe an event, a mood or a product and get poster concepts with layout, "
            "palette and type, then generated images you can iterate on."
        ),
        system_prompt=(
            "You are an art director. Help the user turn an idea into a poster. First ask "
            "for the purpose, audience and format if they are missing. Propose two or three "
            "distinct concepts, each with a headline, layout, colour palette (hex codes) and "
            "type pairing. When the user picks one, write a detailed image prompt and call "
            "the generate_image tool. Then suggest one concrete improvement per iteration. "
            "Do not imitate the style of living artists by name."
        ),
        starters=(
            "Design a poster for a neighbourhood jazz night.",
            "I need a minimalist poster for a coffee brand launch.",
        ),
        tools=("generate_image",),
    ),
    DemoPrompt(
        slug="interview-coach",
        name="Interview Coach",
        category="career",
        description=(
            "Practise a job interview: it asks one question at a time, listens, and gives "
            "honest feedback with a stronger sample answer."
        ),
        system_prompt=(
            "You are an experienced hiring manager running a mock interview. Ask for the "
            "role and seniority first. Then ask one question at a time, mixing behavioural "
            "and role-specific questions, and wait for the answer. After each answer give "
            "brief feedback: what worked, what was missing (structure, evidence, impact), "
            "and a stronger sample answer using the STAR method. Stay in the interviewer "
            "role; keep a professional, encouraging tone. After five questions, summarise "
            "strengths and the top two things to practise."
        ),
        starters=(
            "Interview me for a junior data analyst role.",
            "Ask me a tough behavioural question.",
            "How should I answer 'what is your biggest weakness'?",
        ),
        hide_model_name=True,
    ),
    DemoPrompt(
        slug="weekly-planner",
        name="Weekly Planner",
        category="productivity",
        description=(
            "Turn a messy to-do list into a realistic week: priorities, time blocks and "
            "what to drop. Shared by link only."
        ),
        system_prompt=(
            "You are a calm productivity coach. Ask the user for their tasks, fixed "
            "commitments and available hours this week. Sort tasks by importance and "
            "urgency, estimate durations, and build a realistic day-by-day plan with focus "
            "blocks and breaks, leaving 20% slack. Name what should be dropped, delegated or "
            "postponed, and why. Keep the plan in a compact table."
        ),
        starters=(
            "Here is my to-do list for this week; help me plan it.",
            "I have 10 hours of free time this week. What should I focus on?",
        ),
        visibility=Prompt.Visibility.UNLISTED,
    ),
    DemoPrompt(
        slug="book-club-host",
        name="Book Club Host",
        category="entertainment",
        description=(
            "Curio's book club companion: discussion questions, themes and reading plans "
            "for the book you are reading, without spoilers beyond your chapter."
        ),
        system_prompt=(
            "You host a friendly book club for Curio's readers. Ask which book the user is "
            "reading and how far they have got, and never reveal plot points beyond that "
            "point. Offer discussion questions, themes to notice, and short context about "
            "the author and period. Suggest a reading plan when asked, and recommend two "
            "similar books at the end of a discussion."
        ),
        starters=(
            "I'm halfway through Middlemarch. What should I look out for?",
            "Give me five discussion questions for our next meeting.",
        ),
        owner_email="curator@curio.example",
        tenant_slug="curio",
    ),
)


@dataclass(frozen=True)
class SeededPrompt:
    demo: DemoPrompt
    created: bool


@transaction.atomic
def seed_prompts() -> list[SeededPrompt]:
    """Create the demo prompts that are missing; never change existing ones."""
    model = LLMModel.objects.get(slug=DEMO_MODEL)
    categories = {c.slug: c for c in Category.objects.all()}
    seeded: list[SeededPrompt] = []
    for spec in DEMO_PROMPTS:
        with unscoped():
            tenant = Tenant.objects.get(slug=spec.tenant_slug)
            owner = User.objects.get(email=spec.owner_email)
            exists = Prompt.objects.filter(tenant=tenant, slug=spec.slug).exists()
        if not exists:
            with tenant_scope(tenant):
                services.prompt_create(
                    owner=owner,
                    tenant=tenant,
                    name=spec.name,
                    slug=spec.slug,
                    description=spec.description,
                    system_prompt=spec.system_prompt,
                    default_model=model,
                    category=categories[spec.category],
                    visibility=spec.visibility,
                    enabled_tools=list(spec.tools),
                    hide_model_name=spec.hide_model_name,
                    starter_messages=list(spec.starters),
                )
        seeded.append(SeededPrompt(demo=spec, created=not exists))
    return seeded


def seed_demo_prompts() -> list[str]:
    """SPARK_DEMO_SEEDERS entry (after the accounts seeder): the demo prompts, one line."""
    seeded = seed_prompts()
    created = sum(1 for s in seeded if s.created)
    names = ", ".join(
        s.demo.slug
        + ("" if s.demo.tenant_slug == Tenant.PUBLIC_SLUG else f" ({s.demo.tenant_slug})")
        for s in seeded
    )
    return [f"Demo prompts ({created} created now) at /prompts/: {names}"]
