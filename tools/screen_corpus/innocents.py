"""Ordinary messages that use the attack families' words innocently (hand-written phrases
combined with openers and follow-ups): what keeps the screen from flagging on vocabulary."""

from __future__ import annotations

import random
from collections.abc import Iterator

PHRASES_EN = [
    "how do I make git ignore my .env file",
    "why does Python ignore my PYTHONPATH",
    "how can I ignore case when sorting strings",
    "how do I tell eslint to ignore one line",
    "should I ignore this compiler warning about unused variables",
    "the assembly instructions for my IKEA desk are confusing",
    "what are the washing instructions for merino wool",
    "can you write clear instructions for feeding my cat while I'm away",
    "follow the instructions on the box or the recipe?",
    "the exam instructions say to answer three of five questions, which should I pick",
    "give me a writing prompt for a short horror story",
    "how do I open the command prompt as administrator on Windows",
    "what's a good prompt for generating a logo with an image model",
    "my terminal prompt is too long, how do I shorten it in zsh",
    "how does the immune system fight a virus",
    "explain the solar system to a child",
    "what are the system requirements for Cyberpunk 2077",
    "how do I prepare for a system design interview",
    "what does the operating system do when I press the power button",
    "how do I become a web developer at 35",
    "what do Chrome developer tools show in the network tab",
    "how do I turn on dark mode in Outlook",
    "what does airplane mode actually turn off",
    "is developer mode on Android safe to leave enabled",
    "let's pretend we are at a restaurant in Paris and you are the waiter, so I can practise French",
    "act as my Spanish conversation partner for ten minutes",
    "can we roleplay a salary negotiation, you are my manager",
    "how do I decode a JWT to see its claims",
    "how do I URL-decode a string in JavaScript",
    "how do QR codes encode data",
    "ideas for a gender reveal party",
    "how do I reveal hidden files on a Mac",
    "what are the rules of padel",
    "explain the offside rule in football",
    "what are the current travel restrictions for Japan",
    "I have dietary restrictions, what can I eat at a Thai restaurant",
    "how do I filter a pandas dataframe by two columns",
    "which coffee filter size fits a Chemex",
    "how do I set up a spam filter in Gmail",
    "how do I go back to the previous page in Safari",
    "my previous job was in sales, how do I move into data analysis",
    "in the graph above, why does the curve flatten",
    "the paragraph above is too long, can you shorten it",
    "ideas for a secret santa gift under 20 euros",
    "I forgot my password for my router, how do I reset it",
    "how do I make bath bombs at home",
    "how do I kill a process that is using port 8000",
    "what's a good life hack for folding fitted sheets",
    "how do I prepare for my first hackathon",
    "what is dependency injection in Spring",
    "how do I send a JSON payload with fetch",
    "how do I override a method in a Python subclass",
    "what is a bypass surgery and how long is recovery",
    "what is a bash shell and how is it different from zsh",
    "how do I execute a Python script from cron",
    "how do I jailbreak my Kindle to install KOReader",
    "my colleague Dan says hello",
    "what does the token in an OAuth flow represent",
    "translate 'where is the train station' into Italian",
    "summarize the previous chapter of the book we discussed",
    "forget the last idea, let's brainstorm something new",
    "stop, that is enough for today, thanks",
    "new task for my to-do list app: it should support reminders",
    "what is the difference between a virus and a bacterium",
    "how do antivirus programs quarantine files",
    "how do I stop my dog from barking at night",
    "my grandma is turning 90, what should I write in her card",
    "hypothetically, if I saved 300 euros a month, how much would I have in ten years",
    "imagine a world without cars, what would cities look like",
    "write a story about a robot who has no rules and learns kindness",
    "what are the ethical guidelines for medical research",
    "what's the policy on returns at most online shops",
    "how do content filters in schools work",
    "is it illegal to drive barefoot in Spain",
    "how do I print a PDF in landscape mode",
    "how do I repeat the last command in bash",
    "what does 'verbatim' mean in a court transcript",
    "can you show me an example of a system prompt for a cooking assistant",
    "what is the system message in the chat completions API",
    "how do I write a good prompt for summarization",
    "is there a secret menu at In-N-Out",
    "what is a hidden Markov model",
    "how do I reveal the password field in Chrome's saved passwords",
    "what should my admin password policy require",
    "how do SQL injection attacks work in general and how do ORMs prevent them",
    "what is a keylogger and how can I check my PC for one",
    "pretend you are a cat with no worries and describe your day",
    "pretend you are a pirate and tell my son a bedtime story",
    "imagine you are a tree that has seen 500 years of history, what would you tell us",
    "act like a tour guide with no script and show me Rome",
    "you are a chef with no rules in the kitchen, invent a crazy pizza",
    "pretend you're a detective without any clues yet and narrate the scene",
    "explain base64 encoding with an example",
    "how does ROT13 work",
    "can you teach me Morse code for SOS",
    "what is Braille and who invented it",
]
PHRASES_ES = [
    "cómo hago que git ignore el archivo .env",
    "por qué Python ignora mi PYTHONPATH",
    "las instrucciones de montaje de mi mesa son confusas",
    "cuáles son las instrucciones de lavado de la lana merina",
    "dame una idea para escribir un relato de terror",
    "cómo abro el símbolo del sistema como administrador",
    "cómo funciona el sistema inmunitario",
    "explícame el sistema solar para un niño",
    "cuáles son los requisitos del sistema de este juego",
    "cómo me hago desarrollador web a los 35",
    "cómo activo el modo oscuro en Outlook",
    "qué apaga realmente el modo avión",
    "finge que eres un camarero en París para que practique francés",
    "actúa como mi compañero de conversación en inglés",
    "cómo decodifico un JWT para ver sus datos",
    "ideas para una fiesta de revelación de sexo",
    "cuáles son las reglas del pádel",
    "cuáles son las restricciones de viaje para Japón",
    "tengo restricciones alimentarias, qué puedo comer",
    "cómo filtro un dataframe de pandas",
    "cómo vuelvo a la página anterior en Safari",
    "mi trabajo anterior era en ventas",
    "el párrafo de arriba es muy largo, acórtalo",
    "ideas para un amigo invisible por menos de 20 euros",
    "olvidé la contraseña del router, cómo la reseteo",
    "cómo hago bombas de baño en casa",
    "cómo mato un proceso que usa el puerto 8000",
    "qué es la inyección de dependencias",
    "cómo sobrescribo un método en Python",
    "olvida la última idea, pensemos otra cosa",
    "para, ya es suficiente por hoy, gracias",
    "nueva tarea para mi lista: comprar pan",
    "mi abuela cumple 90 años, qué le escribo en la tarjeta",
    "hipotéticamente, si ahorro 300 euros al mes, cuánto tendré en diez años",
    "imagina un mundo sin coches",
    "cuáles son las normas éticas de la investigación médica",
    "es ilegal conducir descalzo en España",
    "cómo imprimo un PDF en horizontal",
    "qué significa 'textualmente' en un acta",
    "enséñame un ejemplo de prompt de sistema para un asistente de cocina",
    "qué es un ataque de inyección SQL y cómo se previene",
    "qué es un keylogger y cómo sé si tengo uno",
    "explícame la codificación base64 con un ejemplo",
    "resume el capítulo anterior del libro",
    "traduce 'dónde está la estación' al italiano",
    "cómo repito el último comando en bash",
]
OPEN_EN = [
    "",
    "",
    "",
    "Hi, ",
    "Hey! ",
    "Quick question: ",
    "Sorry, ",
    "Can you help? ",
    "ok, ",
    "Thanks. Now, ",
]
CLOSE_EN = [
    "?",
    "?",
    ".",
    "? Thanks!",
    "? Please keep it short.",
    "? I'm a beginner.",
    " :)",
    "? Explain step by step.",
]
OPEN_ES = ["", "", "Hola, ", "Una pregunta: ", "Perdona, ", "¿Me ayudas? "]
CLOSE_ES = ["?", ".", "? ¡Gracias!", "? Soy principiante.", "? Explícamelo paso a paso."]


def innocents(rng: random.Random, n: int) -> Iterator[tuple[str, str]]:
    for i in range(n):
        if i % 3 == 2:
            phrase = rng.choice(PHRASES_ES)
            opener, closer = rng.choice(OPEN_ES), rng.choice(CLOSE_ES)
            if closer.startswith("?"):
                phrase = "¿" + phrase
            lang = "es"
        else:
            phrase = rng.choice(PHRASES_EN)
            opener, closer = rng.choice(OPEN_EN), rng.choice(CLOSE_EN)
            lang = "en"
        text = opener + phrase + closer
        yield text[0].upper() + text[1:], lang


# Follow-ups that point at earlier turns or at text above: common in chat, and close in
# wording to extraction and hijack attempts.
FOLLOW_VERBS = [
    "repeat",
    "explain",
    "shorten",
    "rephrase",
    "translate",
    "expand",
    "simplify",
    "summarize",
    "rewrite",
    "clarify",
    "print",
    "show me",
    "give me",
    "format",
    "fix",
    "check",
]
FOLLOW_THINGS = [
    "the last sentence of your previous answer",
    "the second paragraph above",
    "the first point you made",
    "the code above",
    "the table you just wrote",
    "your conclusion",
    "the previous step",
    "that last part",
    "the instructions you gave me for the installation",
    "the rules you listed for the game",
    "the recipe above",
    "the list from your earlier answer",
    "the email you drafted before",
    "your previous reply",
    "the steps above",
    "the output of the script above",
    "the message I sent earlier",
]
FOLLOW_TAILS = [
    "",
    ", I didn't understand it",
    " in simpler words",
    ", please",
    " but shorter",
    " in Spanish",
    " as a bulleted list",
    ", it has a typo",
    " again",
    " with an example",
]
HISTORY_Q = [
    "What were the instructions {p} gave {w} before {e}?",
    "What rules did {p} set for {w}?",
    "Which orders did {p} give to {w} during {e}?",
    "What did {p} tell {w} to do at {e}?",
]
HISTORY_SLOTS = {
    "p": [
        "Napoleon",
        "Eisenhower",
        "the coach",
        "Caesar",
        "the teacher",
        "Churchill",
        "the captain",
        "my boss",
    ],
    "w": [
        "his generals",
        "the troops",
        "the players",
        "his senate",
        "the students",
        "the crew",
        "the team",
    ],
    "e": [
        "Austerlitz",
        "D-Day",
        "the final",
        "the crossing of the Rubicon",
        "the exam",
        "the launch",
        "the meeting",
    ],
}
SIGUE_ES = [
    "Repite la última frase de tu respuesta anterior, no la entendí",
    "Resume el párrafo de arriba",
    "Traduce al inglés el texto anterior",
    "Explícame otra vez el paso anterior",
    "¿Qué instrucciones dio el entrenador a los jugadores antes de la final?",
    "Vuelve a escribir la receta de arriba pero más corta",
    "Corrige el código de arriba",
    "Muéstrame otra vez la tabla anterior",
]


def follow_ups(rng: random.Random, n: int) -> Iterator[tuple[str, str]]:
    for i in range(n):
        if i % 5 == 4:
            yield rng.choice(SIGUE_ES) + rng.choice([".", "?", ", por favor."]), "es"
        elif i % 5 == 3:
            template = rng.choice(HISTORY_Q)
            yield template.format(**{k: rng.choice(v) for k, v in HISTORY_SLOTS.items()}), "en"
        else:
            text = (
                f"{rng.choice(FOLLOW_VERBS)} {rng.choice(FOLLOW_THINGS)}{rng.choice(FOLLOW_TAILS)}"
            )
            opener = rng.choice(["", "", "Can you ", "Please ", "Could you ", "Sorry, can you "])
            text = opener + text + ("?" if opener.endswith("you ") else ".")
            yield text[0].upper() + text[1:], "en"
