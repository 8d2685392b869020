"""Reads a saved email back with Python's own parser, as a mail client would, and prints
what a reader sees as JSON: decoded subject and addresses, the raw Subject header, the text
and HTML parts.

usage: read_mail.py FILE
"""
import email
import email.policy
import json
import sys

raw = open(sys.argv[1], "rb").read()
msg = email.message_from_bytes(raw, policy=email.policy.default)
raw_subject = email.message_from_bytes(raw, policy=email.policy.compat32)["Subject"]
print(json.dumps({
    "subject": str(msg["subject"]),
    "raw_subject": str(raw_subject),
    "from": str(msg["from"]),
    "to": str(msg["to"]),
    "content_type": msg.get_content_type(),
    "text": msg.get_body(preferencelist=("plain",)).get_content(),
    "html": msg.get_body(preferencelist=("html",)).get_content(),
}, ensure_ascii=False))
