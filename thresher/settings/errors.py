"""The one error a setting raises."""


class ConfigError(ValueError):
    """A setting from the environment could not be used."""
