"""The LLM provider facade: types, errors, client and providers.

Only spark.llm.providers imports litellm or a vendor SDK."""
