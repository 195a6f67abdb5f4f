#!/usr/bin/env python3
"""Compares two ASan heap profiles (heap-*.txt from `SOAK_HEAP_PROFILE=1 ./scripts/soak.sh`):
the live bytes and chunks by allocation stack, largest growth first.
  tests/soak/heap_diff.py BEFORE AFTER [--top N] [--frames N]"""
import argparse
import re
from collections import defaultdict

BLOCK = re.compile(r'^(\d+) byte\(s\) \(\d+%\) in (\d+) allocation\(s\)')
FRAME = re.compile(r'^\s*#\d+ 0x[0-9a-f]+ +(?:in )?(.*)$')
# Frames that say how, not where, memory was taken.
ALLOCATOR = re.compile(r'^(malloc|calloc|realloc|operator new|__interceptor_|__libc_|std::__new_allocator|'
                       r'__gnu_cxx::new_allocator|std::allocator_traits|std::_Hashtable_alloc|'
                       r'std::__detail::_Hashtable_alloc)')


def load(path):
    """{stack: [bytes, chunks]} of one profile."""
    stacks = defaultdict(lambda: [0, 0])
    size = count = None
    frames = []

    def flush():
        if size is not None:
            entry = stacks[tuple(frames)]
            entry[0] += size
            entry[1] += count

    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            m = BLOCK.match(line)
            if m:
                flush()
                size, count, frames = int(m.group(1)), int(m.group(2)), []
                continue
            m = FRAME.match(line)
            if m and size is not None:
                # function and file:line without the build directory and column
                frames.append(re.sub(r'\S*/([^/ ]+:\d+)(:\d+)?', r'\1', m.group(1)))
        flush()
    return stacks


def short(frame):
    """The frame without template arguments and parameter lists."""
    out, depth = [], 0
    for ch in frame:
        if ch in '<(':
            depth += 1
        elif ch in '>)' and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return ''.join(out)


def where(stack, depth):
    """The first `depth` frames that are neither the allocator's nor the standard library's."""
    frames = [short(f) for f in stack if not ALLOCATOR.match(f)]
    own = [f for f in frames if not f.startswith('std::') and not f.startswith('void std::')]
    return '\n      '.join((own or frames)[:depth]) or '(no stack)'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('before')
    ap.add_argument('after')
    ap.add_argument('--top', type=int, default=15)
    ap.add_argument('--frames', type=int, default=6)
    args = ap.parse_args()
    a, b = load(args.before), load(args.after)
    total = lambda s: (sum(v[0] for v in s.values()), sum(v[1] for v in s.values()))
    (ab, ac), (bb, bc) = total(a), total(b)
    print(f'live: {ab} B in {ac} chunks -> {bb} B in {bc} chunks ({bb - ab:+d} B, {bc - ac:+d} chunks)')
    diff = []
    for key in set(a) | set(b):
        x, y = a.get(key, [0, 0]), b.get(key, [0, 0])
        if x != y:
            diff.append((y[0] - x[0], y[1] - x[1], x, y, key))
    diff.sort(key=lambda d: -abs(d[0]))
    for db, dc, x, y, key in diff[:args.top]:
        print(f'{db:+8d} B {dc:+6d} chunks ({x[0]} B / {x[1]} -> {y[0]} B / {y[1]})\n      {where(key, args.frames)}')


if __name__ == '__main__':
    main()
