"""A fake guard-model server: a fake TGI whose responder answers like Llama Guard 3 or Qwen3Guard."""

from __future__ import annotations

from collections.abc import Callable

from tests.fakes.tgi import GenerateCall, Script

# The text a reply must contain for the fake guard model to call it unsafe.
UNSAFE_MARKER = "nerve agent"


def judged_text(call: GenerateCall) -> str:
    """The conversation part of a guard prompt (what the guard model is asked about)."""
    start = call.inputs.index("<BEGIN CONVERSATION>")
    end = call.inputs.index("<END CONVERSATION>")
    return call.inputs[start:end]


def judged_turn(call: GenerateCall) -> str:
    """The last turn of the conversation: the one the guard model is asked to judge."""
    conversation = judged_text(call)
    for marker in ("Agent: ", "ASSISTANT: "):
        if marker in conversation:
            return conversation.rsplit(marker, 1)[1]
    return conversation


def llama_guard_responder(marker: str = UNSAFE_MARKER) -> Callable[[GenerateCall], Script]:
    """Answers "unsafe\\nS9" when the judged conversation mentions `marker`, else "safe"."""

    def respond(call: GenerateCall) -> Script:
        if marker in judged_turn(call):
            return Script(reply=["\n\n", "unsafe", "\n", "S", "9"])
        return Script(reply=["\n\n", "safe"])

    return respond


def qwen_guard_responder(marker: str = UNSAFE_MARKER) -> Callable[[GenerateCall], Script]:
    """Answers like Qwen3Guard-Gen: Unsafe/Violent when `marker` is in the conversation."""

    def respond(call: GenerateCall) -> Script:
        if marker in judged_turn(call):
            return Script(reply="Safety: Unsafe\nCategories: Violent")
        return Script(reply="Safety: Safe\nCategories: None")

    return respond
