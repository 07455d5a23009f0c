"""Slack native streaming through the real Bolt app: expiry, rate limits, guard cuts, pings."""

from __future__ import annotations

import re

from core.guards.base import Guard, GuardContext, GuardSession, Verdict
from tests.adapters.contract import Place
from tests.adapters.slack.harness import CHANNEL, SlackHarness
from tests.fakes.slack_api import ApiError
from tests.fakes.slack_messages import SlackMessage
from tests.fakes.tgi import Script

WORDS = " ".join(f"word{n}" for n in range(40)) + "."
# Any token Slack would turn into a notification or a link.
_LIVE_TOKEN = re.compile(r"<[!@#][^>]*>")


def only_message(slack: SlackHarness, place: Place = Place.GROUP) -> SlackMessage:
    (message,) = [m for m in slack.api.visible(slack._channel(place)) if m.text.strip()]
    return message


async def test_the_reply_streams_natively_with_a_status_first_and_buttons_last(
    slack: SlackHarness,
) -> None:
    slack.rig.tgi.enqueue(Script(reply=WORDS, token_delay=0.002))
    await slack.say("Count for me.", place=Place.GROUP)
    await slack.settle()
    methods = [call.method for call in slack.api.calls if call.method.startswith(("chat", "ass"))]
    assert methods[0] == "assistant.threads.setStatus"
    assert methods[1] == "chat.startStream"
    assert methods[-1] == "chat.stopStream"
    assert "chat.postMessage" not in methods and "chat.update" not in methods
    start = slack.api.calls_to("chat.startStream")[0].params
    assert start["recipient_user_id"] == "U0ALICE42"
    assert start["recipient_team_id"] == slack.api.team_id
    message = only_message(slack)
    assert message.text == WORDS and message.thread_ts == start["thread_ts"]
    assert [label for label, _, _ in message.action_values()] == ["👍", "👎"]


async def test_a_stream_that_expires_midway_ends_with_the_full_text_exactly_once(
    slack: SlackHarness,
) -> None:
    slack.api.expire_streams(CHANNEL, after_appends=2)
    slack.rig.tgi.enqueue(Script(reply=WORDS, token_delay=0.002))
    await slack.say("Count for me.", place=Place.GROUP)
    await slack.settle()
    message = only_message(slack)
    assert message.text == WORDS  # nothing lost, nothing repeated
    assert message.streamed and not message.streaming
    refused = [call for call in slack.api.calls if call.failed is not None]
    assert [call.failed.error for call in refused if call.failed] == [
        "message_not_in_streaming_state"
    ]
    after = slack.api.calls[slack.api.calls.index(refused[0]) + 1 :]
    assert {call.method for call in after} == {"chat.update"}
    assert [label for label, _, _ in message.action_values()] == ["👍", "👎"]


async def test_a_stream_refused_from_the_start_posts_and_updates_instead(
    slack: SlackHarness,
) -> None:
    slack.api.streaming_supported = False
    slack.rig.tgi.enqueue(
        Script(reply=WORDS, token_delay=0.002), Script(reply="Second answer, posted.")
    )
    await slack.say("Count for me.", place=Place.GROUP)
    await slack.api.wait_until(lambda: any(m.action_values() for m in slack.api.visible(CHANNEL)))
    await slack.say("And again?", place=Place.GROUP)
    await slack.settle()
    texts = [m.text for m in slack.api.visible(CHANNEL)]
    assert texts == [WORDS, "Second answer, posted."]
    # Streaming is not tried again once Slack said it cannot stream.
    assert len(slack.api.calls_to("chat.startStream")) == 1


async def test_a_rate_limit_during_streaming_delays_but_drops_no_text(
    slack: SlackHarness,
) -> None:
    slack.api.fail(
        "chat.appendStream",
        ApiError.ratelimited(5),
        after=2,
        when=lambda p: p["channel"] == CHANNEL,
    )
    slack.api.fail("chat.stopStream", ApiError.ratelimited(3))
    slack.rig.tgi.enqueue(Script(reply=WORDS, token_delay=0.002))
    await slack.say("Count for me.", place=Place.GROUP)
    await slack.settle()
    assert only_message(slack).text == WORDS
    limited = [call for call in slack.api.calls if call.failed is not None]
    assert [call.method for call in limited] == ["chat.appendStream", "chat.stopStream"]
    for call, wait in zip(limited, (5, 3), strict=True):
        index = slack.api.calls.index(call)
        later = [c for c in slack.api.calls[index + 1 :] if c.method.startswith("chat.")]
        assert later and all(c.at >= call.at + wait for c in later)
    # The text refused with the 429 was sent once afterwards, not twice.
    assert only_message(slack).markup == WORDS


async def test_a_rate_limited_start_is_retried_after_retry_after(slack: SlackHarness) -> None:
    slack.api.fail("chat.startStream", ApiError.ratelimited(4))
    slack.rig.tgi.enqueue(Script(reply="Short and sweet."))
    await slack.say("Hi", place=Place.THREAD)
    await slack.settle()
    assert only_message(slack, Place.THREAD).text == "Short and sweet."


class CutAtThen(Guard):
    """Lets text through as it comes, then — seeing "forbidden" — cuts the reply before "Then"."""

    name = "cut-test"

    def begin(self, context: GuardContext) -> GuardSession:
        return _CutSession()


class _CutSession(GuardSession):
    async def check(self, text: str, *, final: bool) -> Verdict:
        if "forbidden" in text:
            return Verdict.cut(text.index("Then"), "test cut")
        return Verdict.allow()


async def test_a_guard_cut_after_text_was_appended_leaves_the_right_final_text(
    slack: SlackHarness,
) -> None:
    slack.rig.dialog.guards = (CutAtThen(),)
    middle = " ".join(f"part{n}" for n in range(25))
    reply = f"Safe start. Then {middle} and a forbidden end."
    slack.rig.tgi.enqueue(Script(reply=reply, token_delay=0.003))
    await slack.say("Go", place=Place.GROUP)
    await slack.settle()
    message = only_message(slack)
    assert message.text == "Safe start."
    appended = "".join(
        c["text"] for call in slack.api.calls_to("chat.appendStream") for c in call.params["chunks"]
    )
    assert "Then" in appended  # the cut text had been streamed before the guard cut it
    assert [label for label, _, _ in message.action_values()] == ["👍", "👎"]


async def test_model_output_with_mentions_pings_nobody(slack: SlackHarness) -> None:
    reply = (
        "Hey <!channel> and <!here>, <!everyone>: ask <@U123> or <@U0ALICE42|alice>, "
        "<!subteam^S0ENG|@eng> too. Also @here, @channel and @everyone. 1 < 2 & 3 > 2."
    )
    slack.rig.tgi.enqueue(Script(reply=reply, token_delay=0.002), Script(reply=reply))
    await slack.say("Ping them", place=Place.GROUP)
    await slack.say(reply, place=Place.PRIVATE)  # the flat DM path posts and updates
    await slack.settle()
    messages = slack.api.visible(CHANNEL) + slack.api.visible("D0ALICEDM")
    assert len(messages) == 2
    for message in messages:
        assert message.pings() == []
        assert message.text.replace("\u2060", "") == reply
    for call in slack.api.calls:
        for value in _sent_texts(call.params):
            assert not _LIVE_TOKEN.search(value), value


def _sent_texts(params: dict[str, object] | object) -> list[str]:
    found: list[str] = []
    if isinstance(params, dict):
        for key, value in params.items():
            if key in ("text", "markdown_text") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_sent_texts(value))
    elif isinstance(params, list):
        for item in params:
            found.extend(_sent_texts(item))
    return found


async def test_markdown_reaches_slack_as_escaped_standard_markdown(slack: SlackHarness) -> None:
    reply = "**Bold** and `a < b && c > d` in code.\n\n```python\nif a < b:\n    pass\n```"
    slack.rig.tgi.enqueue(Script(reply=reply))
    await slack.say("Format", place=Place.PRIVATE)
    await slack.settle()
    (message,) = slack.api.visible("D0ALICEDM")
    assert message.markup.startswith("**Bold** and `a &lt; b &amp;&amp; c &gt; d`")
    assert message.text == reply
    post = slack.api.calls_to("chat.postMessage")[0].params
    assert post["blocks"][0]["type"] == "markdown"
