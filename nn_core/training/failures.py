"""Why a training failed, in the registry's and the worker's own English words.

One template per kind of failure, so that the page can recognise a message and say it in the
student's language (``ui.digits.training.failure_text``) while the technical part it carries
(an exception's text, a folder, an exit code) stays as it was. A message of no known kind (an
exception raised inside Keras: "Type: message") is shown as it is.
"""

from __future__ import annotations

# kind -> template; the names in braces are what the message carries
FAILURES = {
    "run_folder": "could not create the run folder {folder}: {reason}",
    "start": "could not start the training process: {reason}",
    "exit": "the training process exited with code {code} without a result",
    "time_limit": "stopped: it ran longer than the server's limit of {limit}",
    "memory": "out of memory while training ({detail})",
}


def failure(kind: str, **values: object) -> str:
    """The message of a failure of ``kind`` (a key of FAILURES) with its values filled in."""
    if kind not in FAILURES:
        raise ValueError(f"unknown failure kind {kind!r}; known: {sorted(FAILURES)}")
    return FAILURES[kind].format(**values)
