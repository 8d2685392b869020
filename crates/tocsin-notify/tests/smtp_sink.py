"""A real SMTP server for the email tests (aiosmtpd): saves each message to a directory,
requires no TLS but accepts AUTH (user tocsin, password letmein), refuses bounce@ mailboxes
with 550 and busy@ mailboxes with 451. Prints "ready" once it listens.

usage: smtp_sink.py PORT DIR
"""
import os
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, directory):
        self.directory = directory

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce@"):
            return "550 5.1.1 no such user"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = len(os.listdir(self.directory))
        with open(os.path.join(self.directory, f"{n:04}.eml"), "wb") as f:
            f.write(envelope.original_content or envelope.content)
        return "250 OK saved"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"tocsin" and auth_data.password == b"letmein"
    # handled=False makes aiosmtpd answer 535 itself; otherwise it says nothing.
    return AuthResult(success=ok, handled=False)


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    controller = Controller(
        Sink(directory),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


main()
