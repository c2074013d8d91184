"""The Django admin app, configured to use Spark's audited, branded admin site."""

from django.contrib.admin.apps import AdminConfig


class SparkAdminConfig(AdminConfig):
    default_site = "security.admin_site.SparkAdminSite"
