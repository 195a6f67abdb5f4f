#!/usr/bin/env python3
"""Writes the seed corpora in corpus/<target>/ from the unit tests' wire strings.

Every C++ string literal in the unit test files listed below (plain ones with their escapes,
and raw R"(...)" ones) becomes one seed, prefixed with the byte that selects the target's mode.
Hand-written seeds for what the unit tests build at run time (multi-message binary packets,
raw HTTP requests, service tokens) live in corpus/<target>/ as seed-* files and are kept.
Run it after changing those tests: tests/fuzz/make_seeds.py
"""
import hashlib
import os
import re
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(ROOT, '..', 'unit')

# target: [(test file, mode prefix byte or None, minimum length)]
SOURCES = {
    'engineio_fuzz': [('engineio/codec_test.cpp', 0, 1), ('engineio/codec_test.cpp', 1, 1),
                      ('engineio/base64_test.cpp', 2, 1)],
    'socketio_fuzz': [('socketio/decoder_test.cpp', None, 1),
                      ('socketio/client_test.cpp', None, 1)],
    'json_fuzz': [('socketio/json_text_test.cpp', 1, 1), ('plugin/json_test.cpp', 1, 1)],
    'config_fuzz': [('app/config_test.cpp', None, 2)],
}

LITERAL = re.compile(r'R"([^(\s]*)\((.*?)\)\1"|"((?:[^"\\\n]|\\.)*)"', re.S)
ESCAPES = {'n': b'\n', 't': b'\t', 'r': b'\r', '0': b'\0', '\\': b'\\', '"': b'"', "'": b"'",
           'a': b'\a', 'b': b'\b', 'f': b'\f', 'v': b'\v', '?': b'?'}


def unescape(text):
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != '\\':
            out += c.encode()
            i += 1
            continue
        e = text[i + 1]
        if e == 'x':
            m = re.match(r'[0-9a-fA-F]{1,2}', text[i + 2:])
            out.append(int(m.group(0), 16))
            i += 2 + len(m.group(0))
        elif e in '01234567' and re.match(r'[0-7]{1,3}', text[i + 1:]).group(0) != '0':
            m = re.match(r'[0-7]{1,3}', text[i + 1:])
            out.append(int(m.group(0), 8) & 0xff)
            i += 1 + len(m.group(0))
        else:
            out += ESCAPES.get(e, e.encode())
            i += 2
    return bytes(out)


def literals(path):
    source = open(path, encoding='utf-8').read()
    source = re.sub(r'^\s*#include.*$', '', source, flags=re.M)
    for m in LITERAL.finditer(source):
        yield m.group(2).encode() if m.group(2) is not None else unescape(m.group(3))


def main():
    for target, sources in SOURCES.items():
        folder = os.path.join(ROOT, 'corpus', target)
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.startswith('unit-'):
                os.remove(os.path.join(folder, name))
        seeds = set()
        for rel, prefix, min_len in sources:
            for lit in literals(os.path.join(UNIT, rel)):
                if len(lit) < min_len:
                    continue
                seeds.add((bytes([prefix]) if prefix is not None else b'') + lit)
        for seed in seeds:
            name = 'unit-' + hashlib.sha1(seed).hexdigest()[:12]
            with open(os.path.join(folder, name), 'wb') as f:
                f.write(seed)
        print(f'{target}: {len(seeds)} seeds from the unit tests', file=sys.stderr)


if __name__ == '__main__':
    main()
