"""The category names every classifier reports in, and what the policy blocks by default.

Guard models name their categories differently (Llama Guard 3 uses the MLCommons codes S1-S14,
Qwen3Guard plain names); each client maps its own names onto this one vocabulary.
"""

from __future__ import annotations

# Local word lists.
HATE = "hate"  # slurs, and the guard models' hate categories
OBSCENITY = "obscenity"  # vulgar and sexual obscenities

# Llama Guard 3 (MLCommons hazard taxonomy) and Qwen3Guard.
VIOLENT_CRIMES = "violent_crimes"
VIOLENCE = "violence"  # Qwen3Guard "Violent": also depictions of violence
NON_VIOLENT_CRIMES = "non_violent_crimes"
SEX_CRIMES = "sex_crimes"
CHILD_EXPLOITATION = "child_exploitation"
DEFAMATION = "defamation"
SPECIALIZED_ADVICE = "specialized_advice"
PRIVACY = "privacy"
INTELLECTUAL_PROPERTY = "intellectual_property"
INDISCRIMINATE_WEAPONS = "indiscriminate_weapons"
SELF_HARM = "self_harm"
SEXUAL_CONTENT = "sexual_content"
ELECTIONS = "elections"
CODE_INTERPRETER_ABUSE = "code_interpreter_abuse"
UNETHICAL_ACTS = "unethical_acts"
POLITICALLY_SENSITIVE = "politically_sensitive"
JAILBREAK = "jailbreak"

# A classifier that answered something the policy cannot read as any category.
UNKNOWN = "unknown"

ALL_CATEGORIES = frozenset(
    {
        HATE,
        OBSCENITY,
        VIOLENT_CRIMES,
        VIOLENCE,
        NON_VIOLENT_CRIMES,
        SEX_CRIMES,
        CHILD_EXPLOITATION,
        DEFAMATION,
        SPECIALIZED_ADVICE,
        PRIVACY,
        INTELLECTUAL_PROPERTY,
        INDISCRIMINATE_WEAPONS,
        SELF_HARM,
        SEXUAL_CONTENT,
        ELECTIONS,
        CODE_INTERPRETER_ABUSE,
        UNETHICAL_ACTS,
        POLITICALLY_SENSITIVE,
        JAILBREAK,
        UNKNOWN,
    }
)

# Allowed unless the operator blocks them: medical, legal or financial advice and political
# topics are ordinary questions in a team chat; every other category blocks a reply.
DEFAULT_ALLOWED = frozenset({SPECIALIZED_ADVICE, POLITICALLY_SENSITIVE})
# Allowed in the user's message, still blocked in replies: people swear at a bot, which should
# answer them without swearing back. Hate is never in here: slurs block from anyone.
DEFAULT_ALLOWED_FROM_USERS = frozenset({OBSCENITY})
