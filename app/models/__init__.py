"""Typed SQLAlchemy models, one module per aggregate."""
from app.models.area import Area
from app.models.audit import GENESIS_HASH, AuditEvent
from app.models.consolidation import CONSOLIDATION_STATES, Consolidation
from app.models.contribution import (
    CONTRIBUTION_STATES,
    MAX_SECTION_CHARS,
    Contribution,
    Remark,
    RemarkReply,
    RemarkResolution,
    RevisionCause,
    Section,
    SectionRevision,
)
from app.models.group_mapping import GroupMapping
from app.models.notification import Notification
from app.models.organisation import Organisation, OrganisationKind, area_organisations
from app.models.period import Period
from app.models.reset_link import PasswordResetLink
from app.models.topic import Topic, TopicScope
from app.models.upload import PendingUpload
from app.models.user import AREA_ROLES, CITY_ROLES, Membership, Role, User

__all__ = [
    "AREA_ROLES", "CITY_ROLES", "CONSOLIDATION_STATES", "CONTRIBUTION_STATES", "GENESIS_HASH",
    "MAX_SECTION_CHARS", "Area", "AuditEvent",
    "Consolidation", "Contribution", "GroupMapping", "Membership", "Notification", "Organisation",
    "OrganisationKind",
    "PasswordResetLink", "PendingUpload", "Period",
    "Remark", "RemarkReply", "RemarkResolution", "RevisionCause", "Role", "Section",
    "SectionRevision", "Topic", "TopicScope",
    "User", "area_organisations",
]
