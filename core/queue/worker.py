"""The dialog worker loop: owns partitions by lease, answers their messages, acknowledges them.

Guarantees (tested in tests/core/queue and tests/bots/test_scale_out.py):

- A partition is worked only by the holder of its lease (core/queue/leases.py). On every
  acquisition the new owner first claims ALL pending entries of the partition, from any
  consumer (XAUTOCLAIM, no idle time: the lease proves the previous owner is gone), and
  answers them before reading new ones.
- Within a partition, a conversation's entries are answered one at a time in stream order;
  different conversations run in parallel up to `max_in_flight` replies per worker.
- An entry is acknowledged only after its reply was recorded as answered in the ledger
  (core/queue/ledger.py): a redelivered entry whose record says answered gets no reply.
- A worker that loses a lease (not renewed, or taken) stops reading that partition and
  abandons its entries there unacknowledged: the new owner claims and finishes them.
- When every model replica is busy (`ReplyDeferred`) the entry stays pending and is tried
  again after `retry_seconds`; the platform's waiting signal (typing) shows meanwhile. The
  first time a message is put off with nothing shown yet, it joins the waiting line
  (core/queue/waiting.py) and the user is told its place (`QueuedFeedback`); the notice is
  recorded in the ledger like a reply's first message, so it is shown once and the reply
  replaces it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from core.errors import BloombridgeError, PlatformError, ReplyDeferred, StoreError
from core.log_context import message_ids
from core.queue.codec import QueuedMessage
from core.queue.leases import PartitionLeases
from core.queue.ledger import ReplyLedger
from core.queue.streams import MessageQueue
from core.queue.waiting import WaitingLine

logger = logging.getLogger(__name__)

Answer = Callable[[QueuedMessage], Awaitable[None]]
Clock = Callable[[], float]
# Shows the user that a message waits for the model, and its position in line (1 = next).
TellQueued = Callable[[QueuedMessage, int], Awaitable[None]]


class ReplyTaken(BloombridgeError):
    """The message's ledger record names another worker: this one lost its partition."""


@dataclass(frozen=True)
class WorkerLimits:
    """How much a worker takes on, and how it times its leases and retries."""

    lease_seconds: float = 15.0  # a dead worker's partitions are taken over after this
    max_in_flight: int = 32  # replies answered at once by this worker, all partitions
    read_batch: int = 64  # entries read per XREADGROUP call at most
    retry_seconds: float = 2.0  # a deferred or failed reply is tried again after this
    max_attempts: int = 5  # failed (not deferred) attempts before a message is given up
    drain_seconds: float = 10.0  # at shutdown, replies in progress get this long
    trim_every_seconds: float = 30.0  # how often owned streams drop acknowledged entries

    @property
    def tick_seconds(self) -> float:
        """Heartbeats and lease renewals happen three times per lease period."""
        return self.lease_seconds / 3


@dataclass(frozen=True)
class QueuedFeedback:
    """How a worker tells users their message waits for a busy model: the line and the notice."""

    line: WaitingLine
    tell: TellQueued


@dataclass(frozen=True)
class ReplyInProgress:
    """The ledger state of the reply being answered in this task (read by the delivery)."""

    message: QueuedMessage
    adopted_ids: tuple[str, ...]
    record: Callable[[list[str]], Awaitable[None]]


current_reply: ContextVar[ReplyInProgress | None] = ContextVar("current_reply", default=None)


@dataclass
class _Partition:
    number: int
    deadline: asyncio.TimerHandle | None = None  # when the lease must be given up
    reading: bool = False
    waiting: dict[str, collections.deque[QueuedMessage]] = field(default_factory=dict)
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)  # entry ids queued or running here

    @property
    def entries(self) -> int:
        return sum(len(queue) for queue in self.waiting.values())


class QueueWorker:
    """`await worker.run()` until cancelled; `answer` shows one queued message's reply."""

    def __init__(
        self,
        queue: MessageQueue,
        leases: PartitionLeases,
        ledger: ReplyLedger,
        answer: Answer,
        *,
        limits: WorkerLimits | None = None,
        feedback: QueuedFeedback | None = None,
        monotonic: Clock = time.monotonic,
    ) -> None:
        self.queue = queue
        self.leases = leases
        self.ledger = ledger
        self._answer = answer
        self.limits = limits or WorkerLimits()
        self._monotonic = monotonic
        self.worker_id = leases.worker_id
        self._owned: dict[int, _Partition] = {}
        self._slots = asyncio.Semaphore(self.limits.max_in_flight)
        self._wake = asyncio.Event()
        self._handovers: set[asyncio.Task[None]] = set()
        self._abandoned: dict[int, list[asyncio.Task[None]]] = {}
        self._last_trim = 0.0
        self._feedback = feedback
        self._in_line: set[str] = set()  # entries that may be in the waiting line
        self.answered = 0  # messages this worker answered (its own count, for benchmarks)

    @property
    def owned(self) -> set[int]:
        """Partitions this worker holds the lease of now."""
        return set(self._owned)

    async def run(self) -> None:
        """Work owned partitions until cancelled; then drain, release leases and leave."""
        await self.queue.ensure_groups()
        maintain = asyncio.create_task(self._maintain(), name="queue leases")
        read = asyncio.create_task(self._read(), name="queue reader")
        try:
            done, _ = await asyncio.wait([maintain, read], return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in (maintain, read):
                task.cancel()
            await asyncio.wait([maintain, read], timeout=self.limits.tick_seconds)
            await self._shut_down()

    # ----- leases ----------------------------------------------------------------------------

    async def _maintain(self) -> None:
        while True:
            try:
                await self._tick()
            except StoreError as exc:
                logger.warning("queue upkeep failed, retrying: %s", exc)
            await asyncio.sleep(self.limits.tick_seconds)

    async def _tick(self) -> None:
        # Renewed first and in one round trip: a slow heartbeat must not cost a lease.
        owned = dict(self._owned)
        sent = self._monotonic()
        renewed = await self.leases.renew_all(sorted(owned))
        for number, partition in owned.items():
            if self._owned.get(number) is not partition:
                continue  # given up meanwhile
            if not renewed[number]:
                self._lose(number, "its lease was taken")
                continue
            # Also while handing over: replies still finishing must keep the lease.
            self._arm(partition, renewed_at=sent)
        assigned = await self.leases.heartbeat()
        for number, partition in list(self._owned.items()):
            if partition.reading and number not in assigned:
                self._hand_over(partition)
        for number in sorted(assigned - set(self._owned)):
            if self._unwinding(number):
                continue  # replies of an earlier ownership are still being cancelled
            sent = self._monotonic()
            if await self.leases.acquire(number):
                await self._adopt(number, acquired_at=sent)
        if self._monotonic() - self._last_trim >= self.limits.trim_every_seconds:
            self._last_trim = self._monotonic()
            for number in list(self._owned):
                await self.queue.trim(number)

    def _arm(self, partition: _Partition, *, renewed_at: float) -> None:
        """Stop working the partition before its lease can expire in Redis, renewed or not.

        The lease runs from when Redis took the command, after `renewed_at` (when it was
        sent): giving up a tick before `renewed_at + lease_seconds` is always in time, also
        when this process was starved of CPU and could not renew.
        """
        if partition.deadline is not None:
            partition.deadline.cancel()
        left = renewed_at + self.limits.lease_seconds - self.limits.tick_seconds / 2
        partition.deadline = asyncio.get_running_loop().call_later(
            max(0.0, left - self._monotonic()),
            self._lose,
            partition.number,
            "its lease could not be renewed in time",
        )

    async def _adopt(self, number: int, *, acquired_at: float) -> None:
        """A lease was just taken: claim every pending entry first, then read new ones."""
        partition = _Partition(number)
        self._owned[number] = partition
        self._arm(partition, renewed_at=acquired_at)
        try:
            pending = await self.queue.claim_pending(number, self.worker_id)
        except StoreError:
            self._lose(number, "its pending messages could not be claimed")
            with contextlib.suppress(StoreError):
                await self.leases.release(number)
            raise
        if pending:
            logger.info("partition %d: took over %d pending messages", number, len(pending))
        for entry in pending:
            self._dispatch(partition, entry)
        partition.reading = True
        self._wake.set()

    def _unwinding(self, number: int) -> bool:
        tasks = self._abandoned.get(number, [])
        tasks = [task for task in tasks if not task.done()]
        if tasks:
            self._abandoned[number] = tasks
        else:
            self._abandoned.pop(number, None)
        return bool(tasks)

    def _lose(self, number: int, reason: str) -> list[asyncio.Task[None]]:
        """Stop working a partition at once; its entries stay pending for the next owner.

        Returns the replies cancelled, which may still be unwinding: the partition is not
        taken again by this worker before they are done.
        """
        partition = self._owned.pop(number, None)
        if partition is None:
            return []
        partition.reading = False
        if partition.deadline is not None:
            partition.deadline.cancel()
        tasks = list(partition.tasks.values())
        self._abandoned.setdefault(number, []).extend(tasks)
        log = logger.warning if tasks else logger.info
        log("partition %d given up (%s), %d replies abandoned", number, reason, len(tasks))
        for task in tasks:
            task.cancel()
        return tasks

    def _hand_over(self, partition: _Partition) -> None:
        """Another worker should own this partition: finish what was read, then release it."""
        partition.reading = False

        async def hand_over() -> None:
            tasks = list(partition.tasks.values())
            if tasks:
                await asyncio.wait(tasks, timeout=self.limits.drain_seconds)
            if self._owned.get(partition.number) is not partition:
                return  # lost meanwhile
            cancelled = self._lose(partition.number, "handed over")
            if cancelled:
                # Released only once no reply of ours can touch the chat again; a reply that
                # will not unwind keeps the lease until it expires.
                _, stuck = await asyncio.wait(cancelled, timeout=self.limits.tick_seconds)
                if stuck:
                    return
            with contextlib.suppress(StoreError):
                await self.leases.release(partition.number)

        task = asyncio.create_task(hand_over(), name=f"hand over {partition.number}")
        self._handovers.add(task)
        task.add_done_callback(self._handovers.discard)

    # ----- reading ---------------------------------------------------------------------------

    def _room(self) -> int:
        # Read no further ahead than twice what may run: waiting entries are pending here.
        queued = sum(partition.entries for partition in self._owned.values())
        return min(self.limits.read_batch, 2 * self.limits.max_in_flight - queued)

    async def _read(self) -> None:
        block_ms = max(1, int(self.limits.tick_seconds * 1000))
        while True:
            readable = {n: p for n, p in self._owned.items() if p.reading}
            room = self._room()
            if not readable or room < 1:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.limits.tick_seconds)
                continue
            try:
                found = await self.queue.read(
                    sorted(readable), self.worker_id, count=room, block_ms=block_ms
                )
            except StoreError as exc:
                logger.warning("reading the queue failed, retrying: %s", exc)
                await asyncio.sleep(self.limits.retry_seconds)
                continue
            for number, entry in found:
                partition = self._owned.get(number)
                # Read for a partition since lost (or lost and taken again): not ours to run.
                if partition is readable.get(number) and partition is not None:
                    self._dispatch(partition, entry)

    def _dispatch(self, partition: _Partition, entry: QueuedMessage | str) -> None:
        if isinstance(entry, str):
            self._spawn_ack(partition.number, entry)  # unreadable: never answerable
            return
        if entry.entry_id in partition.known:
            return
        partition.known.add(entry.entry_id)
        key = entry.message.conversation.key
        partition.waiting.setdefault(key, collections.deque()).append(entry)
        if key not in partition.tasks:
            task = asyncio.create_task(self._conversation(partition, key), name=f"answer {key}")
            partition.tasks[key] = task

    def _spawn_ack(self, number: int, entry_id: str) -> None:
        async def ack() -> None:
            with contextlib.suppress(StoreError):
                await self.queue.ack(number, entry_id)

        task = asyncio.create_task(ack())
        self._handovers.add(task)
        task.add_done_callback(self._handovers.discard)

    # ----- answering -------------------------------------------------------------------------

    async def _conversation(self, partition: _Partition, key: str) -> None:
        queue = partition.waiting[key]
        try:
            # A partition being handed over (or shut down) finishes the reply in progress and
            # starts no other: the rest waits, pending, for the next owner.
            while queue and partition.reading:
                entry = queue[0]
                async with self._slots:
                    await self._settle(partition, entry)
                queue.popleft()
                partition.known.discard(entry.entry_id)
                self._wake.set()
        finally:
            partition.waiting.pop(key, None)
            partition.tasks.pop(key, None)

    async def _settle(self, partition: _Partition, entry: QueuedMessage) -> None:
        """Answer an entry (retrying deferrals and failures) and acknowledge it.

        Every log line written meanwhile carries the message's ids and its stream entry.
        """
        with message_ids(entry.message, queue_entry=entry.entry_id):
            await self._settle_entry(partition, entry)

    async def _settle_entry(self, partition: _Partition, entry: QueuedMessage) -> None:
        try:
            if await self._answer_entry(partition, entry):
                await self._ack(partition, entry)
                await self._leave_line(entry)
        finally:
            self._in_line.discard(entry.entry_id)

    async def _answer_entry(self, partition: _Partition, entry: QueuedMessage) -> bool:
        """Answer (or give up) an entry; False when the partition was lost meanwhile."""
        failures = 0
        while True:
            if self._owned.get(partition.number) is not partition:
                return False  # the partition was lost: the entry is the next owner's now
            try:
                if await self._attempt(partition, entry):
                    self.answered += 1
                return True
            except ReplyTaken as exc:
                logger.warning("%s; leaving it", exc)
                return False
            except ReplyDeferred as exc:
                logger.info("message %s deferred (%s); trying again", entry.entry_id, exc)
            except BloombridgeError as exc:
                failures += 1
                if failures >= self.limits.max_attempts:
                    logger.error("gave up on message %s: %s", entry.entry_id, exc)
                    return True
                logger.warning("answering message %s failed, will retry: %s", entry.entry_id, exc)
            await asyncio.sleep(self.limits.retry_seconds)

    def _still_mine(self, partition: _Partition, entry: QueuedMessage) -> None:
        """Raise unless this task may still answer: the partition is still ours.

        Every Redis call of a reply is followed by this check before anything is sent to the
        platform (a cancellation redis-py swallowed is raised by the call's `translated`).
        """
        if self._owned.get(partition.number) is not partition:
            raise ReplyTaken(f"partition {partition.number} of message {entry.entry_id} was lost")

    async def _attempt(self, partition: _Partition, entry: QueuedMessage) -> bool:
        """One attempt at the reply; False when the ledger says it was answered already."""
        message = entry.message
        conversation = message.conversation
        record = await self.ledger.take(conversation, message.id, self.worker_id)
        self._still_mine(partition, entry)
        if record.answered:
            logger.info("message %s was answered already", entry.entry_id)
            return False
        ids: list[str] = list(record.message_ids)
        if ids:
            self._in_line.add(entry.entry_id)  # an earlier attempt may have put it in line

        async def remember(shown: list[str]) -> None:
            ids[:] = shown
            try:
                mine = await self.ledger.record(conversation, message.id, self.worker_id, shown)
            except StoreError as exc:
                # The ids are written again with the answered state; only a crash in between
                # would post a resumed reply's message anew.
                logger.warning("could not record reply messages: %s", exc)
                return
            if not mine:
                raise ReplyTaken(f"another worker took over message {entry.entry_id}")
            self._still_mine(partition, entry)

        token = current_reply.set(ReplyInProgress(entry, record.message_ids, remember))
        try:
            await self._answer(entry)
        except ReplyDeferred:
            if not ids:  # nothing shown for this message yet, not even its place in line
                await self._tell_queued(partition, entry)
            raise
        finally:
            current_reply.reset(token)
        await self._retrying(
            "record an answer",
            lambda: self.ledger.finish(conversation, message.id, self.worker_id, ids),
        )
        return True

    async def _tell_queued(self, partition: _Partition, entry: QueuedMessage) -> None:
        """Put a deferred message in the waiting line and show the user its place there."""
        feedback = self._feedback
        if feedback is None:
            return
        try:
            position = await feedback.line.join(entry)
        except StoreError as exc:
            logger.warning("could not put message %s in the waiting line: %s", entry.entry_id, exc)
            return
        self._in_line.add(entry.entry_id)
        self._still_mine(partition, entry)
        try:
            await feedback.tell(entry, position)
        except PlatformError as exc:
            # Typing still shows; the notice is tried again at the next deferral.
            logger.warning("could not show message %s its place in line: %s", entry.entry_id, exc)

    async def _leave_line(self, entry: QueuedMessage) -> None:
        if self._feedback is None or entry.entry_id not in self._in_line:
            return
        try:
            await self._feedback.line.leave(entry)
        except StoreError as exc:
            logger.info(
                "could not take message %s out of the waiting line: %s", entry.entry_id, exc
            )

    async def _ack(self, partition: _Partition, entry: QueuedMessage) -> None:
        await self._retrying(
            "acknowledge", lambda: self.queue.ack(partition.number, entry.entry_id)
        )

    async def _retrying(self, action: str, call: Callable[[], Awaitable[object]]) -> None:
        """Redis bookkeeping after a reply was shown: retried until it works or the lease is lost."""
        while True:
            try:
                await call()
                return
            except StoreError as exc:
                logger.warning("could not %s, retrying: %s", action, exc)
            await asyncio.sleep(self.limits.retry_seconds)

    # ----- shutdown --------------------------------------------------------------------------

    async def _shut_down(self) -> None:
        """Stop reading, let replies finish (bounded), release leases and leave the live set."""
        partitions = list(self._owned.values())
        for partition in partitions:
            partition.reading = False
        tasks = [task for p in partitions for task in p.tasks.values()]
        tasks += list(self._handovers)
        if tasks:
            _, unfinished = await asyncio.wait(tasks, timeout=self.limits.drain_seconds)
            for task in unfinished:
                task.cancel()
            if unfinished:
                await asyncio.wait(unfinished, timeout=self.limits.tick_seconds)
        # Bounded: a Redis that does not answer must not hold the process at exit.
        with contextlib.suppress(StoreError, TimeoutError):
            async with asyncio.timeout(self.limits.tick_seconds):
                for partition in partitions:
                    await self.leases.release(partition.number)
                await self.leases.leave()
        self._owned.clear()
