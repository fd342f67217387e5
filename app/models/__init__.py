"""SQLModel tables and their schemas. Importing this package registers every table."""

from app.models.content_version import ContentVersion
from app.models.municipality import Municipality
from app.models.user import RoleGrant, User

__all__ = ["ContentVersion", "Municipality", "RoleGrant", "User"]
