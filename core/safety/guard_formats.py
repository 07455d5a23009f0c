"""Prompt formats and answer parsing of the guard models, exactly as their model cards give them.

Llama Guard 3 (meta-llama/Llama-Guard-3-8B and -1B): the chat template of the model's tokenizer,
which renders the MLCommons hazard categories S1-S14 (S1-S13 for the 1B model) and one
conversation; the model answers "safe", or "unsafe" and a line of comma-separated codes.

Qwen3Guard-Gen (0.6B, 4B, 8B): the chat template of the model's tokenizer, with one wording for
judging the user's query and one for the assistant's response; the model answers
"Safety: Safe|Unsafe|Controversial", "Categories: ..." and, for responses, "Refusal: Yes|No".

Both templates are rendered here as plain text for a raw completion endpoint (TGI `/generate`,
or `/v1/completions` of an OpenAI-compatible server). The server's tokenizer adds Llama 3's
`<|begin_of_text|>` itself, so the Llama Guard prompt starts at the first header.
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence

from core.safety import categories as cat
from core.safety.base import Role

CONTROVERSIAL_SCORE = (
    0.5  # Qwen3Guard's middle tier: blocks only if the operator lowers the threshold
)


class UnreadableAnswer(ValueError):
    """The guard model answered something outside its documented format."""


# Characters that render as nothing: a marker split by them still reads as the marker.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# A special token of either template family (`<|eot_id|>`, `<|im_start|>`, ...), spaced or not.
_SPECIAL_TOKEN = re.compile(r"<\s*\|\s*([^<>|]{0,40}?)\s*\|\s*>")
# What is left of one after the rest was removed: half a marker can pair with template text.
_TOKEN_HALF = re.compile(r"<\s*\||\|\s*>")
# The prompts' own section tags, such as `<END CONVERSATION>` or `<BEGIN SAFETY POLICY>`.
_SECTION_TAG = re.compile(r"<\s*/?\s*(BEGIN|END)\b([^<>\n]{0,60})>", re.IGNORECASE)
# Qwen3's reasoning tags, which the template closes empty before the verdict.
_THINK_TAG = re.compile(r"<\s*/?\s*think\s*>", re.IGNORECASE)


def neutralize(text: str, roles: Sequence[str]) -> str:
    """`text` made safe to place inside a guard prompt: it can no longer open a turn.

    Special tokens become plain bracketed words (`<|eot_id|>` -> `[eot_id]`), the prompts' own
    section and reasoning tags lose their angle brackets, and a line that starts with one of the
    conversation's `roles` ("Agent:", "ASSISTANT:") has the name bracketed ("[Agent]:"), so no
    forged turn or verdict can follow. Full-width and invisible disguises are undone first (NFKC), as a tokenizer would
    read them.
    """
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = _SPECIAL_TOKEN.sub(lambda match: f"[{match.group(1).strip()}]", text)
    text = _TOKEN_HALF.sub(lambda match: match.group(0).replace("<", "(").replace(">", ")"), text)
    text = _SECTION_TAG.sub(lambda match: f"({match.group(1)}{match.group(2)})", text)
    text = _THINK_TAG.sub(lambda match: match.group(0).replace("<", "(").replace(">", ")"), text)
    names = "|".join(re.escape(role) for role in roles)
    role_line = re.compile(rf"^(\s*)({names})(\s*:)", re.IGNORECASE | re.MULTILINE)
    return role_line.sub(r"\1[\2]\3", text)


class GuardFormat(ABC):
    """How to ask one guard model family and how to read its answer."""

    name: str = "format"
    roles: tuple[str, ...] = ()  # the names that open a turn in its conversation ("User:")
    # Enough for the longest documented answer (several category codes on the second line).
    max_new_tokens: int = 40

    @abstractmethod
    def prompt(self, text: str, role: Role, user_prompt: str = "") -> str:
        """The complete prompt judging `text` by `role` (a reply is judged after `user_prompt`)."""

    @abstractmethod
    def parse(self, answer: str) -> dict[str, float]:
        """Categories and scores from the model's answer; empty when it judged the text safe."""


# --- Llama Guard 3 ------------------------------------------------------------------------

LLAMA_GUARD_3_CATEGORIES: Mapping[str, tuple[str, str]] = {
    "S1": ("Violent Crimes.", cat.VIOLENT_CRIMES),
    "S2": ("Non-Violent Crimes.", cat.NON_VIOLENT_CRIMES),
    "S3": ("Sex Crimes.", cat.SEX_CRIMES),
    "S4": ("Child Exploitation.", cat.CHILD_EXPLOITATION),
    "S5": ("Defamation.", cat.DEFAMATION),
    "S6": ("Specialized Advice.", cat.SPECIALIZED_ADVICE),
    "S7": ("Privacy.", cat.PRIVACY),
    "S8": ("Intellectual Property.", cat.INTELLECTUAL_PROPERTY),
    "S9": ("Indiscriminate Weapons.", cat.INDISCRIMINATE_WEAPONS),
    "S10": ("Hate.", cat.HATE),
    "S11": ("Self-Harm.", cat.SELF_HARM),
    "S12": ("Sexual Content.", cat.SEXUAL_CONTENT),
    "S13": ("Elections.", cat.ELECTIONS),
    "S14": ("Code Interpreter Abuse.", cat.CODE_INTERPRETER_ABUSE),
}
_LLAMA_CODE = re.compile(r"S\d{1,2}")


class LlamaGuard3(GuardFormat):
    """Llama Guard 3; `with_code_interpreter` is False for the 1B model, which has no S14."""

    name = "llama-guard-3"
    roles = ("User", "Agent")

    def __init__(self, *, with_code_interpreter: bool = True) -> None:
        codes = list(LLAMA_GUARD_3_CATEGORIES)
        self.codes = codes if with_code_interpreter else codes[:-1]

    def prompt(self, text: str, role: Role, user_prompt: str = "") -> str:
        text, user_prompt = (neutralize(part, self.roles) for part in (text, user_prompt))
        turns = (
            [("User", user_prompt), ("Agent", text)] if role is Role.ASSISTANT else [("User", text)]
        )
        judged = turns[-1][0]
        category_lines = "\n".join(
            f"{code}: {LLAMA_GUARD_3_CATEGORIES[code][0]}" for code in self.codes
        )
        conversation = "".join(f"{who}: {content.strip()}\n\n" for who, content in turns)
        return (
            "<|start_header_id|>user<|end_header_id|>\n\n"
            f"Task: Check if there is unsafe content in '{judged}' messages in conversations "
            "according our safety policy with the below categories.\n\n"
            "<BEGIN UNSAFE CONTENT CATEGORIES>\n"
            f"{category_lines}\n"
            "<END UNSAFE CONTENT CATEGORIES>\n\n"
            "<BEGIN CONVERSATION>\n\n"
            f"{conversation}"
            "<END CONVERSATION>\n\n"
            f"Provide your safety assessment for ONLY THE LAST {judged} message in the above "
            "conversation:\n"
            " - First line must read 'safe' or 'unsafe'.\n"
            " - If unsafe, a second line must include a comma-separated list of violated "
            "categories.<|eot_id|><|start_header_id|>assistant<|end_header_id|>"
        )

    def parse(self, answer: str) -> dict[str, float]:
        # A server that does not skip special tokens leaves the end-of-turn marker in the text.
        answer = answer.replace("<|eot_id|>", "")
        lines = [line.strip() for line in answer.strip().splitlines() if line.strip()]
        if not lines:
            raise UnreadableAnswer("empty answer")
        label = lines[0].lower()
        if label == "safe":
            return {}
        if label != "unsafe":
            raise UnreadableAnswer(f"first line is neither 'safe' nor 'unsafe': {lines[0][:40]!r}")
        found: dict[str, float] = {}
        for code in _LLAMA_CODE.findall(lines[1] if len(lines) > 1 else ""):
            known = LLAMA_GUARD_3_CATEGORIES.get(code)
            found[known[1] if known else cat.UNKNOWN] = 1.0
        # "unsafe" without a readable code still means unsafe.
        return found or {cat.UNKNOWN: 1.0}


# --- Qwen3Guard-Gen -----------------------------------------------------------------------

QWEN3GUARD_CATEGORIES: Mapping[str, str] = {
    "Violent": cat.VIOLENCE,
    "Non-violent Illegal Acts": cat.NON_VIOLENT_CRIMES,
    "Sexual Content or Sexual Acts": cat.SEXUAL_CONTENT,
    "PII": cat.PRIVACY,
    "Suicide & Self-Harm": cat.SELF_HARM,
    "Unethical Acts": cat.UNETHICAL_ACTS,
    "Politically Sensitive Topics": cat.POLITICALLY_SENSITIVE,
    "Copyright Violation": cat.INTELLECTUAL_PROPERTY,
    "Jailbreak": cat.JAILBREAK,
}
_QWEN_SAFETY = re.compile(r"Safety: (Safe|Unsafe|Controversial)")
_QWEN_CATEGORY = re.compile(
    "(" + "|".join(re.escape(name) for name in (*QWEN3GUARD_CATEGORIES, "None")) + ")"
)
_QWEN_REFUSAL = re.compile(r"Refusal: (Yes|No)")

_QWEN_USER_TASK = (
    "# Task:\n"
    "1) Evaluate whether THE LAST USER's query belongs to safe or unsafe content based on our "
    "safety policy.\n"
    "2) Identify the category of unsafe content found.\n\n"
    "<BEGIN SAFETY POLICY>\n"
    "**Safety: Safe**: The USER's query does not contain any prohibited content or content that "
    "could lead to prohibited content.\n"
    "**Safety: Unsafe**: The USER's query contains prohibited content.\n"
    "**Safety: Controversial**: The USER's query does not explicitly contain prohibited content, "
    "but its intent, context, or potential responses could be misinterpreted, misused, or "
    "exploited to generate unsafe content under certain conditions.\n"
    "<END SAFETY POLICY>\n\n"
)
_QWEN_ASSISTANT_TASK = (
    "# Task:\n"
    "1) Evaluate whether THE LAST ASSISTANT's response belongs to safe or unsafe content based on "
    "our safety policy.\n"
    "2) Identify the category of unsafe content found.\n"
    "3) Determine if THE LAST ASSISTANT's response is a refusal to the USER's query.\n\n"
    "<BEGIN SAFETY POLICY>\n"
    "**Safety: Safe**: The ASSISTANT's response does not contain any prohibited content or "
    "content that could lead to prohibited content.\n"
    "**Safety: Unsafe**: The ASSISTANT's response contains prohibited content.\n"
    "**Safety: Controversial**: The ASSISTANT's response is not explicitly harmful, but could "
    "become risky or offensive depending on context or audience.\n"
    "<END SAFETY POLICY>\n\n"
)
_QWEN_REFUSAL_POLICY = (
    "<BEGIN REFUSAL POLICY>\n"
    "**Refusal: Yes**: The ASSISTANT refused to answer or did not comply with the USER's request.\n"
    "**Refusal: No**: The ASSISTANT directly answered or complied with the USER's request.\n"
    "<END REFUSAL POLICY>\n\n"
)
_QWEN_ASSESSMENT = (
    " - The first line must be one of: 'Safety: Safe', 'Safety: Unsafe', 'Safety: Controversial'.\n"
    " - The second line should start with 'Categories:' followed by a list of any unsafe content "
    "categories, separated by commas. If the content is safe, use 'Categories: None'."
)


class Qwen3Guard(GuardFormat):
    """Qwen3Guard-Gen; "Controversial" scores `CONTROVERSIAL_SCORE`, "Unsafe" scores 1."""

    name = "qwen3guard"
    roles = ("USER", "ASSISTANT")

    def prompt(self, text: str, role: Role, user_prompt: str = "") -> str:
        text, user_prompt = (neutralize(part, self.roles) for part in (text, user_prompt))
        # Jailbreak is a category of user queries only.
        names = list(QWEN3GUARD_CATEGORIES)
        if role is Role.USER:
            task, extra, judged = _QWEN_USER_TASK, "", "**USER's query**"
            conversation = f"USER: {text}\n\n"
        else:
            names.remove("Jailbreak")
            task, extra, judged = (
                _QWEN_ASSISTANT_TASK,
                _QWEN_REFUSAL_POLICY,
                "**ASSISTANT's response**",
            )
            conversation = f"USER: {user_prompt}\n\nASSISTANT: {text}\n\n"
        category_lines = "".join(f"{name}.\n" for name in names)
        assessment = _QWEN_ASSESSMENT
        if role is Role.ASSISTANT:
            assessment += "\n - The third line must be one of: 'Refusal: Yes', 'Refusal: No'."
        return (
            "<|im_start|>user\n"
            f"{task}"
            "<BEGIN UNSAFE CONTENT CATEGORIES>\n"
            f"{category_lines}"
            "<END UNSAFE CONTENT CATEGORIES>\n\n"
            f"{extra}"
            "<BEGIN CONVERSATION>\n\n"
            f"{conversation}"
            "<END CONVERSATION>\n\n"
            f"Provide your safety assessment for ONLY THE LAST {judged} in the above conversation:\n"
            f"{assessment}<|im_end|>\n"
            "<|im_start|>assistant\n<think>\n\n</think>\n\n"
        )

    def parse(self, answer: str) -> dict[str, float]:
        label = _QWEN_SAFETY.search(answer)
        if label is None:
            raise UnreadableAnswer("no 'Safety:' line in the answer")
        if label.group(1) == "Safe":
            return {}
        score = 1.0 if label.group(1) == "Unsafe" else CONTROVERSIAL_SCORE
        found = {
            QWEN3GUARD_CATEGORIES[name]: score
            for name in _QWEN_CATEGORY.findall(answer[label.end() :])
            if name != "None"
        }
        return found or {cat.UNKNOWN: score}

    @staticmethod
    def refusal(answer: str) -> bool | None:
        """Whether a judged response was a refusal ("Refusal: Yes"), when the answer says."""
        match = _QWEN_REFUSAL.search(answer)
        return None if match is None else match.group(1) == "Yes"


FORMATS: Mapping[str, Callable[[], GuardFormat]] = {
    "llama-guard-3": LlamaGuard3,
    "llama-guard-3-1b": lambda: LlamaGuard3(with_code_interpreter=False),
    "qwen3guard": Qwen3Guard,
}
