"""Cross-cutting machinery shared by every app: base model, errors, client IP, health."""
