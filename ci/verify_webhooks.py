#!/usr/bin/env python3
"""Verifies webhook deliveries with the Standard Webhooks project's own Python package.

    verify_webhooks.py SECRET FILE

FILE is a JSON list of {id, timestamp, signature, body} as a receiver got them (tests/api/helpers.rs:
WebhookReceiver). Exit 0 when every signature verifies; 1 naming the first that does not.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook


def main():
    secret, path = sys.argv[1], sys.argv[2]
    hook = Webhook(secret)
    with open(path, encoding="utf-8") as f:
        deliveries = json.load(f)
    for d in deliveries:
        headers = {"webhook-id": d["id"], "webhook-timestamp": d["timestamp"], "webhook-signature": d["signature"]}
        try:
            hook.verify(d["body"], headers)
        except Exception as e:  # the package raises WebhookVerificationError
            print(f"{d['id']}: {e}", file=sys.stderr)
            return 1
    print(f"{len(deliveries)} deliveries verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
