"""Downloader middlewares, each in its own module and switched on in settings.py."""
