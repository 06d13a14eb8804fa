"""Django app configuration for the environments app."""

from django.apps import AppConfig


class EnvironmentsConfig(AppConfig):
    name = "environments"
    verbose_name = "Test environments"
    default_auto_field = "django.db.models.BigAutoField"
