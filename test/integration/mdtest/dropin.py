# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Differential runs: the same scenario against our module and today's (Debian's
/usr/lib/apache2/modules/mod_md.so), comparing what an administrator or a tool
sees: whether `apache2 -t` accepts a configuration, whether the server starts,
the md-status JSON (its shape: keys and value types), the store tree, the answer
to a plain request and to http-01.

The corpus of configurations is data, one case a line, in
test/integration/dropin_corpus.txt (see its header); test_0420_dropin.py runs it.
"""
import json
import os
import re
import stat

TODAY_MD = "/usr/lib/apache2/modules/mod_md.so"
CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "dropin_corpus.txt")

# What both sides log at their own levels is not ours to judge in a differential run:
# every line is allowed, the outcome is compared instead.
ANY_LINE = r"."


def today_available():
    return os.path.exists(TODAY_MD)


def pair(apache_factory, ca=None):
    """Two Apaches, ours and today's, each with its own server root and store."""
    kw = {"ca": ca} if ca is not None else {}
    ours = apache_factory("ours", **kw)
    today = apache_factory("today", **kw)
    today.md_module = TODAY_MD
    for a in (ours, today):
        a.expect_log(ANY_LINE)
    return {"ours": ours, "today": today}


# ---- the corpus ---------------------------------------------------------------------

class Case:
    """One line of the corpus: `id | expect | config`.

    expect: `same` (both accept or both refuse, the default), `ok` (both accept),
    `refused` (both refuse), or `intended:<reason>` for a documented difference
    (docs/migration.md), in which case only that the difference is still the recorded
    one is checked: `intended-refuse:<reason>` / `intended-accept:<reason>` (ours refuses /
    accepts where today's accepts / refuses, on purpose), `known-refuse:<note>` /
    `known-accept:<note>` (a difference found and not yet resolved; docs/migration.md
    lists it as open)."""

    def __init__(self, ident, expect, config, lineno):
        self.id, self.expect, self.config, self.lineno = ident, expect, config, lineno

    def __repr__(self):
        return f"Case({self.id})"

    def text(self, values):
        conf = self.config.replace("\\n", "\n")
        for k, v in values.items():
            conf = conf.replace("{" + k + "}", str(v))
        return conf + "\n"


def load_corpus(path=CORPUS):
    cases, seen = [], set()
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = [p.strip() for p in line.split("|", 2)]
            if len(parts) != 3:
                raise ValueError(f"{path}:{n}: want 'id | expect | config': {line}")
            ident, expect, config = parts
            if ident in seen:
                raise ValueError(f"{path}:{n}: duplicate case id {ident}")
            if not re.match(r"^(same|ok|refused|(intended|known)-(refuse|accept):.+)$", expect):
                raise ValueError(f"{path}:{n}: unknown expectation {expect!r}")
            seen.add(ident)
            cases.append(Case(ident, expect, config, n))
    return cases


def verdict(case, ours_rc, today_rc):
    """None when the outcome is what the case expects, else a text saying why not."""
    ours_ok, today_ok = ours_rc == 0, today_rc == 0
    if case.expect == "ok" and not (ours_ok and today_ok):
        return f"expected both to accept: ours rc={ours_rc}, today's rc={today_rc}"
    if case.expect == "refused" and (ours_ok or today_ok):
        return f"expected both to refuse: ours rc={ours_rc}, today's rc={today_rc}"
    if case.expect == "same" and ours_ok != today_ok:
        return f"ours {'accepts' if ours_ok else 'refuses'}, today's " \
               f"{'accepts' if today_ok else 'refuses'}"
    kind = case.expect.split(":", 1)[0]
    if kind.endswith("-refuse") and not (today_ok and not ours_ok):
        return f"recorded as 'ours refuses, today's accepts' ({kind}), but ours rc={ours_rc}, " \
               f"today's rc={today_rc}: update the corpus and docs/migration.md"
    if kind.endswith("-accept") and not (ours_ok and not today_ok):
        return f"recorded as 'ours accepts, today's refuses' ({kind}), but ours rc={ours_rc}, " \
               f"today's rc={today_rc}: update the corpus and docs/migration.md"
    return None


# ---- JSON shape -----------------------------------------------------------------------

def json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def shape(j, prefix="", skip=("log",)):
    """{dotted key: type} of a JSON object; arrays of objects are described by
    their first element as `key[]`."""
    out = {}
    for k, v in j.items():
        path = prefix + k
        out[path] = json_type(v)
        if isinstance(v, dict) and k not in skip:
            out.update(shape(v, path + ".", skip))
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            out.update(shape(v[0], path + "[].", skip))
    return out


def shape_diff(ours, today, intended=()):
    """Differences of two shapes as text lines, without the intended ones (a key, or
    a key prefix ending in '.', of docs/migration.md)."""
    def is_intended(key):
        return any(key == i or key.startswith(i if i.endswith(".") else i + ".")
                   for i in intended)
    lines = []
    for key in sorted(set(ours) | set(today)):
        if is_intended(key):
            continue
        a, b = ours.get(key), today.get(key)
        if a == b:
            continue
        if a is None:
            lines.append(f"{key}: missing in ours (today's: {b})")
        elif b is None:
            lines.append(f"{key}: only in ours ({a})")
        else:
            lines.append(f"{key}: ours {a}, today's {b}")
    return lines


# ---- store tree ---------------------------------------------------------------------

def store_tree(root, under=("accounts", "domains", "staging", "challenges")):
    """{relative path: 'd' or 'f' + octal mode} of the groups tools look at; the
    account directory's name is normalised (its number may differ)."""
    out = {}
    for group in under:
        top = os.path.join(root, group)
        for dirpath, dirnames, filenames in os.walk(top):
            for name in dirnames + filenames:
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root)
                rel = re.sub(r"^accounts/ACME-[^/]+", "accounts/ACME-*", rel)
                st = os.lstat(full)
                kind = "d" if stat.S_ISDIR(st.st_mode) else "f"
                out[rel] = f"{kind}{stat.S_IMODE(st.st_mode):04o}"
    return out


def md_status_of(apache, name):
    r = apache.status_get(f"/md-status/{name}")
    if r.status != 200:
        return None
    return json.loads(r.text)
