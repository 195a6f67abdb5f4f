#!/usr/bin/env python3
"""Writes a C++ source defining `name` as the bytes of a file (build step)."""
import sys

src, out, name = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('#include <string_view>\n\nnamespace daheim::dev {\n')
    f.write(f'extern const std::string_view {name};\n')
    f.write(f'static const char {name}_bytes[] = {{\n')
    for i in range(0, len(data), 16):
        f.write(''.join(f'{b},' for b in data[i:i + 16]) + '\n')
    f.write('0};\n')
    f.write(f'const std::string_view {name}({name}_bytes, {len(data)});\n')
    f.write('}  // namespace daheim::dev\n')
