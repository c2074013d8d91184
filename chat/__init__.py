"""Conversations, messages, folders, the send pipeline, tools, consumers, exports.

Built by its own issue; the app exists now so the layout shows the design."""
