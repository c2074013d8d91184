from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WhatsappBridgeConfig(AppConfig):
    name = "whatsapp_bridge"
    verbose_name = _("WhatsApp")
