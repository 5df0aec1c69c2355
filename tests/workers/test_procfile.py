"""The Procfile's dramatiq processes: every declared queue is consumed, and voicemail
transcoding (``media``) runs in a process of its own with few threads, so a burst of long
audio holds at most that many ffmpeg runs and never the mail pipeline's threads."""

from __future__ import annotations

import re
import shlex

from honcho.environ import parse_procfile

from workers.cli import PROCFILE

DEFAULT = re.compile(r"\$\{[A-Z_]+:-(\d+)\}")
ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")


def dramatiq_processes() -> dict[str, dict]:
    """Each dramatiq process: its queues (``None``: all) and its processes times threads."""
    found = {}
    for name, command in parse_procfile(PROCFILE.read_text()).processes.items():
        words = shlex.split(DEFAULT.sub(r"\1", command))
        if words[0] == "env":  # the process's environment, then its command
            words = [w for w in words[1:] if not ASSIGNMENT.match(w)]
        if words[0] != "dramatiq":
            continue
        queues, options, key = [], {}, None
        for word in words[1:]:
            if word.startswith("--"):
                key = word
            elif key == "--queues":
                queues.append(word)
            elif key:
                options[key], key = word, None
        found[name] = {
            "queues": queues or None,
            "slots": int(options.get("--processes", 1)) * int(options.get("--threads", 8)),
        }
    return found


def test_every_declared_queue_has_a_process_consuming_it(broker):
    consumed = set()
    for process in dramatiq_processes().values():
        consumed |= set(process["queues"] or broker.get_declared_queues())
    assert set(broker.get_declared_queues()) <= consumed


def test_media_is_consumed_only_by_its_own_process_with_bounded_concurrency():
    processes = dramatiq_processes()
    media = [name for name, p in processes.items() if p["queues"] is None or "media" in p["queues"]]
    assert media == ["media"]
    assert processes["media"]["queues"] == ["media"]
    assert processes["media"]["slots"] <= 2
