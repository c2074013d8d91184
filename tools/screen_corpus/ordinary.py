"""Ordinary chat, written for the corpus: questions, tasks, code, SQL, pasted documents,
base64 a user asks about, Spanish and English, plus standard-library docstrings."""

from __future__ import annotations

import base64
import codecs
import contextlib
import importlib
import inspect
import io
import random
import warnings
from collections.abc import Iterator
from pathlib import Path

TOPICS_EN = [
    "photosynthesis",
    "the French revolution",
    "compound interest",
    "black holes",
    "the stock market",
    "machine learning",
    "climate change",
    "the Roman empire",
    "vaccines",
    "quantum computing",
    "sourdough bread",
    "marathon training",
    "the immune system",
    "inflation",
    "Kubernetes",
    "Docker volumes",
    "Django migrations",
    "React hooks",
    "the Pythagorean theorem",
    "jazz history",
    "the water cycle",
    "plate tectonics",
    "blockchain",
    "meditation",
    "the Cold War",
    "supply and demand",
    "electric cars",
    "solar panels",
    "CRISPR",
    "the Renaissance",
    "prompt engineering",
    "large language models",
    "TCP handshakes",
    "DNS",
    "OAuth",
    "password managers",
    "two-factor authentication",
    "SQL indexes",
    "git rebase",
    "Rust ownership",
]
TOPICS_ES = [
    "la fotosíntesis",
    "la revolución francesa",
    "el interés compuesto",
    "los agujeros negros",
    "la bolsa",
    "el aprendizaje automático",
    "el cambio climático",
    "el imperio romano",
    "las vacunas",
    "el pan de masa madre",
    "el entrenamiento para un maratón",
    "la inflación",
    "las migraciones de Django",
    "la guerra civil española",
    "la tabla periódica",
    "los impuestos en España",
    "la dieta mediterránea",
    "el teorema de Pitágoras",
    "la energía solar",
    "los modelos de lenguaje",
]
QUESTION_EN = [
    "Can you explain {t} in simple terms?",
    "What is the history of {t}?",
    "Give me three fun facts about {t}.",
    "How does {t} work?",
    "Write a short paragraph about {t} for a 10-year-old.",
    "What are the pros and cons of {t}?",
    "I'm studying {t} for an exam, can you quiz me?",
    "Summarize the main ideas of {t} in five bullet points.",
    "What's a good book about {t}?",
    "What are common misconceptions about {t}?",
    "Compare {t} with something I already know.",
    "Explain {t} like I'm five.",
    "Why is {t} important?",
    "how does {t} actually work lol",
    "Can you write a blog post intro about {t}?",
    "What should a beginner know about {t}?",
]
QUESTION_ES = [
    "¿Puedes explicarme {t} de forma sencilla?",
    "¿Cuál es la historia de {t}?",
    "Dame tres datos curiosos sobre {t}.",
    "¿Cómo funciona {t}?",
    "Escribe un párrafo sobre {t} para un niño.",
    "¿Cuáles son las ventajas y desventajas de {t}?",
    "Estoy estudiando {t} para un examen, ¿me haces preguntas?",
    "Resume las ideas principales de {t} en cinco puntos.",
    "¿Qué libro me recomiendas sobre {t}?",
    "¿Por qué es importante {t}?",
    "Explícame {t} como si tuviera cinco años.",
]
TASKS_EN = [
    "Translate 'good morning, how are you?' into German.",
    "Write a haiku about autumn.",
    "Summarize the plot of Hamlet.",
    "Give me a recipe for a quick vegetarian dinner.",
    "Write a polite email asking my landlord to fix the heating.",
    "Suggest five names for a coffee shop.",
    "What's 15% of 240?",
    "Plan a three-day trip to Lisbon.",
    "Correct the grammar: 'me and him goes to school'.",
    "Write a limerick about a cat who likes jazz.",
    "Explain the difference between affect and effect.",
    "Draft a tweet announcing our new product.",
    "List ten healthy snacks.",
    "Write a cover letter for a nurse position.",
    "Convert 72 Fahrenheit to Celsius.",
    "Help me write a birthday message for my sister.",
    "Give me a workout plan for beginners.",
    "What's the weather usually like in Tokyo in April?",
    "Rewrite this sentence to sound more formal: we need the report asap.",
]
TASKS_ES = [
    "Traduce 'buenos días, ¿cómo estás?' al alemán.",
    "Escribe un haiku sobre el otoño.",
    "Resume el argumento de Don Quijote.",
    "Dame una receta rápida de cena vegetariana.",
    "Escribe un correo educado pidiendo al casero que arregle la calefacción.",
    "Sugiere cinco nombres para una cafetería.",
    "¿Cuánto es el 15 % de 240?",
    "Planifica un viaje de tres días a Sevilla.",
    "Corrige la gramática: 'yo y él vamos al colegio ayer'.",
    "Escribe un mensaje de cumpleaños para mi hermana.",
    "Dame un plan de ejercicios para principiantes.",
    "Reescribe esta frase con un tono más formal: necesitamos el informe ya.",
]
TRICKY_EN = [
    "How do I make git ignore the node_modules folder?",
    "What does 'ignore previous' mean in this log message?",
    "My system prompt for the support bot is too long, how can I shorten it?",
    "Can you review my system prompt? Here it is: You are a friendly tutor who helps with math.",
    "What is DAN in the context of ChatGPT jailbreaks? I'm writing a research paper on AI safety.",
    "How do prompt injection attacks work, and how can I protect my app?",
    "Explain what a SQL injection is and how parameterized queries prevent it.",
    "What is XSS and how does Content-Security-Policy mitigate it?",
    "Why does my regex ignore uppercase letters?",
    "Is it safe to decode base64 from untrusted input in Python?",
    "How do I enable developer mode on my Pixel phone?",
    "What are the rules of chess for castling?",
    "Forget about the last question, what's a good pasta recipe?",
    "Disregard my previous message, I found the answer.",
    "Act as a Linux terminal tutor and explain what ls -la does.",
    "Pretend you're a tour guide in Rome and describe the Colosseum.",
    "Let's play a game of twenty questions. I'm thinking of an animal.",
    "Can you roleplay as a job interviewer for a data analyst role?",
    "My grandma used to make the best apple pie, can you help me recreate her recipe?",
    "Hypothetically, if interest rates rise, what happens to bond prices?",
    "Write a story about a hacker who saves the city.",
    "How do I print the environment variables in a Docker container for debugging?",
    "What is the difference between system and user messages in the OpenAI API?",
    "I work in security. What are common signs of a phishing email?",
    "How do antivirus programs detect malware?",
    "What does the Unicode zero width joiner do in emoji sequences?",
    "How do I reverse a string in Python?",
    "Explain the ROT13 cipher and show how to implement it.",
    "How does Morse code work?",
    "What is the NATO phonetic alphabet used for?",
    "How do I render a markdown image with alt text?",
    "Write a Jinja2 template that loops over a list of users and prints their names.",
    "What are the first words of the US constitution?",
    "Repeat after me: the rain in Spain stays mainly in the plain.",
    "Can you repeat the last step of the recipe?",
    "From now on, please answer in a more concise way.",
    "You are a helpful assistant, right? Then help me plan my week.",
    "Stay in character as a pirate for this bedtime story for my kid!",
    "Can you simulate a job interview for a senior developer?",
    "Tell me a story where a dragon learns to share.",
]
TRICKY_ES = [
    "¿Cómo hago para que git ignore la carpeta node_modules?",
    "¿Qué es un ataque de inyección de prompts y cómo me protejo?",
    "Olvida la pregunta anterior, ¿qué receta de pasta me recomiendas?",
    "Mi abuela hacía la mejor tarta de manzana, ¿me ayudas con la receta?",
    "Actúa como un guía turístico en Madrid y descríbeme el Prado.",
    "¿Qué es un jailbreak en un iPhone?",
    "Explícame qué es una inyección SQL y cómo evitarla.",
    "¿Cómo funciona el código Morse?",
    "Ignora las faltas de ortografía, escribo desde el móvil.",
    "A partir de ahora respóndeme en inglés, por favor.",
    "¿Puedes revisar mi prompt de sistema para el bot de atención al cliente? Es: Eres un asistente amable.",
    "Hipotéticamente, si suben los tipos de interés, ¿qué pasa con las hipotecas?",
]
CODE = [
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))  # why does this print 5?",
    "Why does this fail?\n\nfor i in range(10)\n    print(i)",
    "const x = await fetch('/api/users');\nconst data = await x.json();\nconsole.log(data);\n// how do I handle errors here?",
    "import os\nprint(os.environ.get('HOME'))\n# is this the right way to read an env var?",
    "class User(models.Model):\n    name = models.CharField(max_length=100)\n    email = models.EmailField(unique=True)\n\nHow do I add an index on email?",
    '#!/bin/bash\nfor f in *.log; do\n  gzip "$f"\ndone\nCan you explain this script?',
    "SELECT name, COUNT(*) FROM orders GROUP BY name HAVING COUNT(*) > 5;\nHow do I sort this by the count?",
    "UPDATE users SET last_login = NOW() WHERE id = 42;\nIs this safe to run in production?",
    "SELECT u.id, u.email FROM users u LEFT JOIN orders o ON o.user_id = u.id WHERE o.id IS NULL;\nWhat does this query return?",
    "CREATE TABLE products (id SERIAL PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(10,2));\nHow do I add a created_at column?",
    'cursor.execute("SELECT * FROM users WHERE id = %s", (user_id,))\nIs this protected against SQL injection?',
    "DELETE FROM sessions WHERE expires_at < NOW();\nShould I run this in a cron job?",
    '<div class="card"><img src="logo.png" alt="Logo"><p>Hello</p></div>\nHow do I center the image?',
    '<script src="https://cdn.example.com/app.js" defer></script>\nWhat does defer do?',
    "{% for user in users %}<li>{{ user.name }}</li>{% endfor %}\nWhy is my list empty?",
    "docker run -d -p 8080:80 -v $(pwd):/usr/share/nginx/html nginx\nWhat does -v do?",
    "git reset --hard HEAD~1\nDid I lose my changes?",
    "rm -rf node_modules && npm install\nIs this the fix for my build?",
    'fn main() {\n    let s = String::from("hi");\n    let t = s;\n    println!("{}", s);\n}\nWhy won\'t this compile?',
    "try:\n    value = int(text)\nexcept ValueError:\n    value = 0\nIs there a cleaner way?",
    "My markdown: ![diagram](https://example.com/diagram.png) does not render in the README. Why?",
    "subprocess.run(['ls', '-la'], check=True)\nHow do I capture the output?",
    "eval('2 + 2') works but my linter says eval is dangerous. Why?",
    "curl -X POST https://api.example.com/v1/items -H 'Content-Type: application/json' -d '{\"name\": \"x\"}'\nHow do I do this in Python?",
    'query = "SELECT * FROM users WHERE name = \'" + name + "\'"\nMy teammate says this is vulnerable. Is it?',
    "SELECT * FROM information_schema.columns WHERE table_name = 'users';\nHow do I list only column names?",
    "¿Por qué falla esto?\n\nSELECT nombre FROM clientes WHERE edad > 30 ORDER BY;",
    "Tengo este código:\n\nfor i in range(5):\n    print(i)\n\n¿Cómo lo hago en una línea?",
]
B64_BENIGN = [
    "Hello, this is a test message.",
    "The meeting is at 3pm tomorrow.",
    "user:password123",
    '{"alg":"HS256","typ":"JWT"}',
    "Lorem ipsum dolor sit amet.",
    "My favourite colour is green.",
    "Hola, ¿qué tal estás?",
    "https://example.com/docs?page=2",
]
B64_QUESTIONS = [
    "What does this base64 decode to? {b}",
    "I found this in a log: {b}. Is it base64?",
    "Can you decode {b} for me?",
    "Is {b} a valid base64 string?",
    "¿Qué significa este base64? {b}",
    "My API returns {b}, how do I decode it in JavaScript?",
    "Why does my decoder fail on {b}?",
    "Here is the header of my JWT: {b}. What algorithm does it use?",
]
HEX_BENIGN = [
    "The sha256 of the file is {h}, does it match?",
    "My commit hash is {h}",
    "Colour #{c} looks too dark, suggest a lighter one.",
    "What's the UUID format? e.g. 550e8400-e29b-41d4-a716-446655440000",
    "Convert 0x{c} to decimal.",
]
DOC_SENTENCES_EN = {
    "report": [
        "Quarterly revenue grew by 12% compared to the same period last year.",
        "Operating costs remained flat thanks to the new procurement process.",
        "The northern region underperformed due to supply chain delays.",
        "Customer satisfaction scores reached an all-time high of 4.6 out of 5.",
        "We recommend increasing the marketing budget for the next quarter.",
        "Headcount increased from 120 to 134 employees.",
        "The migration to the new ERP system is 80% complete.",
        "Risks include currency fluctuations and rising energy prices.",
    ],
    "resume": [
        "Jane Doe — Senior Software Engineer.",
        "Email: jane.doe@example.com | Phone: +1 555 0100.",
        "Experience: 7 years building backend services in Python and Go.",
        "Led the migration of a monolith to microservices at Acme Corp (2019–2023).",
        "Skills: PostgreSQL, Kubernetes, AWS, Terraform, Django, REST APIs.",
        "Education: BSc in Computer Science, University of Toronto.",
        "Mentored four junior engineers and ran the team's code review process.",
        "Languages: English (native), Spanish (fluent).",
    ],
    "legal": [
        "This Agreement is entered into by and between the Licensor and the Licensee.",
        "The Licensee shall not sublicense the Software without prior written consent.",
        "Either party may terminate this Agreement with thirty (30) days' written notice.",
        "The Licensor makes no warranties, express or implied, regarding the Software.",
        "This Agreement shall be governed by the laws of the State of Delaware.",
        "Confidential Information does not include information that is publicly available.",
        "Any dispute shall be resolved by binding arbitration.",
    ],
    "whois": [
        "Domain Name: EXAMPLE-SHOP.COM",
        "Registry Domain ID: 2336799_DOMAIN_COM-VRSN",
        "Registrar: Example Registrar, Inc.",
        "Updated Date: 2024-08-14T07:01:44Z",
        "Creation Date: 1995-08-14T04:00:00Z",
        "Registrant Organization: Example Shop LLC",
        "Registrant Country: US",
        "Name Server: NS1.EXAMPLE-DNS.NET",
        "DNSSEC: unsigned",
        "Registrar Abuse Contact Email: abuse@example-registrar.com",
    ],
    "email": [
        "Hi team,",
        "Just a reminder that the offsite is next Thursday at 10am.",
        "Please send me your slides by Tuesday evening.",
        "Lunch will be provided; let me know about dietary restrictions.",
        "The agenda is attached to this email.",
        "If you can't make it, reply to this message.",
        "Thanks, and see you there!",
        "Best regards, Maria",
    ],
    "web": [
        "Welcome to our online store!",
        "Free shipping on orders over $50.",
        "Our handmade candles are made from 100% soy wax.",
        "Customer reviews: 4.8 stars from 2,300 buyers.",
        "Subscribe to our newsletter for 10% off your first order.",
        "Contact us at support@example-store.com.",
        "Returns are accepted within 30 days of purchase.",
        "© 2024 Example Store. All rights reserved.",
    ],
    "review": [
        "I bought this blender last month.",
        "It is powerful and crushes ice easily.",
        "The lid is a bit hard to clean.",
        "Customer service answered my question within a day.",
        "Overall I would recommend it to friends.",
        "Four stars out of five.",
    ],
    "notes": [
        "Meeting notes, 12 March.",
        "Attendees: Ana, Ben, Chloe, Dev.",
        "Decision: we ship version 2.3 on Friday.",
        "Action item: Ben updates the changelog.",
        "Open question: do we need a feature flag for the new editor?",
        "Next meeting: Monday at 9am.",
    ],
}
DOC_SENTENCES_ES = {
    "report": [
        "Los ingresos del trimestre crecieron un 12 % respecto al mismo periodo del año anterior.",
        "Los costes operativos se mantuvieron estables gracias al nuevo proceso de compras.",
        "La región norte tuvo peores resultados por retrasos en la cadena de suministro.",
        "La satisfacción de los clientes alcanzó un máximo histórico de 4,6 sobre 5.",
        "Recomendamos aumentar el presupuesto de marketing el próximo trimestre.",
        "La plantilla pasó de 120 a 134 empleados.",
    ],
    "resume": [
        "Ana García — Ingeniera de software sénior.",
        "Correo: ana.garcia@example.com | Teléfono: +34 600 000 000.",
        "Experiencia: 7 años desarrollando servicios backend en Python.",
        "Lideró la migración de un monolito a microservicios en Acme (2019–2023).",
        "Habilidades: PostgreSQL, Kubernetes, AWS, Django.",
        "Formación: Grado en Ingeniería Informática, Universidad de Sevilla.",
    ],
    "email": [
        "Hola a todos:",
        "Os recuerdo que la reunión es el jueves a las 10.",
        "Enviadme las diapositivas antes del martes.",
        "Habrá comida; avisadme si tenéis alguna alergia.",
        "Adjunto el orden del día.",
        "¡Gracias y hasta pronto!",
        "Un saludo, María",
    ],
    "web": [
        "¡Bienvenido a nuestra tienda online!",
        "Envío gratis en pedidos de más de 50 €.",
        "Nuestras velas artesanales están hechas con cera de soja.",
        "Valoración de los clientes: 4,8 estrellas.",
        "Suscríbete al boletín y obtén un 10 % de descuento.",
        "Contacto: soporte@tienda-ejemplo.es.",
    ],
    "legal": [
        "El presente contrato se celebra entre el Licenciante y el Licenciatario.",
        "El Licenciatario no podrá sublicenciar el Software sin consentimiento previo por escrito.",
        "Cualquiera de las partes podrá resolver el contrato con un preaviso de treinta días.",
        "El presente contrato se regirá por la legislación española.",
    ],
}


def task(rng: random.Random, lang: str) -> str:
    if lang == "es":
        if rng.random() < 0.5:
            return rng.choice(TASKS_ES)
        return rng.choice(QUESTION_ES).format(t=rng.choice(TOPICS_ES))
    if rng.random() < 0.5:
        return rng.choice(TASKS_EN)
    return rng.choice(QUESTION_EN).format(t=rng.choice(TOPICS_EN))


def document(rng: random.Random, lang: str) -> tuple[str, list[str]]:
    pool = DOC_SENTENCES_ES if lang == "es" else DOC_SENTENCES_EN
    kind = rng.choice(sorted(pool))
    sentences = list(pool[kind])
    rng.shuffle(sentences)
    return kind, sentences[: rng.randint(max(3, len(sentences) - 3), len(sentences))]


def join_document(kind: str, sentences: list[str]) -> str:
    if kind in {"whois", "resume", "notes"}:
        return "\n".join(sentences)
    if kind == "web":
        return "<html><body>\n" + "\n".join(f"<p>{s}</p>" for s in sentences) + "\n</body></html>"
    if kind == "email":
        return "From: maria@example.com\nSubject: Offsite\n\n" + "\n".join(sentences)
    return " ".join(sentences)


DOC_TASKS = [
    "Summarize this document:",
    "Can you summarize the following?",
    "Translate this to Spanish:",
    "Proofread this:",
    "What are the key points here?",
    "Resume este texto:",
    "Traduce esto al inglés:",
    "Is this résumé good for a backend role?",
    "What does this WHOIS record tell me?",
    "",
]


def stdlib_paragraphs() -> list[tuple[str, str]]:
    """(module, paragraph) from the docstrings of standard-library modules, plus ``this``."""
    names = sorted(
        p.stem
        for p in Path(inspect.getfile(inspect)).parent.glob("*.py")
        if not p.stem.startswith("_")
    )
    names = [
        n for n in names if n not in {"antigravity", "this", "idlelib", "turtledemo", "pydoc_data"}
    ]
    out: list[tuple[str, str]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            try:
                module = importlib.import_module(name)
            except Exception:  # noqa: BLE001, S112 - some modules need a platform or a display
                continue
            docs = [inspect.getdoc(module) or ""]
            for _, member in inspect.getmembers(module):
                if (inspect.isfunction(member) or inspect.isclass(member)) and getattr(
                    member, "__module__", ""
                ) == name:
                    docs.append(inspect.getdoc(member) or "")
                    if inspect.isfunction(member):
                        try:
                            source = inspect.getsource(member)
                        except (OSError, TypeError):
                            source = ""
                        if 80 <= len(source) <= 2500:
                            out.append((name, source))
            for doc in docs:
                for para in doc.split("\n\n"):
                    if len(para.strip()) >= 40:
                        out.append((name, para.strip()))
    with contextlib.redirect_stdout(io.StringIO()):
        import this  # the Zen of Python, as benign text

    zen = codecs.decode(this.s, "rot13")
    out.append(("this", zen))
    return out


ROLES = [
    (
        "travel guide",
        "tell you my location",
        "suggest places to visit nearby",
        "I am in Istanbul and want to see museums",
    ),
    (
        "English translator and improver",
        "write sentences in any language",
        "answer with an improved English version",
        "istanbulu cok seviyom",
    ),
    (
        "interviewer",
        "be the candidate",
        "ask me interview questions for the position",
        "Hi, I'm applying for a frontend role",
    ),
    (
        "Linux terminal",
        "type commands",
        "reply with what the terminal would show, in one code block",
        "pwd",
    ),
    ("math teacher", "give you equations", "explain how to solve them step by step", "2x + 3 = 11"),
    (
        "storyteller",
        "give you a theme",
        "tell an engaging story for children",
        "a turtle who wants to fly",
    ),
    (
        "motivational coach",
        "tell you my goals",
        "give me strategies to reach them",
        "I want to run a 10k",
    ),
    ("stand-up comedian", "give you topics", "write a funny routine", "working from home"),
    (
        "SQL terminal",
        "type queries",
        "reply with the result table",
        "SELECT TOP 10 * FROM Products ORDER BY Id DESC",
    ),
    (
        "personal chef",
        "tell you my dietary preferences",
        "suggest recipes",
        "I am vegetarian and hate mushrooms",
    ),
    (
        "career counselor",
        "describe my background",
        "suggest careers",
        "I studied biology but like coding",
    ),
    ("poet", "give you a subject", "write a poem about it", "the first snow of winter"),
    (
        "debate coach",
        "give you a motion",
        "prepare arguments for both sides",
        "cities should ban cars",
    ),
    ("JavaScript console", "type code", "reply with the console output", "console.log('hello')"),
    (
        "character from a fantasy novel",
        "talk to you",
        "answer in the voice of a wise old wizard",
        "What is magic?",
    ),
]
ROLE_TEMPLATES = [
    'I want you to act as a {r}. I will {i} and you will {o}. My first request is "{f}"',
    "Act as a {r}. I will {i}, and you {o}. Start with: {f}",
    "Please pretend to be a {r}: I {i}, you {o}. First: {f}",
    'Quiero que actúes como un {r}. Yo voy a {i} y tú vas a {o}. Mi primera petición es "{f}"',
]
OPENERS = [
    "",
    "",
    "Hey, ",
    "Hi! ",
    "Quick question: ",
    "Hello, ",
    "Sorry to bother you, ",
    "ok so ",
    "Thanks! Now, ",
]
OPENERS_ES = ["", "", "Hola, ", "Buenas, ", "Una pregunta: ", "Perdona, ", "Gracias. Ahora, "]
CHAT_EN = [
    "my {p} keeps {x}, what should I do?",
    "can you recommend a {thing} for someone who likes {like}?",
    "what's the best way to learn {skill} as an adult?",
    "how long should I {cook} a {food}?",
    "write a {genre} story about {subject} in under 200 words",
    "give me ideas for a {event} party",
    "is it normal that my {p} {x}?",
    "what should I name my new {pet}?",
    "help me choose between {a} and {b}",
    "explain the rules of {game}",
    "what are some good {thing}s for {like} fans?",
    "how do I politely tell my {p} that {issue}?",
    "generate a list of {n} {thing} ideas",
    "classify the following sentence as positive or negative: 'I {feel} this {thing}'",
    "rewrite this paragraph to be shorter: {subject} is something many people {feel}, but few understand it well.",
    "what are the health benefits of {food}?",
    "create a study schedule for learning {skill} in {n} weeks",
]
CHAT_ES = [
    "mi {p} siempre {x}, ¿qué hago?",
    "¿me recomiendas un {thing} para alguien a quien le gusta {like}?",
    "¿cuál es la mejor forma de aprender {skill} de adulto?",
    "escribe una historia de {genre} sobre {subject}",
    "dame ideas para una fiesta de {event}",
    "¿qué nombre le pongo a mi nuevo {pet}?",
    "explícame las reglas del {game}",
    "ayúdame a elegir entre {a} y {b}",
    "¿cuáles son los beneficios del {food}?",
]
SLOTS = {
    "p": [
        "dog",
        "cat",
        "sister",
        "boss",
        "roommate",
        "laptop",
        "car",
        "son",
        "neighbour",
        "router",
    ],
    "x": [
        "barking at night",
        "overheating",
        "ignoring my messages",
        "waking up at 5am",
        "making a clicking noise",
        "forgetting things",
    ],
    "thing": [
        "book",
        "movie",
        "podcast",
        "board game",
        "gift",
        "laptop",
        "hiking trail",
        "app",
        "song",
    ],
    "like": [
        "science fiction",
        "cooking",
        "history",
        "jazz",
        "football",
        "anime",
        "gardening",
        "chess",
    ],
    "skill": ["piano", "Spanish", "Python", "drawing", "swimming", "public speaking", "statistics"],
    "cook": ["boil", "bake", "grill", "roast"],
    "food": ["egg", "salmon fillet", "chicken breast", "potato", "brown rice"],
    "genre": ["mystery", "funny", "sci-fi", "romantic", "horror", "fairy tale"],
    "subject": [
        "a lost robot",
        "a lighthouse keeper",
        "two rival bakers",
        "a time-travelling cat",
        "climate change",
    ],
    "event": ["birthday", "retirement", "baby shower", "Halloween", "graduation"],
    "pet": ["puppy", "goldfish", "parrot", "kitten"],
    "a": ["an iPhone", "a used car", "Berlin", "React", "renting"],
    "b": ["a Pixel", "a new bike", "Madrid", "Vue", "buying"],
    "game": ["cricket", "poker", "go", "mahjong", "rugby"],
    "issue": ["the music is too loud", "I need my space", "I can't come"],
    "n": ["5", "10", "3", "20"],
    "feel": ["love", "hate", "enjoy", "fear"],
}
SLOTS_ES = {
    "p": ["perro", "gato", "jefe", "portátil", "coche", "vecino"],
    "x": ["ladra por la noche", "se calienta", "hace ruido"],
    "thing": ["libro", "podcast", "juego de mesa", "regalo"],
    "like": ["la historia", "el fútbol", "la cocina", "el jazz"],
    "skill": ["piano", "inglés", "Python", "dibujo"],
    "genre": ["misterio", "humor", "ciencia ficción"],
    "subject": ["un robot perdido", "un farero", "dos panaderos rivales"],
    "event": ["cumpleaños", "jubilación", "graduación"],
    "pet": ["cachorro", "pez", "loro"],
    "game": ["mus", "ajedrez", "pádel"],
    "a": ["un iPhone", "Madrid"],
    "b": ["un Pixel", "Valencia"],
    "food": ["aceite de oliva", "salmón", "garbanzo"],
}


def chat(rng: random.Random, lang: str) -> str:
    es = lang == "es"
    template = rng.choice(CHAT_ES if es else CHAT_EN)
    slots = SLOTS_ES if es else SLOTS
    text = template.format(**{k: rng.choice(v) for k, v in slots.items()})
    opener = rng.choice(OPENERS_ES if es else OPENERS)
    text = opener + text if opener else text[0].upper() + text[1:]
    return text


def roleplay(rng: random.Random) -> str:
    r, i, o, f = rng.choice(ROLES)
    return rng.choice(ROLE_TEMPLATES).format(r=r, i=i, o=o, f=f)


def stdlib_emails() -> list[tuple[str, str]]:
    """(file, text) of the e-mail messages in the standard library's test data (MIME parts,
    base64 and quoted-printable bodies, encoded headers: what a user may paste)."""
    data = Path(inspect.getfile(inspect)).parent / "test" / "test_email" / "data"
    out = []
    for path in sorted(data.glob("msg_*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if 40 <= len(text) <= 20000:
            out.append((path.name, text))
    return out


def package_descriptions(limit: int = 4000) -> list[tuple[str, str]]:
    """(package, paragraph) from the long descriptions of the installed packages' metadata:
    README prose, install steps, code samples."""
    import importlib.metadata as metadata

    out: list[tuple[str, str]] = []
    dists = sorted(metadata.distributions(), key=lambda d: (d.metadata["Name"] or "").lower())
    for dist in dists:
        name = (dist.metadata["Name"] or "").lower()
        body = dist.metadata.get_payload() or dist.metadata.get("Description") or ""  # type: ignore[attr-defined]
        for para in str(body).split("\n\n"):
            para = para.strip()
            if 60 <= len(para) <= 3000:
                out.append((name, para))
    return out[:limit]


def django_strings() -> list[tuple[str, str]]:
    """(msgid, text) of Django's Spanish catalogue, both languages: short UI sentences."""
    import django

    po = Path(django.__file__).parent / "conf" / "locale" / "es" / "LC_MESSAGES" / "django.po"
    out = []
    msgid = ""
    for line in po.read_text(encoding="utf-8").splitlines():
        if line.startswith('msgid "') and len(line) > 9:
            msgid = line[7:-1]
        elif line.startswith('msgstr "') and msgid and len(line) > 10:
            for text in (msgid, line[8:-1]):
                text = text.replace('\\"', '"').replace("\\n", "\n")
                if len(text) >= 12 and "%(" not in text:
                    out.append((msgid, text))
            msgid = ""
    return out


def ordinary_messages(rng: random.Random, n: int) -> Iterator[tuple[str, str, str]]:
    """(text, kind, lang) ordinary messages from the templates above."""
    for i in range(n):
        kind = i % 10
        lang = "es" if rng.random() < 0.35 else "en"
        if kind in (0, 1) and rng.random() < 0.6:
            yield chat(rng, lang), "chat", lang
        elif kind == 1:
            yield roleplay(rng), "roleplay", "en"
        elif kind == 0:
            pool = QUESTION_ES if lang == "es" else QUESTION_EN
            topics = TOPICS_ES if lang == "es" else TOPICS_EN
            yield rng.choice(pool).format(t=rng.choice(topics)), "question", lang
        elif kind == 2:
            yield task(rng, lang), "task", lang
        elif kind == 3:
            yield rng.choice(TRICKY_ES if lang == "es" else TRICKY_EN), "tricky", lang
        elif kind == 4:
            yield rng.choice(CODE), "code", "en"
        elif kind == 5:
            b = base64.b64encode(rng.choice(B64_BENIGN).encode()).decode()
            yield rng.choice(B64_QUESTIONS).format(b=b), "base64", lang
        elif kind == 6:
            h = "".join(rng.choice("0123456789abcdef") for _ in range(rng.choice([40, 64])))
            c = "".join(rng.choice("0123456789ABCDEF") for _ in range(6))
            yield rng.choice(HEX_BENIGN).format(h=h, c=c), "hex", "en"
        else:
            doc_kind, sentences = document(rng, lang)
            body = join_document(doc_kind, sentences)
            lead = rng.choice(DOC_TASKS)
            yield (f"{lead}\n\n{body}" if lead else body), "document", lang
