"""System checks of the security layer (filled in by the outbound-fetch check)."""
