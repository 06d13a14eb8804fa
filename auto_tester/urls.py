"""The project serves no pages: the environments app is used as a library."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
