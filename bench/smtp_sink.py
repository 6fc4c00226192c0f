"""SMTP server for the time-to-notify measurement: Debian's aiosmtpd (run with /usr/bin/python3).

Accepts every message and appends one line per message to LOG: the time the server accepted it
(just before answering 250) and its Message-ID. Usage: smtp_sink.py PORT LOG
"""

import email.parser
import sys
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, log):
        self.log = log

    async def handle_DATA(self, server, session, envelope):
        headers = email.parser.BytesHeaderParser().parsebytes(envelope.content)
        mid = (headers.get("Message-ID") or "").strip().strip("<>")
        self.log.write(f"{time.time():.6f} {mid}\n")
        self.log.flush()
        return "250 OK"


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    with open(path, "a", encoding="utf-8") as log:
        controller = Controller(Handler(log), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()


if __name__ == "__main__":
    main()
