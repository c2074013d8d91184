"""The WhatsApp bridge: Twilio webhook, number links, voice notes, replies.

Built by its own issue; the app exists now so the layout shows the design."""
