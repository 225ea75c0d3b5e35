"""How a refused answer reaches the user: one line from the copier CLI, the usual retry everywhere else.

copier turns a validator's message into a ValueError. Interactively that makes it ask again, which is what we
want; but an answer given with --data cannot be asked again, and the ValueError reaches the CLI as a ~40-line
traceback with the message at the bottom. copier prints its own `UserMessageError` as one line, yet catches
every `Exception` a validator raises, so a validator cannot raise that. `refuse_or_report` therefore ends the
CLI with the message alone (exit code 1, nothing written: validators run before any file is) when the answer
came from --data and the copier CLI is running; it returns the message unchanged otherwise: to prompts (copier
asks again), to the Python API (callers get copier's ValueError) and when a recorded answer is re-checked.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import yaml
from jinja2 import pass_context
from jinja2.runtime import Context


class AnswerRefused(SystemExit):
    """Ends the copier CLI with exit code 1 and the message on stderr, without a traceback."""


@pass_context
def refuse_or_report(context: Context, problem: str, question: str) -> str:
    """The validator's `problem` for `question`; raised as AnswerRefused instead when it would only become a
    traceback (an answer from --data, under the copier CLI)."""
    if problem and answer_from_data(context.get(question), _given(context), question) and copier_cli_running():
        raise AnswerRefused(f"Validation error for question '{question}': {problem}")
    return problem


def _given(context: Context) -> Mapping[str, Any]:
    conf = context.get("_copier_conf")
    try:
        data = conf["data"] if conf is not None else None
    except (KeyError, TypeError):
        data = None
    return data if isinstance(data, Mapping) else {}


def answer_from_data(answer: object, given: Mapping[str, Any], question: str) -> bool:
    """Whether `answer` is the value given for `question` with --data (as copier parses it), rather than a
    recorded answer being re-checked or a typed one."""
    if question not in given:
        return False
    raw = given[question]
    forms = [raw, str(raw)]
    if isinstance(raw, str):
        try:
            forms.append(yaml.safe_load(raw))
        except yaml.YAMLError:
            pass
    for form in forms:
        if form == answer:
            return True
        if isinstance(form, list) and isinstance(answer, list) and sorted(map(str, form)) == sorted(map(str, answer)):
            return True  # a multiselect answer comes back in the order of the choices
    return False


def copier_cli_running() -> bool:
    """Whether this call runs under the copier CLI (its error handler is on the stack), where a SystemExit ends
    the process with its message alone."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "_handle_exceptions" and frame.f_globals.get("__name__") == "copier._cli":
            return True
        frame = frame.f_back
    return False
