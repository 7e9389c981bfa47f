"""The one error a setting raises."""


class ConfigError(ValueError):
    """A setting from the environment could not be used."""


def require_one_of(setting: str, value: object, choices: tuple) -> None:
    """Refuse ``value`` of ``setting`` (``section.field``) unless it is one of ``choices``."""
    if value not in choices:
        raise ConfigError(f"{setting} must be one of {choices}, got {value!r}")
