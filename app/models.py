"""Every area's models, imported together so that the metadata (migrations, drift check) is
complete."""

from app.audit.models import AuditEvent
from app.auth.models import LoginFailure, SecurityAlert, User, UserSession
from app.cases.models import Case, TimelineEntry
from app.clients.models import Client, ClientIndex, PossibleDuplicate
from app.deadlines.models import CalendarDay, Deadline, DeadlineRule
from app.reports.models import Benchmark
from app.security.models import KeyCheck, OrganisationKey, Setting

__all__ = [
    "AuditEvent",
    "Benchmark",
    "CalendarDay",
    "Case",
    "Client",
    "ClientIndex",
    "Deadline",
    "DeadlineRule",
    "KeyCheck",
    "LoginFailure",
    "OrganisationKey",
    "PossibleDuplicate",
    "SecurityAlert",
    "Setting",
    "TimelineEntry",
    "User",
    "UserSession",
]
