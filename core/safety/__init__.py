"""Harmful-content safety: classifiers behind one interface, a policy, and the streaming guard."""

from core.safety.base import Role, SafetyClassifier, SafetyUnavailable, SafetyVerdict
from core.safety.guard import SafetyGuard
from core.safety.policy import Assessment, OnUnavailable, PolicyConfig, SafetyPolicy
from core.safety.wordlists import WordListClassifier

__all__ = [
    "Assessment",
    "OnUnavailable",
    "PolicyConfig",
    "Role",
    "SafetyClassifier",
    "SafetyGuard",
    "SafetyPolicy",
    "SafetyUnavailable",
    "SafetyVerdict",
    "WordListClassifier",
]
