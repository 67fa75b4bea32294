"""Configuration: one TOML file, every key overridable by an environment variable.

Each section is a dataclass; each field's metadata carries its documentation, so that the
example file, the validation messages and the environment names all come from one place.
A key `port` in section `server` is read from `[server] port` in the file and from
`COMMONS_SERVER_PORT` in the environment (the environment wins).
"""

from registry.config.federation import FederationSection, LimitsSection, MirrorSection
from registry.config.keys import (
    CONFIG_ENV,
    ENV_PREFIX,
    INTERFACE_LANGUAGES,
    LOCALE_DIR,
    ConfigError,
    key,
)
from registry.config.loading import example_toml, load_settings
from registry.config.node import (
    DatabaseSection,
    ModerationSection,
    MonitoringSection,
    NetworkSection,
    NodeSection,
    SearchSection,
    ServerSection,
    WebSection,
)
from registry.config.settings import SECTIONS, Settings

__all__ = [
    "CONFIG_ENV",
    "ENV_PREFIX",
    "INTERFACE_LANGUAGES",
    "LOCALE_DIR",
    "SECTIONS",
    "ConfigError",
    "DatabaseSection",
    "FederationSection",
    "LimitsSection",
    "MirrorSection",
    "ModerationSection",
    "MonitoringSection",
    "NetworkSection",
    "NodeSection",
    "SearchSection",
    "ServerSection",
    "Settings",
    "WebSection",
    "example_toml",
    "key",
    "load_settings",
]
