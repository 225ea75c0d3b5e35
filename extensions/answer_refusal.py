"""How a refused answer reaches the user: one line from the copier CLI, the usual retry everywhere else.

copier turns a validator's message into a ValueError. Interactively that makes it ask again, which is what we
want; but an answer given with --data, or a default taken under --defaults, cannot be asked again, and the
ValueError reaches the CLI as a ~40-line traceback with the message at the bottom. copier prints its own
`UserMessageError` as one line, yet catches every `Exception` a validator raises, so a validator cannot raise
that. `refuse_or_report` therefore ends the CLI with the message alone (exit code 1, nothing written: validators
run before any file is) for such answers while the copier CLI runs. It returns the message unchanged otherwise:
to prompts (copier asks again), to the Python API (callers get copier's ValueError) and when copier re-checks a
recorded answer (it then drops it; extensions/recorded_answers.py refuses the update if that would change it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from jinja2 import pass_context
from jinja2.runtime import Context

from team_update_index import restore_index


class AnswerRefused(SystemExit):
    """Ends the copier CLI with exit code 1 and the message on stderr, without a traceback."""


@pass_context
def refuse_or_report(context: Context, problem: str, question: str) -> str:
    """The validator's `problem` for `question`; raised as AnswerRefused instead when it would only become a
    traceback: under the copier CLI, for an answer from --data or a default taken under --defaults."""
    if not problem:
        return problem
    destination = _conf(context, "dst_path")
    if destination:
        restore_index(Path(str(destination)), os.getpid())  # a refused team update must not leave its index narrowed
    cli, checking_default = copier_callers()
    if cli and (answer_from_data(context.get(question), _conf(context, "data"), question)
                or (checking_default and _conf(context, "defaults") is True)):
        raise AnswerRefused(f"Validation error for question '{question}': {problem}")
    return problem


def _conf(context: Context, key: str) -> Any:
    conf = context.get("_copier_conf")
    try:
        value = conf[key] if conf is not None else None
    except (KeyError, TypeError):
        value = None
    return value if key != "data" or isinstance(value, Mapping) else {}


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


def copier_callers() -> tuple[bool, bool]:
    """(whether the copier CLI runs this call, whether copier is validating a question's default).

    Under the CLI (its error handler is on the stack) a SystemExit ends the process with its message alone.
    copier validates the default it is about to use or propose in `Question.get_default`; it re-checks recorded
    answers in `_ask` and typed ones in the prompt's own validator, and other code may render a validator too
    (extensions/recorded_answers.py does, for its message), so only `validate_answer` called by `get_default` counts.
    """
    cli, validating_for = False, ""
    frame = sys._getframe(1)
    while frame is not None:
        module, name = frame.f_globals.get("__name__"), frame.f_code.co_name
        cli = cli or (module == "copier._cli" and name == "_handle_exceptions")
        if not validating_for and module == "copier._user_data" and name == "validate_answer" and frame.f_back:
            validating_for = frame.f_back.f_code.co_name
        frame = frame.f_back
    return cli, validating_for == "get_default"
