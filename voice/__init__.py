"""Text-to-speech, speech-to-text, voice calls, audio cache.

Built by its own issue; the app exists now so the layout shows the design."""
