#!/usr/bin/python3
"""Independent reference for dnf's upgrade candidates on one rpm-md repository.

Written from dnf's documented behaviour, sharing no code with the Rust
implementation: primary.xml is read with ElementTree, modules.yaml with
PyYAML (every scalar kept as a string), and versions are ordered by rpm's
own rpm.labelCompare.

Usage: dnf_candidates.py PRIMARY.xml.gz MODULES.yaml.xz INSTALLED ENABLED_STREAMS HOST_ARCH
INSTALLED has one "name epoch version release arch" per line; ENABLED_STREAMS
is a comma-separated list of name:stream. Prints one line per update:
"name arch E:V-R(installed) E:V-R(candidate)", sorted.
"""
import functools
import gzip
import lzma
import sys
import xml.etree.ElementTree as ET

import rpm
import yaml

primary_path, modules_path, installed_path, enabled_arg, host_arch = sys.argv[1:6]
enabled = {s for s in enabled_arg.split(",") if s}

# Module streams: which NEVRAs each ships, and the defaults.
streams = {}
defaults = {}
opener = lzma.open if modules_path.endswith(".xz") else open
with opener(modules_path, "rb") as f:
    for doc in yaml.load_all(f.read(), Loader=yaml.BaseLoader):
        data = doc.get("data", {})
        if doc.get("document") == "modulemd":
            key = data["name"] + ":" + data["stream"]
            streams.setdefault(key, set()).update(data.get("artifacts", {}).get("rpms", []))
        elif doc.get("document") == "modulemd-defaults" and "stream" in data:
            defaults[data["module"]] = data["stream"]

host_modules = {s.split(":")[0] for s in enabled}
active = set(enabled) | {m + ":" + s for m, s in defaults.items() if m not in host_modules}
owner = {}
for key, nevras in streams.items():
    for n in nevras:
        owner.setdefault(n, set()).add(key)
hidden_names = set()
for key in active:
    for n in streams.get(key, ()):
        if n.endswith(".src") or n.endswith(".nosrc"):
            continue
        hidden_names.add(n.split(":")[0].rsplit("-", 1)[0])

NS = "{http://linux.duke.edu/metadata/common}"
available = {}
with gzip.open(primary_path) as f:
    for _, el in ET.iterparse(f):
        if el.tag != NS + "package":
            continue
        name = el.find(NS + "name").text
        arch = el.find(NS + "arch").text
        v = el.find(NS + "version")
        evr = (v.get("epoch") or "0", v.get("ver"), v.get("rel"))
        el.clear()
        if arch in ("src", "nosrc"):
            continue
        nevra = "%s-%s:%s-%s.%s" % (name, evr[0], evr[1], evr[2], arch)
        if nevra in owner:
            if not owner[nevra] & active:
                continue
        elif name in hidden_names:
            continue
        available.setdefault(name, []).append((arch, evr))

newest = {}
with open(installed_path) as f:
    for line in f:
        name, epoch, version, release, arch = line.split()
        evr = (epoch, version, release)
        key = (name, arch)
        if key not in newest or rpm.labelCompare(evr, newest[key]) > 0:
            newest[key] = evr


def fmt(evr):
    return "%s:%s-%s" % evr


out = []
for (name, arch), evr in newest.items():
    ok = {arch, "noarch"} | ({host_arch} if arch == "noarch" else set())
    cands = [e for a, e in available.get(name, []) if a in ok]
    if not cands:
        continue
    best = max(cands, key=functools.cmp_to_key(rpm.labelCompare))
    if rpm.labelCompare(best, evr) > 0:
        out.append("%s %s %s %s" % (name, arch, fmt(evr), fmt(best)))
for line in sorted(out):
    print(line)
