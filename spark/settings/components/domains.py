"""Custom domains for prompts: the DNS records creators point at Spark, how they are checked,
and the one-time fee for a domain slot."""

from decimal import Decimal

from spark.settings.components import env

# The host a creator's CNAME must point at (the landing proxy's name).
SPARK_DOMAIN_CNAME_TARGET = env.str("SPARK_DOMAIN_CNAME_TARGET", default="domains.spark.localhost")
# For an apex domain (no CNAME possible): the addresses its A / AAAA records must name.
SPARK_DOMAIN_IPV4 = env.list("SPARK_DOMAIN_IPV4", default=["127.0.0.1"])
SPARK_DOMAIN_IPV6 = env.list("SPARK_DOMAIN_IPV6", default=[])
# Resolvers asked during verification ("ip" or "ip:port", "[v6]:port"); empty: the system's.
SPARK_DNS_RESOLVERS = env.list("SPARK_DNS_RESOLVERS", default=[])
SPARK_DNS_TIMEOUT_SECONDS = env.float("SPARK_DNS_TIMEOUT_SECONDS", default=3.0)
# A domain not verified this many days after it was added is marked failed.
SPARK_DOMAIN_VERIFY_DAYS = env.int("SPARK_DOMAIN_VERIFY_DAYS", default=7)
# Active domains are re-verified daily; failed checks retry after 1 h, 4 h, 16 h ... and the
# domain is suspended after this many consecutive failures.
SPARK_DOMAIN_RECHECK_HOURS = env.int("SPARK_DOMAIN_RECHECK_HOURS", default=24)
SPARK_DOMAIN_SUSPEND_AFTER = env.int("SPARK_DOMAIN_SUSPEND_AFTER", default=3)
# Host names no prompt may claim, with their subdomains: the platform's own (list the app's
# domain in production), besides the landing domain, the CNAME target and tenant domains.
SPARK_DOMAIN_RESERVED = env.list("SPARK_DOMAIN_RESERVED", default=["localhost"])
# The one-time fee for activating a domain, charged to the creator's wallet (0: free).
SPARK_DOMAIN_FEE_USD = Decimal(env.str("SPARK_DOMAIN_FEE_USD", default="25"))
# Who charges it: billing plugs in here (marketplace does not import billing).
SPARK_DOMAIN_FEE_CHARGE = "billing.domains.domain_fee_charge"
# Networks allowed to ask /internal/tls/ask (the TLS proxy): loopback and private ranges.
SPARK_TLS_ASK_NETWORKS = env.list(
    "SPARK_TLS_ASK_NETWORKS",
    default=["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
)
