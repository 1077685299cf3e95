"""A local SMTP server in its own process for the delivery benchmark: it appends one line per
message received ("recipients<TAB>subject") to the file given, and runs until terminated.

    python bench/smtp_sink.py PORT FILE
"""

import signal
import sys
import threading
from email import message_from_bytes
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


class Record:
    def __init__(self, path: str) -> None:
        self.out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        subject = str(message_from_bytes(envelope.content, policy=default)["Subject"])
        with self.lock:
            self.out.write(f"{','.join(envelope.rcpt_tos)}\t{subject}\n")
            self.out.flush()
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Record(path), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
