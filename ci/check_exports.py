#!/usr/bin/env python3
"""Checks hikeshi's exports with the official tools of each format.

    check_exports.py stix FILE   OASIS stix2-validator, strict (any warning fails)
    check_exports.py misp FILE   pymisp: MISPEvent loads it, and each attribute's category is one
                                 MISP's describeTypes allows for its type (MISPEvent alone silently
                                 replaces a wrong category by the default)

Exit 0 when valid; 1 with the reasons on stderr otherwise. Used by the integration tests
(tests/api/sharing.rs); the tools come from ci/requirements.txt.
"""
import json
import sys


def check_stix(path):
    from stix2validator import ValidationOptions, print_results, validate_file

    result = validate_file(path, ValidationOptions(strict=True))
    if not result.is_valid:
        print_results(result)
        return ["stix2-validator --strict: invalid"]
    return []


def check_misp(path):
    from pymisp import MISPAttribute, MISPEvent
    from pymisp.abstract import describe_types as types

    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    errors = []
    if set(doc) != {"Event"}:
        return ["the top level must be exactly {'Event': ...}"]
    event = doc["Event"]
    for key in ("info", "date", "threat_level_id", "analysis", "distribution", "uuid"):
        if key not in event:
            errors.append(f"Event.{key} is missing")
    for i, a in enumerate(event.get("Attribute", [])):
        kind, category = a.get("type"), a.get("category")
        if kind not in types["types"]:
            errors.append(f"Attribute[{i}]: unknown type {kind!r}")
        elif category not in types["categories"]:
            errors.append(f"Attribute[{i}]: unknown category {category!r}")
        elif kind not in types["category_type_mappings"][category]:
            errors.append(f"Attribute[{i}]: type {kind!r} is not allowed in category {category!r}")
        if not isinstance(a.get("to_ids"), bool):
            errors.append(f"Attribute[{i}]: to_ids must be a JSON boolean")
        try:
            MISPAttribute(strict=True).from_dict(**a)
        except Exception as e:  # pymisp raises several types
            errors.append(f"Attribute[{i}]: pymisp: {e}")
    tlp = [t.get("name") for t in event.get("Tag", []) if str(t.get("name", "")).startswith("tlp:")]
    if len(tlp) != 1 or tlp[0] not in {"tlp:clear", "tlp:green", "tlp:amber", "tlp:amber+strict", "tlp:red"}:
        errors.append(f"exactly one TLP 2.0 tag is needed, got {tlp}")
    try:
        MISPEvent().load(doc)
    except Exception as e:
        errors.append(f"MISPEvent.load: {e}")
    return errors


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("stix", "misp"):
        print(__doc__, file=sys.stderr)
        return 2
    errors = check_stix(sys.argv[2]) if sys.argv[1] == "stix" else check_misp(sys.argv[2])
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
