#!/usr/bin/env python3
"""Regenerates the bad-input corpora and expected.tsv (run from anywhere)."""
import os; os.chdir(os.path.dirname(os.path.abspath(__file__)))
import json, os
idx=[]
def w(path, data, expect):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data,str): data=data.encode()
    open(path,'wb').write(data)
    idx.append((path,expect))
H="#\narch: x86_64\nhost: node1.example.org\nkernel: 6.1.0-18-amd64\npackager: dpkg\nsystem: Debian GNU/Linux 12\n#\n"
P="adduser\t3.134\tall\nlibc6\t2.36-9+deb12u4\tamd64\n"
w('pakiti5/empty.txt', "", "the report is empty")
w('pakiti5/blank-lines-only.txt', "\n\n  \n", "the report is empty")
w('pakiti5/truncated-header.txt', "#\narch: x86_64\nhost: node1.example.org\nkernel: 6.1.0-1", "line 4: the header is not closed by a `#` line")
w('pakiti5/truncated-package-line.txt', H+P+"libssl3\t3.0.11-1~deb12u2", "line 10: package line has 2 fields, expected name, version, arch")
w('pakiti5/truncated-after-name.txt', H+P+"libss", "line 10: package line has 1 field, expected name, version, arch")
w('pakiti5/binary-junk.bin', bytes([0x8f,0x02,0xff,0x00,0x10,0x9c,0x30,0x82])*32, "line 1: not valid UTF-8")
w('pakiti5/unencrypted-der-looking.bin', bytes([0x30,0x82,0x01,0x9b,0x06,0x09,0x2a,0x86,0x48,0x86,0xf7,0x0d,0x01,0x07,0x03]), "line 1: not valid UTF-8")
w('pakiti5/invalid-utf8-in-package.txt', (H+P).encode()+b"caf\xc3\x28\t1.0\tall\n#\n", "line 10: not valid UTF-8")
w('pakiti5/missing-host.txt', H.replace("host: node1.example.org\n","")+P+"#\n", "header: `host` is missing")
w('pakiti5/empty-host.txt', H.replace("host: node1.example.org","host:   ")+P+"#\n", "header: `host` is empty")
w('pakiti5/host-with-space.txt', H.replace("node1.example.org","node1 example")+P+"#\n", "hostname: contains the character ' '")
w('pakiti5/empty-package-name.txt', H+P+"\t1.0\tall\n#\n", "line 10: package name is empty")
w('pakiti5/empty-version.txt', H+P+"bash\t\tamd64\n#\n", "line 10: version of package `bash` is empty")
w('pakiti5/four-fields.txt', H+"bash\t5.2.15-2+b7\tamd64\textra\n#\n", "line 8: package line has 4 fields, expected name, version, arch")
w('pakiti5/two-space-fields.txt', H+"bash 5.2.15-2+b7\n#\n", "line 8: package line has 2 fields")
w('pakiti5/header-without-colon.txt', "#\nhost node1\n#\n", "line 2: header line `host node1` has no `:`")
w('pakiti5/no-opening-hash.txt', "host: node1.example.org\npackager: dpkg\n", "line 1: expected `#` to open the header")
w('pakiti5/form-encoded.txt', "%23%0Ahost%3A+node1%0A", "line 1: expected `#` to open the header")
w('pakiti5/pkg-packager.txt', H.replace("packager: dpkg","packager: pkg")+"bash\t5.2\tamd64\n#\n", "packager `pkg` (FreeBSD) is not supported")
w('pakiti5/unknown-packager.txt', H.replace("packager: dpkg","packager: msi")+"#\n", "line 5: packager: unknown packager `msi`; expected rpm or dpkg")
w('pakiti5/svmon-unknown-os.txt', H.replace("packager: dpkg","packager: svmon").replace("Debian GNU/Linux 12","Haiku R1")+"#\n", "line 5: packager: `svmon` does not say which package manager the host uses, and the OS string `Haiku R1` does not tell either")
w('pakiti5/text-after-end.txt', H+P+"#\nbash\t5.2\tamd64\n", "line 11: unexpected text `bash")
w('pakiti5/control-character-in-name.txt', H+"ba\x07sh\t5.2\tamd64\n#\n", "packages[0].name: contains a control character")
w('pakiti5/no-packager-unknown-os.txt', H.replace("packager: dpkg\n","").replace("Debian GNU/Linux 12","Haiku R1")+"#\n", "header: no packager given, and the OS string `Haiku R1` does not tell either")
w('pakiti5/version-only-epoch.txt', H+"bash\t1:\tamd64\n#\n", "line 8: version `1:` of package `bash` has no version part")

w('pakiti5/escape-in-system.txt', H.replace("Debian GNU/Linux 12","Debian GNU/Linux 12\x1b]0;owned\x07")+P+"#\n", "os: contains a control character (U+001B)")
w('pakiti5/homoglyph-host.txt', H.replace("node1.example.org","node1.ex\u0430mple.org")+P+"#\n", "hostname: contains the character U+0430, which no DNS name contains")
w('pakiti5/zero-width-host.txt', H.replace("node1.example.org","node1\u200b.example.org")+P+"#\n", "hostname: contains the character U+200B")
w('pakiti5/empty-label-host.txt', H.replace("node1.example.org","node1..example.org")+P+"#\n", "hostname: \"node1..example.org\" has an empty label")

def form(path, pairs, expect):
    w(path, json.dumps(pairs, indent=1)+"\n", expect)
F4=[["type","rpm"],["host","wn01.example.org"],["os","CentOS Linux release 7.9.2009 (Core)"],["arch","x86_64"],["kernel","3.10.0-1160.el7.x86_64"],["report","0"]]
def f4(pkgs, drop=None, **over):
    out=[[k,over.get(k,v)] for k,v in F4 if k!=drop]
    if pkgs is not None: out.append(["pkgs",pkgs])
    return out
form('pakiti4/missing-host.json', f4("'bash' '0:4.2.46' '34.el7' 'x86_64'", drop="host"), "host: is missing")
form('pakiti4/empty-host.json', f4("'bash' '0:4.2.46' '34.el7' 'x86_64'", host=" "), "host: is empty")
form('pakiti4/missing-pkgs.json', f4(None), "pkgs: is missing")
form('pakiti4/unquoted-field.json', f4("'bash' 0:4.2.46 '34.el7' 'x86_64'"), "pkgs line 1: field 2 at column 8 is not single-quoted: `0:4.2.46`")
form('pakiti4/unterminated-quote.json', f4("'bash' '0:4.2.46' '34.el7' 'x86_64'\n'glibc' '0:2.17"), "pkgs line 2: field 2 at column 9 has no closing quote")
form('pakiti4/double-quotes.json', f4("\"bash\" \"0:4.2.46\" \"34.el7\" \"x86_64\""), "pkgs line 1: field 1 at column 1 is not single-quoted")
form('pakiti4/three-fields.json', f4("'bash' '0:4.2.46-34.el7' 'x86_64'"), "pkgs line 1: 3 fields, expected 'name' 'version' 'release' 'arch'")
form('pakiti4/five-fields.json', f4("'bash' '0' '4.2.46' '34.el7' 'x86_64'"), "pkgs line 1: 5 fields")
form('pakiti4/empty-name.json', f4("'bash' '0:4.2.46' '34.el7' 'x86_64'\n'' '1.0' '1' 'noarch'"), "pkgs line 2: package name is empty")
form('pakiti4/empty-version.json', f4("'bash' '' '34.el7' 'x86_64'"), "pkgs line 1: version of package `bash` is empty")
form('pakiti4/bad-report.json', f4("", report="7"), "report: unknown value `7`; expected 0, 1 or 2")
form('pakiti4/bad-proxy.json', f4("")+[["proxy","yes"]], "proxy: unknown value `yes`")
form('pakiti4/bsd-type.json', f4("", type="pkg"), "type: packager `pkg` (FreeBSD) is not supported")
form('pakiti4/binary-junk-in-name.json', f4("'\u0000\u0001\u0002' '1' '2' 'x86_64'"), "packages[0].name: contains a control character")

form('pakiti4/escape-in-os.json', f4("'bash' '0:4.2.46' '34.el7' 'x86_64'", os="CentOS\u001b[2J"), "os: contains a control character (U+001B)")

F1=[["host","web1.example.com"],["tags","Default"],["kernel","6.1.0-18-amd64"],["arch","x86_64"],["protocol","1"],["os","Debian 12.5"],["report","false"],["reboot","ServerCheck"]]
def f1(**over):
    d=dict(F1); d.update(over)
    return [[k,v] for k,v in d.items() if v is not None]
GOODP="'bash' '' '5.2.15' '2+b7' 'amd64' 'deb'"
form('patchman1/missing-host.json', f1(host=None, packages=GOODP), "host: is missing")
form('patchman1/empty-host.json', f1(host="", packages=GOODP), "host: is empty")
form('patchman1/unquoted-package.json', f1(packages="bash 5.2.15-2+b7 amd64 deb"), "packages line 1: field 1 at column 1 is not single-quoted: `bash`")
form('patchman1/unterminated-quote.json', f1(packages=GOODP+"\n'vim' '2' '9.0.1378' '2' 'amd64' 'deb"), "packages line 2: field 6 at column 34 has no closing quote")
form('patchman1/five-fields.json', f1(packages="'bash' '5.2.15' '2+b7' 'amd64' 'deb'"), "packages line 1: 5 fields, expected 'name' 'epoch' 'version' 'release' 'arch' 'type'")
form('patchman1/seven-fields.json', f1(packages="'bash' '' '5.2.15' '2+b7' 'amd64' 'deb' 'x'"), "packages line 1: 7 fields")
form('patchman1/unknown-package-type.json', f1(packages="'bash' '' '5.2.15' '2+b7' 'amd64' 'msi'"), "packages line 1: unknown package type `msi`, expected deb, rpm, arch or gentoo")
form('patchman1/empty-name.json', f1(packages=GOODP+"\n'' '' '1.0' '1' 'all' 'deb'"), "packages line 2: package name is empty")
form('patchman1/empty-version.json', f1(packages="'bash' '' '' '2+b7' 'amd64' 'deb'"), "packages line 1: version of package `bash` is empty")
form('patchman1/bad-repo-priority.json', f1(repos="'deb' 'Debian 12' 'high' 'http://deb.debian.org/debian/dists/bookworm/main/binary-amd64'"), "repos line 1: priority `high` is not a number")
form('patchman1/too-few-repo-fields.json', f1(repos="'rpm' 'BaseOS'"), "repos line 1: 2 fields are too few for a `rpm` repository")
form('patchman1/unknown-repo-type.json', f1(repos="'zypp' 'x' '1' 'http://x'"), "repos line 1: unknown repository type `zypp`")
form('patchman1/update-not-triples.json', f1(sec_updates="openssl.x86_64 1:3.0.7-27.el9"), "sec_updates: has 2 words, expected triples")
form('patchman1/bad-report.json', f1(report="maybe"), "report: unknown value `maybe`; expected true or false")
form('patchman1/bad-reboot.json', f1(reboot="Perhaps"), "reboot: unknown value `Perhaps`")
form('patchman1/control-character-in-name.json', f1(packages="'ba\u001bsh' '' '5.2.15' '2+b7' 'amd64' 'deb'"), "packages[0].name: contains a control character")
form('patchman1/host-with-slash.json', f1(host="web1/evil"), "hostname: contains the character '/'")

form('patchman1/escape-in-os.json', f1(os="Debian 12.5\u009b31m", packages=GOODP), "os: contains a control character (U+009B)")
form('patchman1/bidi-override-host.json', f1(host="web1.\u202egro.elpmaxe", packages=GOODP), "hostname: contains the character U+202E")

G={"protocol":2,"hostname":"web1.example.com","arch":"x86_64","kernel":"6.1.0-18-amd64","os":"Debian 12.5","tags":["Server"],"reboot_required":False,
   "packages":[{"name":"bash","epoch":"","version":"5.2.15","release":"2+b7","arch":"amd64","type":"deb","category":"","repo":""}],
   "repos":[{"type":"deb","name":"Debian 12","id":"","priority":500,"urls":["http://deb.debian.org/debian/dists/bookworm/main/binary-amd64"]}],
   "modules":[],"sec_updates":[],"bug_updates":[]}
good=json.dumps(G)
def j(path, mutate, expect):
    d=json.loads(good); mutate(d); w(path, json.dumps(d, indent=1)+"\n", expect)
w('patchman2/empty.json', "", "invalid JSON report: EOF while parsing a value")
w('patchman2/truncated.json', good[:len(good)//2], "invalid JSON report: EOF while parsing")
w('patchman2/binary-junk.bin', bytes([0x8f,0x02,0xff,0x00,0x10,0x9c])*20, "invalid JSON report: expected an object, found byte 0x8f")
w('patchman2/invalid-utf8.json', good.encode().replace(b'"bash"', b'"ba\xffsh"'), "invalid JSON report: invalid unicode code point")
w('patchman2/not-json.json', "hostname=web1&arch=x86_64", "invalid JSON report: expected an object, found `h`")
w('patchman2/trailing-comma.json', good[:-1]+",}", "invalid JSON report: trailing comma")
w('patchman2/top-level-array.json', "[]", "invalid JSON report: expected an object, found `[`")
j('patchman2/missing-hostname.json', lambda d: d.pop("hostname"), "hostname: This field is required.")
j('patchman2/missing-os.json', lambda d: d.pop("os"), "os: This field is required.")
j('patchman2/blank-kernel.json', lambda d: d.update(kernel="  "), "kernel: may not be blank")
j('patchman2/hostname-is-a-number.json', lambda d: d.update(hostname=42), "hostname: invalid type: integer `42`, expected a string")
j('patchman2/packages-not-a-list.json', lambda d: d.update(packages="bash"), "packages: invalid type: string \"bash\", expected a sequence")
j('patchman2/package-missing-version.json', lambda d: d["packages"][0].pop("version"), "packages[0]: missing field `version`")
j('patchman2/package-version-is-a-list.json', lambda d: d["packages"][0].update(version=["5"]), "packages[0].version: invalid type: sequence, expected a string")
j('patchman2/unknown-package-type.json', lambda d: d["packages"][0].update(type="msi"), "packages[0]: unknown package type `msi`")
j('patchman2/empty-package-name.json', lambda d: d["packages"][0].update(name=""), "packages[0]: package name is empty")
j('patchman2/bad-priority.json', lambda d: d["repos"][0].update(priority="high"), "repos[0]: priority `high` is not a number")
j('patchman2/wrong-protocol.json', lambda d: d.update(protocol=1), "protocol: expected 2, found 1")
j('patchman2/bad-reboot.json', lambda d: d.update(reboot_required="maybe"), "reboot_required: unknown value `maybe`")
j('patchman2/tags-is-a-number.json', lambda d: d.update(tags=5), "tags: data did not match any variant")
j('patchman2/update-missing-version.json', lambda d: d.update(sec_updates=[{"name":"openssl"}]), "sec_updates[0]: missing field `version`")

j('patchman2/too-many-tags.json', lambda d: d.update(tags=["t%d" % i for i in range(65)]), "tags: has 65 entries; at most 64 allowed")
j('patchman2/escape-in-os.json', lambda d: d.update(os="Debian\u001b]0;owned\u0007"), "os: contains a control character (U+001B)")

N={"format_version":1,"hostname":"node1.example.org","os":{"id":"debian","version_id":"12"},"kernel":{"release":"6.1.0-18-amd64"},"arch":"x86_64",
   "packages":[{"name":"libc6","version":"2.36","release":"9+deb12u4","arch":"amd64","type":"deb"}]}
ngood=json.dumps(N)
def n(path, mutate, expect):
    d=json.loads(ngood); mutate(d); w(path, json.dumps(d, indent=1)+"\n", expect)
w('native/truncated.json', ngood[:40], "EOF")
w('native/binary-junk.bin', bytes([0x8f,0x02,0xff,0x00,0x10,0x9c])*20, "the report is not valid UTF-8 (at byte 0)")
w('native/invalid-utf8.json', ngood.encode().replace(b'"libc6"', b'"lib\xffc6"'), "the report is not valid UTF-8 (at byte")
n('native/missing-hostname.json', lambda d: d.pop("hostname"), "missing field `hostname`")
n('native/future-version.json', lambda d: d.update(format_version=2), "unsupported format_version 2")
n('native/version-is-a-string.json', lambda d: d.update(format_version="1"), "format_version: expected the integer 1")
n('native/empty-package-name.json', lambda d: d["packages"][0].update(name=""), "packages[0].name: is empty")
n('native/unknown-package-type.json', lambda d: d["packages"][0].update(type="msi"), "packages[0].type: unknown variant `msi`")
n('native/packages-missing.json', lambda d: d.pop("packages"), "missing field `packages`")
n('native/hostname-with-space.json', lambda d: d.update(hostname="node 1"), "hostname: contains the character ' '")

n('native/escape-in-pretty-name.json', lambda d: d["os"].update(pretty_name="Debian\u001b]0;owned\u0007"), "os.pretty_name: contains a control character (U+001B)")
n('native/bel-in-kernel-version.json', lambda d: d["kernel"].update(version="#1 SMP\u0007"), "kernel.version: contains a control character (U+0007)")
n('native/escape-in-client-name.json', lambda d: d.update(client={"name":"x\u001b[31m","version":"1"}), "client.name: contains a control character (U+001B)")
n('native/escape-in-reboot-reason.json', lambda d: d.update(reboot={"required":True,"reasons":["\u001b[2J"]}), "reboot.reasons[0]: contains a control character (U+001B)")
n('native/too-many-tags.json', lambda d: d.update(tags=["t%d" % i for i in range(65)]), "tags: has 65 entries; at most 64 allowed")
n('native/too-many-reboot-reasons.json', lambda d: d.update(reboot={"required":True,"reasons":["kernel"]*65}), "reboot.reasons: has 65 entries; at most 64 allowed")
n('native/too-many-repositories.json', lambda d: d.update(repositories=[{"type":"deb","name":"r%d" % i} for i in range(1025)]), "repositories: has 1025 entries; at most 1024 allowed")
n('native/too-many-repository-urls.json', lambda d: d.update(repositories=[{"type":"deb","name":"main","urls":["http://deb.debian.org/debian"]*65}]), "repositories[0].urls: has 65 entries; at most 64 allowed")
n('native/long-pretty-name.json', lambda d: d["os"].update(pretty_name="D"*1025), "os.pretty_name: is 1025 bytes long; at most 1024 allowed")
n('native/long-os-id.json', lambda d: d["os"].update(id="d"*1025), "os.id: is 1025 bytes long; at most 1024 allowed")
n('native/bidi-override-hostname.json', lambda d: d.update(hostname="node1.\u202egro.elpmaxe"), "hostname: contains the character U+202E")
n('native/homoglyph-hostname.json', lambda d: d.update(hostname="n\u043ede1.example.org"), "hostname: contains the character U+043E")

with open('expected.tsv','w') as f:
    f.write("# corpus file<TAB>substring the parser's error message must contain\n")
    for p,e in idx:
        assert '\n' not in e and '\t' not in e
        f.write(p+"\t"+e+"\n")
print(len(idx))
