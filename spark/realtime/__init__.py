"""Realtime machinery: channel group names, events sent on commit, stream replay buffers."""
