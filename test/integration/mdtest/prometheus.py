# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""A strict reader of the Prometheus text exposition format (version 0.0.4).

parse(text) checks every line and returns {(name, labels): value} where labels
is a tuple of (label, value) pairs sorted by label name.  It raises
ExpositionError naming the line for anything a Prometheus server would reject
or that breaks the conventions a monitoring setup relies on:

- "# HELP name text" and "# TYPE name type" at most once per family, TYPE
  before the family's first sample, type one of counter/gauge/histogram/
  summary/untyped;
- samples "name{l="v",...} value [timestamp]" with valid metric and label
  names, label values escaped (\\\\, \\", \\n only), a float value;
- the samples of one family together (no family appears twice);
- no series twice; counters named *_total;
- the text ends with a newline.
"""
import math
import re

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
SUFFIXES = ("_bucket", "_sum", "_count", "_total")


class ExpositionError(ValueError):
    pass


def _family_of(name, types):
    if name in types:
        return name
    for suffix in SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in types:
            return name[: -len(suffix)]
    return name


def _parse_labels(s, lineno):
    """Parse 'a="x",b="y"' (the text between braces); return [(k, v), ...]."""
    labels, i = [], 0
    while i < len(s):
        m = LABEL_RE.match(s, i)
        if not m:
            raise ExpositionError(f"line {lineno}: bad label name at {s[i:]!r}")
        key, i = m.group(0), m.end()
        if s[i:i + 2] != '="':
            raise ExpositionError(f"line {lineno}: label {key} without =\"value\"")
        i += 2
        value = []
        while True:
            if i >= len(s):
                raise ExpositionError(f"line {lineno}: unterminated value of label {key}")
            c = s[i]
            if c == "\\":
                esc = s[i + 1:i + 2]
                if esc not in ("\\", '"', "n"):
                    raise ExpositionError(f"line {lineno}: bad escape \\{esc} in label {key}")
                value.append("\n" if esc == "n" else esc)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ExpositionError(f"line {lineno}: newline in label {key}")
            else:
                value.append(c)
                i += 1
        labels.append((key, "".join(value)))
        if i < len(s):
            if s[i] != ",":
                raise ExpositionError(f"line {lineno}: expected ',' after label {key}")
            i += 1
    names = [k for k, _ in labels]
    if len(set(names)) != len(names):
        raise ExpositionError(f"line {lineno}: a label appears twice")
    return labels


def _parse_sample(line, lineno):
    m = NAME_RE.match(line)
    if not m:
        raise ExpositionError(f"line {lineno}: bad metric name in {line!r}")
    name, rest = m.group(0), line[m.end():]
    labels = []
    if rest.startswith("{"):
        end = rest.rfind("}")
        if end < 0:
            raise ExpositionError(f"line {lineno}: unterminated label set")
        labels = _parse_labels(rest[1:end], lineno)
        rest = rest[end + 1:]
    if not rest.startswith(" "):
        raise ExpositionError(f"line {lineno}: no space before the value in {line!r}")
    parts = rest.split()
    if not 1 <= len(parts) <= 2:
        raise ExpositionError(f"line {lineno}: expected 'value [timestamp]', got {rest!r}")
    try:
        value = float(parts[0])
    except ValueError:
        raise ExpositionError(f"line {lineno}: value {parts[0]!r} is not a number") from None
    if len(parts) == 2 and not re.fullmatch(r"-?\d+", parts[1]):
        raise ExpositionError(f"line {lineno}: timestamp {parts[1]!r} is not an integer")
    return name, tuple(sorted(labels)), value


def _comment(line, lineno, types, helps, seen_samples):
    parts = line.split(None, 3)
    if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
        return                      # a plain comment
    kind, name = parts[1], parts[2]
    if not NAME_RE.fullmatch(name):
        raise ExpositionError(f"line {lineno}: bad metric name {name!r} in # {kind}")
    if kind == "HELP":
        if name in helps:
            raise ExpositionError(f"line {lineno}: second HELP for {name}")
        helps[name] = parts[3] if len(parts) > 3 else ""
        return
    if name in types:
        raise ExpositionError(f"line {lineno}: second TYPE for {name}")
    if name in seen_samples:
        raise ExpositionError(f"line {lineno}: TYPE for {name} after its samples")
    if len(parts) != 4 or parts[3] not in TYPES:
        raise ExpositionError(f"line {lineno}: bad type in {line!r}")
    if parts[3] == "counter" and not name.endswith("_total"):
        raise ExpositionError(f"line {lineno}: counter {name} is not named *_total")
    types[name] = parts[3]


def parse(text):
    if text and not text.endswith("\n"):
        raise ExpositionError("the text does not end with a newline")
    types, helps, series = {}, {}, {}
    seen_samples, finished, current = set(), set(), None
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            _comment(line, lineno, types, helps, seen_samples)
            continue
        name, labels, value = _parse_sample(line, lineno)
        family = _family_of(name, types)
        if family != current:
            if family in finished:
                raise ExpositionError(f"line {lineno}: samples of {family} are not together")
            if current is not None:
                finished.add(current)
            current = family
        seen_samples.add(family)
        if (name, labels) in series:
            raise ExpositionError(f"line {lineno}: series {name}{dict(labels)} twice")
        if math.isnan(value) and types.get(family) == "counter":
            raise ExpositionError(f"line {lineno}: counter {name} is NaN")
        series[(name, labels)] = value
    return series


def value(series, name, **labels):
    """The value of one series, or None."""
    return series.get((name, tuple(sorted(labels.items()))))
