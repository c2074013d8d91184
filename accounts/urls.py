"""Account URLs: allauth's, with Spark's rate limits and password gate in front."""

from allauth.account import views as allauth_views
from allauth.mfa.base import views as mfa_views
from django.urls import include, path

from accounts import views
from accounts.ratelimits import limit_auth_view

auth_overrides = [
    path(
        "login/",
        limit_auth_view(
            allauth_views.login,
            group="login",
            ip_rate="login_ip",
            account_rate="login_account",
            account_field="login",
        ),
        name="account_login",
    ),
    path(
        "signup/",
        limit_auth_view(
            allauth_views.signup, group="signup", ip_rate="signup_ip", account_rate=None
        ),
        name="account_signup",
    ),
    path(
        "password/reset/",
        limit_auth_view(
            allauth_views.password_reset,
            group="password_reset",
            ip_rate="password_reset_ip",
            account_rate="password_reset_account",
        ),
        name="account_reset_password",
    ),
    # Pages that take a second factor or a password again: guessable secrets, so limited.
    path(
        "reauthenticate/",
        limit_auth_view(
            allauth_views.reauthenticate,
            group="reauthenticate",
            ip_rate="reauthenticate_ip",
            account_rate=None,
        ),
        name="account_reauthenticate",
    ),
    path(
        "2fa/authenticate/",
        limit_auth_view(mfa_views.authenticate, group="mfa", ip_rate="mfa_ip", account_rate=None),
        name="mfa_authenticate",
    ),
    path(
        "2fa/reauthenticate/",
        limit_auth_view(
            mfa_views.reauthenticate, group="mfa_reauth", ip_rate="mfa_ip", account_rate=None
        ),
        name="mfa_reauthenticate",
    ),
    path("password/change/", views.password_change_gated, name="account_change_password"),
    path("password/set/", views.password_set_gated, name="account_set_password"),
    path("magic-link/", views.magic_link_request, name="magic_link_request"),
    path("magic-link/sign-in/", views.magic_link_login, name="magic_link_login"),
]

urlpatterns = [
    path("accounts/", include(auth_overrides)),
    path("accounts/", include("allauth.urls")),
    path("settings/", views.settings_profile, name="settings_profile"),
    path("settings/api-keys/", views.settings_api_keys, name="settings_api_keys"),
    path(
        "settings/api-keys/<uuid:key_uuid>/revoke/",
        views.settings_api_key_revoke,
        name="settings_api_key_revoke",
    ),
    path("settings/provider-keys/", views.settings_provider_keys, name="settings_provider_keys"),
    path(
        "settings/provider-keys/<uuid:key_uuid>/delete/",
        views.settings_provider_key_delete,
        name="settings_provider_key_delete",
    ),
    path(
        "settings/provider-keys/<uuid:key_uuid>/test/",
        views.settings_provider_key_test,
        name="settings_provider_key_test",
    ),
    path("settings/alter-egos/", views.settings_alter_egos, name="settings_alter_egos"),
    path(
        "settings/alter-egos/<uuid:alter_ego_uuid>/edit/",
        views.settings_alter_ego_edit,
        name="settings_alter_ego_edit",
    ),
    path(
        "settings/alter-egos/<uuid:alter_ego_uuid>/default/",
        views.settings_alter_ego_default,
        name="settings_alter_ego_default",
    ),
    path(
        "settings/alter-egos/<uuid:alter_ego_uuid>/delete/",
        views.settings_alter_ego_delete,
        name="settings_alter_ego_delete",
    ),
]
