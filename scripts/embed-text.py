#!/usr/bin/env python3
"""Writes a C++ header holding a text file as a string constant: embed-text.py NAME IN OUT."""
import sys

name, src, dst = sys.argv[1:4]
with open(src, encoding="utf-8") as f:
    text = f.read()
delim = "tsnitch_embed"
assert ")" + delim + '"' not in text
with open(dst, "w", encoding="utf-8") as f:
    f.write("// Generated from %s; do not edit.\n#pragma once\n#include <string_view>\n" % src)
    f.write("namespace tsnitch {\ninline constexpr std::string_view %s = R\"%s(%s)%s\";\n}\n"
            % (name, delim, text, delim))
