"""Settings read once from the environment and passed explicitly to every part."""

from config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
