#!/usr/bin/env python3
"""Converts http/openapi.yaml (the REST contract) into compact JSON and writes it as a C file,
so sw-edge serves GET /api/schema/ from its own binary. Invoked by http/CMakeLists.txt:
    python3 embed_openapi.py IN.yaml OUT.c [OUT.json]
Fails (exit 1) on a document that does not parse or is not OpenAPI 3.1."""
import json
import sys

import yaml


def main() -> int:
    src, out_c = sys.argv[1], sys.argv[2]
    out_json = sys.argv[3] if len(sys.argv) > 3 else None
    with open(src, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3.1."):
        print(f"{src}: not an OpenAPI 3.1 document", file=sys.stderr)
        return 1
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    data = text.encode("utf-8")
    rows = []
    for i in range(0, len(data), 20):
        rows.append("    " + ", ".join(f"0x{b:02x}" for b in data[i:i + 20]) + ",")
    c = (
        "/* Generated from http/openapi.yaml by cmake/embed_openapi.py; do not edit. */\n"
        "#include <stddef.h>\n\n"
        "const char edge_openapi_json[] = {\n" + "\n".join(rows) + "\n    0};\n"
        f"const size_t edge_openapi_json_len = {len(data)};\n"
    )
    with open(out_c, "w", encoding="utf-8") as f:
        f.write(c)
    if out_json:
        with open(out_json, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
