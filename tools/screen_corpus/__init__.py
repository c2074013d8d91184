"""The local screen's training and evaluation corpus, written by the project.

Nothing here is copied from a published jailbreak or prompt-injection dataset or from a
red-teaming tool: every attack is generated from templates written for Spark (framings x
goals x wrappers x encodings x languages) plus hand-written lines, and every ordinary
message from templates, the project's own test data and text that ships with Python
(standard-library docstrings, ``this``).

``python -m tools.screen_corpus`` writes ``watchdog/screen_corpus/{train,heldout}.jsonl``.
The split is by template: every framing of a family has an id, and a fixed share of the
ids (chosen by a stable hash) are held out entirely, so held-out recall measures how the
screen generalises to framings it never saw, not how well it remembers strings.
"""
