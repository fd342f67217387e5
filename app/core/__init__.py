"""Infrastructure shared by every domain: config, database, security, i18n, errors, time."""
