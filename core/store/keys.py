"""Every Redis key bloombridge writes, built in one place: name, type, TTL and writer.

All keys start with a namespace (default ``bloombridge``) so several deployments or test
runs can share one Redis. ``{conv}`` is `ConversationRef.key`, whose parts are
percent-encoded, so two conversations never share a key even when their ids contain ``:``.
Ids placed after ``{conv}`` are percent-encoded the same way.

=============================================  ======  =====================  ==========================
key                                            type    TTL                    written by
=============================================  ======  =====================  ==========================
``{ns}:history:{conv}``                        list    ``ttl_seconds`` of     `Store.append_turn` (dialog
                                                       the newest append      record step); rewritten by
                                                                              `forget_sender`, deleted by
                                                                              `clear_history` (/reset)
``{ns}:lang:{conv}``                           string  none                   `Store.set_language` (/lang);
                                                                              deleted when set to automatic
``{ns}:claim:{key}``                           string  ``ttl_seconds`` of     `Store.claim` (adapters'
                                                       the claim or its       dedup of platform events);
                                                       latest hold            `Store.hold_claim` extends
                                                                              it ("in progress", "done")
``{ns}:feedback:{conv}:{reply}``               hash    feedback TTL, set by   `Store.save_feedback`;
                                                       the reply's first      fields removed by
                                                       rating                 `forget_sender`
``{ns}:feedback-by-sender:{conv}:{sender}``    set     feedback TTL, renewed  `Store.save_feedback`;
                                                       by each rating         deleted by `forget_sender`
``{ns}:ratelimit:LIMITER/user/{platform}/``    list    the limit's window     `core.admission` through the
``{sender}/{n}/{m}/{unit}``                                                   `limits` library (moving
``{ns}:ratelimit:LIMITER/conversation/``       list    the limit's window     window of hit times)
``{conv}/{n}/{m}/{unit}``
``{ns}:queue:{p}``                             stream  none; acknowledged     ingress hand-off (XADD);
                                                       entries trimmed        workers read it in the
                                                                              consumer group ``workers``
``{ns}:queue-lease:{p}``                       string  ``queue_lease_``       the worker owning partition
                                                       ``seconds``, renewed   ``p`` (SET NX PX)
``{ns}:queue-workers``                         zset    none (members older    workers' heartbeats (score:
                                                       than a lease drop)     milliseconds)
``{ns}:reply:{conv}:{message}``                hash    the dedup period       `core.queue.ledger`: owner,
                                                                              state, platform message ids
=============================================  ======  =====================  ==========================

History items are JSON objects with the fields of `core.messages.Turn`, oldest first.
Feedback hashes map sender id to ``1`` or ``-1``. The per-sender set lists the reply ids a
sender rated, so `/forget` finds that sender's ratings without a SCAN; it always outlives
the hashes it points to because a hash's expiry is fixed when the reply is first rated and
the set's is pushed forward by every rating.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from core.errors import ConfigurationError
from core.messages import ConversationRef

DEFAULT_NAMESPACE = "bloombridge"

# Feedback is kept for 90 days after a reply is first rated.
DEFAULT_FEEDBACK_TTL_SECONDS = 90 * 24 * 3600

_NAMESPACE_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")


def _encoded(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class StoreKeys:
    """Builds the keys of one namespace; the namespace may not contain ``:``."""

    namespace: str = DEFAULT_NAMESPACE

    def __post_init__(self) -> None:
        # A ":" in the namespace could make one namespace's keys look like another's.
        if not _NAMESPACE_PATTERN.fullmatch(self.namespace):
            raise ConfigurationError(
                f"store namespace {self.namespace!r} must be letters, digits, '_', '.' or '-'"
            )

    def history(self, conversation: ConversationRef) -> str:
        """List of JSON turns, oldest first."""
        return f"{self.namespace}:history:{conversation.key}"

    def language(self, conversation: ConversationRef) -> str:
        """String: the conversation's `/lang` setting."""
        return f"{self.namespace}:lang:{conversation.key}"

    def claim(self, key: str) -> str:
        """String: a dedup claim on a platform event id."""
        return f"{self.namespace}:claim:{key}"

    def feedback(self, conversation: ConversationRef, reply_id: str) -> str:
        """Hash: sender id -> rating of one reply."""
        return f"{self.namespace}:feedback:{conversation.key}:{_encoded(reply_id)}"

    def queue(self, partition: int) -> str:
        """Stream: messages handed on by ingress processes, one stream per partition."""
        return f"{self.namespace}:queue:{partition}"

    def queue_lease(self, partition: int) -> str:
        """String: the id of the worker that owns a partition now."""
        return f"{self.namespace}:queue-lease:{partition}"

    def queue_waiting(self) -> str:
        """Sorted set: messages put off until a model replica is free, by when they were queued."""
        return f"{self.namespace}:queue-waiting"

    def queue_workers(self) -> str:
        """Sorted set: live workers by their latest heartbeat (milliseconds)."""
        return f"{self.namespace}:queue-workers"

    def reply(self, conversation: ConversationRef, message_id: str) -> str:
        """Hash: the reply ledger of one message (who answers it, its platform message ids)."""
        return f"{self.namespace}:reply:{conversation.key}:{_encoded(message_id)}"

    def sender_feedback(self, conversation: ConversationRef, sender_id: str) -> str:
        """Set: reply ids a sender rated in this conversation."""
        return f"{self.namespace}:feedback-by-sender:{conversation.key}:{_encoded(sender_id)}"
