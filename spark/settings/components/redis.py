"""Redis: cache, sessions and the channel layer. In-process equivalents when REDIS_URL is unset."""

from spark.settings.components import env

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="spark"),
            "TIMEOUT": 300,
        }
    }
    # Sessions live in Redis (fast, shared by every web instance) and are revocable:
    # allauth's usersessions lists them and ends them by deleting their keys.
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    # Redis pub/sub by default: no per-process receive lock (the list-based layer reads
    # every local channel through one lock-holding reader and can drop a message when a
    # receiver is cancelled) and about half the round trips per message. Messages are
    # not persisted, which chat does not need: answers replay from their own buffers.
    CHANNEL_LAYER_BACKEND = env.str(
        "CHANNEL_LAYER_BACKEND", default="channels_redis.pubsub.RedisPubSubChannelLayer"
    )
    _layer_config: dict[str, object] = {
        # redis-py closes idle channel-layer sockets unless the timeout is off
        # (channels_redis #422); fan-out needs a large pool.
        "hosts": [{"address": REDIS_URL, "socket_timeout": None, "max_connections": 1000}],
        "prefix": env.str("CHANNEL_LAYER_PREFIX", default="spark"),
    }
    if CHANNEL_LAYER_BACKEND == "channels_redis.core.RedisChannelLayer":
        _layer_config.update({"capacity": 1000, "expiry": 60})
    CHANNEL_LAYERS = {"default": {"BACKEND": CHANNEL_LAYER_BACKEND, "CONFIG": _layer_config}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "spark",
            "TIMEOUT": 300,
        }
    }
    # In the embedded default the cache is per-process, so sessions go to the database.
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
