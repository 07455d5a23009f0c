"""Guards watch a growing reply and decide what of it may be shown."""

from core.guards.base import Guard, GuardContext, GuardSession, Verdict, VerdictKind

__all__ = ["Guard", "GuardContext", "GuardSession", "Verdict", "VerdictKind"]
