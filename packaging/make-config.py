#!/usr/bin/env python3
"""Writes the packaged config (/etc/daheim-live/daheim-live.json) from
etc/daheim-live.json, the commented default, so that both keep the same keys
and comments. Only the values in OVERRIDES change (each must match exactly
once, so a reworded default fails the build instead of shipping silently),
and the demo page is switched off explicitly.

usage: make-config.py INPUT OUTPUT
"""
import re
import sys

HEADER = """\
// Packaged configuration of the daheim-live system service
// (daheim-live.service runs `daheim-live --config` on this file).
// It is etc/daheim-live.json from the sources with production values for
// the keys marked "packaged:"; everything else is the default.
// `daheim-live --check-config FILE` checks a change; `systemctl reload
// daheim-live` applies what can change live (see `man daheim-live`).
// Under socket activation (daheim-live.socket) the listening socket comes
// from systemd and "listen" is not used.
//
"""

# key -> (value in the default, packaged value, note). Values are JSON text.
OVERRIDES = {
    "listen": ('"127.0.0.1:3000"', '"0.0.0.0:3000"',
               'packaged: all IPv4 interfaces; "[::]:3000" for IPv6 too'),
}

# The demo page at "/" is off whenever a config file is given, but say so
# explicitly: added after the root "{" when the default does not show the key,
# or its "enabled" set to false when it does.
DEMO_NOTE = "packaged: no demo page at /"
DEMO_MEMBER = f'  // {DEMO_NOTE}.\n  "demo": {{ "enabled": false }},\n\n'


def demo_off(text: str, src: str) -> str:
    if not re.search(r'^\s*"demo"\s*:', text, re.MULTILINE):
        root = re.search(r"^\{[ \t]*\n", text, re.MULTILINE)
        if not root:
            raise SystemExit(f"make-config.py: no root object '{{' line in {src}")
        return text[:root.end()] + DEMO_MEMBER + text[root.end():]
    enabled = re.compile(r'("demo"\s*:\s*\{[^{}]*?"enabled"\s*:\s*)(true|false)', re.DOTALL)
    if len(enabled.findall(text)) != 1:
        raise SystemExit(f"make-config.py: {src} has \"demo\" but no single \"enabled\" in it")
    return enabled.sub(lambda m: m.group(1) + "false", text)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 64
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        text = f.read()
    for key, (default, packaged, note) in OVERRIDES.items():
        pattern = re.compile(
            r'^(?P<indent>[ \t]*)"' + re.escape(key) + r'":[ \t]*' + re.escape(default)
            + r'(?P<comma>,?)[ \t]*$', re.MULTILINE)
        found = pattern.findall(text)
        if len(found) != 1:
            print(f"{sys.argv[0]}: expected exactly one line '\"{key}\": {default}' in {src}, "
                  f"found {len(found)}", file=sys.stderr)
            return 1
        text = pattern.sub(lambda m: f'{m["indent"]}"{key}": {packaged}{m["comma"]}'
                           f'  // {note}', text)
    text = demo_off(text, src)
    with open(dst, "w", encoding="utf-8") as f:
        f.write(HEADER + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
