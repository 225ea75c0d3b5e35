"""Write answers into shell commands so they stay one word, whatever they contain.

The generated README shows commands to copy and paste (flux bootstrap with the repo URL and branch). The
answers are checked, but the commands must not depend on that: a value with a space, `;` or `$(...)` would
split the command or run another one.
"""

from __future__ import annotations

import shlex


def shell_quote(value: object) -> str:
    """`value` as one shell word: unchanged when it only has safe characters, else single-quoted."""
    return shlex.quote(str(value))
