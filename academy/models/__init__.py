"""Platform models, one module per domain. Importing this package registers every table."""
from academy.models.audit import AuditEvent
from academy.models.authoring import AuthoredFile, AuthoredVersion, ContentRelease
from academy.models.base import Base, utcnow
from academy.models.content import (
    ContentState, Domain, Lesson, Module, ModuleAsset, OnboardingPath, Question, QuestionVersion, Track,
)
from academy.models.exams import Attempt, ExamItem, ExamSession, LessonProgress, QuestionReport, ReviewCard
from academy.models.labs import CheckResult, Grading, HintTaken, Lab, LabAnswer, LabRun, PracticeSpace
from academy.models.lti import LtiLaunch, LtiLaunchData, LtiRegistration, LtiScore, LtiUserLink
from academy.models.org import Assignment, Certificate, Invitation, SignOff, XapiOutbox
from academy.models.people import ROLE_NAMES, SITE_ADMIN, Cohort, CohortMember, Membership, Organization, Role, User

__all__ = [
    "LtiLaunch", "LtiLaunchData", "LtiRegistration", "LtiScore", "LtiUserLink",
    "AuthoredFile", "AuthoredVersion", "ContentRelease",
    "Assignment", "Certificate", "Invitation", "SignOff", "XapiOutbox",
    "CheckResult", "Grading", "HintTaken", "Lab", "LabAnswer", "LabRun", "PracticeSpace",
    "Attempt", "ExamItem", "ExamSession", "LessonProgress", "QuestionReport", "ReviewCard",
    "ContentState", "Domain", "Lesson", "Module", "ModuleAsset", "OnboardingPath", "Question", "QuestionVersion",
    "Track",
    "AuditEvent", "Base", "utcnow", "ROLE_NAMES", "SITE_ADMIN", "Cohort", "CohortMember", "Membership", "Organization",
    "Role", "User",
]
