"""How many letters or characters the language guard waits for before it shows or judges text."""

from __future__ import annotations

# A sentence whose first words fit the target is shown as it grows, while detection confirms
# it at checkpoints. The words fit once the detector agrees on this many letters (Latin and
# other scripts several languages share), or, in a script of the target's own (Han, Arabic,
# Devanagari...), once this many letters are in that script and the detector does not object.
FIT_LETTERS = 9
FIT_LETTERS_OWN_SCRIPT = 4
# Opening words the detector is unsure of are judged again this many letters later.
FIT_STEP = 8
# Once the user has text to read, a later sentence's opening is judged on this many letters:
# on fewer, the detector is often unsure (judged again later) and costs two to three times as
# much per call, as it needs all its stages; on this many it is nearly always sure at once.
LATER_FIT_LETTERS = 24
# An unfinished sentence is judged once it has this many letters, so a long sentence does not
# hold the display back to its end, and a switch inside it stops generation early.
PARTIAL_LETTERS = 40
# An unfinished sentence must be this long before it alone stops generation as foreign.
PARTIAL_FOREIGN_LETTERS = 80
# A sentence being shown is judged again after it grew by this many characters, and once
# finished only when this many of its letters came after the last judgement.
CHECK_CHARS = 96
UNJUDGED_TAIL_LETTERS = 60
# An unfinished sentence is judged on at most its last this many characters: plenty of evidence,
# and a run-on sentence (a long list, a sentence without a full stop) costs the same per token
# however long it grows.
PARTIAL_WINDOW = 400
