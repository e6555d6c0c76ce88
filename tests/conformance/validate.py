#!/usr/bin/python3
"""Validates JSON documents against a JSON schema (draft 7), as the nats CLI does for
$SRV replies. Usage: validate.py SCHEMA.json DOC.json [DOC.json ...]; exit 1 on the first
invalid document, printing why."""
import json
import sys

import jsonschema


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        try:
            jsonschema.validate(doc, schema, cls=jsonschema.Draft7Validator)
        except jsonschema.ValidationError as e:
            print(f"{path}: {e.message}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
