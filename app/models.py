"""Every area's models, imported together so that the metadata (migrations, drift check) is
complete."""

from app.auth.models import User
from app.cases.models import Case, TimelineEntry
from app.clients.models import Client

__all__ = ["Case", "Client", "TimelineEntry", "User"]
