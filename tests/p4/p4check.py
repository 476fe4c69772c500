#!/usr/bin/env python3
"""p4check.py - a structural checker for the P4_16 programs htsc generates.

p4c is not packaged for Debian 12 (`apt-cache policy p4lang-p4c p4c` finds
neither), so the generated P4 has never been through p4c here. This checker
is the test we can run instead; it does NOT claim what p4c would: it parses
the subset of P4_16 htsc emits (the tutorials' layout) and checks

  * layout: includes, constants, typedefs, headers, structs, parser,
    controls, main, in that order; braces and parentheses balanced;
  * declared before use: types, constants, header and struct members
    (hdr.X.Y, meta.X, standard metadata), actions, tables, registers and
    externs used in a control, parser states named in transitions;
  * widths: both sides of an assignment, comparison or arithmetic operator,
    register reads/writes, `?:` branches and `++` concatenations agree,
    where both widths are known (integer literals without a width adapt);
  * the architecture: only its externs, match kinds and hash algorithms
    (v1model: v1model.p4; tna: tna.p4; xsa: xsa.p4), tables with key (or
    none), actions, size and default_action, default actions listed.

Usage: p4check.py FILE.p4...   (exit 1 and one line per problem)
"""
import re
import sys

TOKEN = re.compile(r"""
    (?P<ws>\s+) | (?P<lc>//[^\n]*) | (?P<bc>/\*.*?\*/) | (?P<pp>\#[^\n]*) |
    (?P<str>"[^"\n]*") |
    (?P<num>\d+[ws]0[xX][0-9a-fA-F_]+ | \d+[ws]\d+ | 0[xX][0-9a-fA-F_]+ | \d+) |
    (?P<id>[A-Za-z_][A-Za-z0-9_]*) |
    (?P<op>&&&|\+\+|&&|\|\||==|!=|<=|>=|<<|[-+*/%&|^~!<>=?:;,.(){}\[\]@])
""", re.S | re.X)

ARCH = {
    "v1model": {
        "externs": {"mark_to_drop", "clone_preserving_field_list", "clone", "truncate",
                    "hash", "update_checksum", "verify_checksum", "NoAction"},
        "objects": {"register": "register"},
        "match": {"exact", "ternary", "lpm", "range", "optional"},
        "hash": {"crc32", "crc16", "csum16", "identity", "random", "xor16"},
        "std": {"standard_metadata": {
            "ingress_port": 9, "egress_spec": 9, "egress_port": 9, "instance_type": 32,
            "packet_length": 32, "enq_timestamp": 32, "enq_qdepth": 19, "deq_timedelta": 32,
            "deq_qdepth": 19, "ingress_global_timestamp": 48, "egress_global_timestamp": 48,
            "mcast_grp": 16, "egress_rid": 16, "checksum_error": 1, "priority": 3}},
        "consts": {"BMV2_V1MODEL_INSTANCE_TYPE_INGRESS_CLONE": 32,
                   "BMV2_V1MODEL_INSTANCE_TYPE_NORMAL": 32},
        "package": "V1Switch",
        "types": ("standard_metadata_t",),
    },
    "tna": {
        "externs": {"NoAction"},
        "objects": {"Register": "Register", "RegisterAction": "RegisterAction",
                    "Hash": "Hash", "Mirror": "Mirror", "Checksum": "Checksum"},
        "match": {"exact", "ternary", "lpm", "range"},
        "hash": {"CRC32", "CRC16", "IDENTITY", "RANDOM"},
        "std": {
            "ig_intr_md": {"ingress_port": 9, "ingress_mac_tstamp": 48, "resubmit_flag": 1},
            "ig_prsr_md": {"global_tstamp": 48},
            "ig_dprsr_md": {"drop_ctl": 3, "mirror_type": 3},
            "ig_tm_md": {"ucast_egress_port": 9, "bypass_egress": 1},
            "eg_intr_md": {"egress_port": 9, "pkt_length": 16},
            "eg_prsr_md": {"global_tstamp": 48},
            "eg_dprsr_md": {"drop_ctl": 3},
            "eg_oport_md": {},
        },
        "consts": {"PORT_METADATA_SIZE": 32},
        "package": "Switch",
    },
    "xsa": {
        "externs": {"NoAction"},
        "objects": {},
        "match": {"exact", "ternary", "lpm"},
        "hash": set(),
        # xsa.p4's standard metadata; the smartnic_metadata struct is the
        # program's own (esnet-smartnic-hw's examples declare it)
        "std": {"smeta": {"drop": 1, "parser_error": None}},
        "consts": {},
        "package": "XilinxPipeline",
        "types": ("standard_metadata_t",),
    },
}

SECTION_ORDER = ["include", "const", "typedef", "header", "struct", "parser", "control", "main"]


class Problem(Exception):
    pass


def tokenize(text):
    toks = []
    pos, line = 0, 1
    for m in TOKEN.finditer(text):
        if m.start() != pos:
            raise Problem("line %d: unexpected character %r" % (line, text[pos]))
        kind = m.lastgroup
        val = m.group()
        if kind == "pp":
            toks.append(("pp", val, line))
        elif kind not in ("ws", "lc", "bc"):
            toks.append((kind, val, line))
        line += val.count("\n")
        pos = m.end()
    if pos != len(text):
        raise Problem("line %d: unexpected character" % line)
    return toks


def lit_width(v):
    m = re.match(r"(\d+)[ws]", v)
    return int(m.group(1)) if m else None


class Checker:
    def __init__(self, path, text):
        self.path = path
        self.toks = tokenize(text)
        self.i = 0
        self.problems = []
        self.types = {"bool": 1}
        self.headers = {}   # name -> {field: width}
        self.structs = {}   # name -> {field: type name or width}
        self.consts = {}
        self.arch = None
        self.section = 0

    # -- token helpers --
    def peek(self, k=0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("eof", "", self.toks[-1][2] if self.toks else 0)

    def next(self):
        t = self.peek()
        self.i += 1
        return t

    def expect(self, val):
        t = self.next()
        if t[1] != val:
            raise Problem("line %d: expected '%s', found '%s'" % (t[2], val, t[1]))
        return t

    def err(self, line, msg):
        self.problems.append("%s:%d: %s" % (self.path, line, msg))

    def enter(self, sec, line):
        idx = SECTION_ORDER.index(sec)
        if idx < self.section:
            self.err(line, "%s after %s: not the tutorials' order" % (sec, SECTION_ORDER[self.section]))
        self.section = max(self.section, idx)

    # -- types --
    def parse_type(self):
        t = self.next()
        name = t[1]
        if name in ("bit", "int", "varbit"):
            self.expect("<")
            w = self.next()[1]
            self.expect(">")
            width = int(w) if w.isdigit() else self.consts.get(w)
            return ("%s<%s>" % (name, w), width)
        if name == "bool":
            return ("bool", 1)
        if name in self.types:
            return (name, self.types[name])
        if name in self.headers or name in self.structs:
            return (name, None)
        self.err(t[2], "type '%s' used before it is declared" % name)
        return (name, None)

    def skip_annotations(self):
        while self.peek()[1] == "@":
            self.next()
            self.next()
            if self.peek()[1] == "(":
                self.skip_group("(", ")")

    def skip_group(self, o, c):
        depth = 0
        while True:
            t = self.next()
            if t[0] == "eof":
                raise Problem("unbalanced '%s'" % o)
            if t[1] == o:
                depth += 1
            elif t[1] == c:
                depth -= 1
                if depth == 0:
                    return

    def fields(self):
        self.expect("{")
        res = {}
        while self.peek()[1] != "}":
            self.skip_annotations()
            tname, width = self.parse_type()
            stack = None
            if self.peek()[1] == "[":
                self.next()
                stack = int(self.next()[1])
                self.expect("]")
            fname = self.next()
            if fname[1] in res:
                self.err(fname[2], "member '%s' declared twice" % fname[1])
            res[fname[1]] = (tname, width, stack)
            self.expect(";")
        self.expect("}")
        return res

    # -- top level --
    def run(self):
        while self.peek()[0] != "eof":
            t = self.peek()
            if t[0] == "pp":
                self.next()
                self.enter("include", t[2])
                m = re.match(r'#include\s*<(\w+)\.p4>', t[1])
                if m and m.group(1) in ARCH:
                    self.arch = ARCH[m.group(1)]
                    self.consts.update(self.arch["consts"])
                    for ty in ("packet_in", "packet_out") + tuple(self.arch.get("types", ())):
                        self.types[ty] = None
                continue
            if self.arch is None:
                raise Problem("no architecture include before line %d" % t[2])
            if t[1] == "const":
                self.next()
                self.enter("const", t[2])
                _, width = self.parse_type()
                name = self.next()[1]
                self.expect("=")
                v = self.next()[1]
                self.expect(";")
                self.consts[name] = width
            elif t[1] == "typedef":
                self.next()
                self.enter("typedef", t[2])
                _, width = self.parse_type()
                self.types[self.next()[1]] = width
                self.expect(";")
            elif t[1] == "header":
                self.next()
                self.enter("header", t[2])
                name = self.next()[1]
                self.headers[name] = {k: v[1] for k, v in self.fields().items()}
            elif t[1] == "struct":
                self.next()
                self.enter("struct", t[2])
                name = self.next()[1]
                self.structs[name] = self.fields()
            elif t[1] == "parser":
                self.next()
                self.enter("parser", t[2])
                self.parser()
            elif t[1] == "control":
                self.next()
                self.enter("control", t[2])
                self.control()
            elif t[1] == self.arch["package"]:
                self.enter("main", t[2])
                self.next()
                self.skip_group("(", ")")
                if self.next()[1] != "main":
                    self.err(t[2], "package instance must be named main")
                self.expect(";")
            else:
                raise Problem("line %d: unexpected '%s' at top level" % (t[2], t[1]))
        if self.section != SECTION_ORDER.index("main"):
            self.err(0, "no main package instance at the end")

    def params(self):
        """(dir? type name, ...) -> {name: type}"""
        self.expect("(")
        env = {}
        while self.peek()[1] != ")":
            if self.peek()[1] in ("in", "out", "inout"):
                self.next()
            tname, width = self.parse_type()
            name = self.next()[1]
            env[name] = tname
            if self.peek()[1] == ",":
                self.next()
        self.expect(")")
        return env

    def parser(self):
        self.next()  # name
        env = self.params()
        self.expect("{")
        states, targets = set(), []
        while self.peek()[1] == "state":
            self.next()
            states.add(self.next()[1])
            self.expect("{")
            depth = 1
            while depth:
                t = self.next()
                if t[1] == "{":
                    depth += 1
                elif t[1] == "}":
                    depth -= 1
                elif t[1] == "transition":
                    pass
                elif t[0] == "id" and self.peek()[1] == ";" and self.toks[self.i - 2][1] in (":", "transition"):
                    targets.append(t)
                elif t[0] == "id" and self.peek()[1] in (".", "["):
                    self.i -= 1
                    self.expr(env, {"actions": set(), "tables": set(), "regs": {}, "vars": {}})
        self.expect("}")
        if "start" not in states:
            self.err(0, "parser has no start state")
        for t in targets:
            if t[1] not in states and t[1] not in ("accept", "reject"):
                self.err(t[2], "transition to undeclared state '%s'" % t[1])

    # -- controls --
    def control(self):
        self.next()  # name
        env = self.params()
        self.expect("{")
        local = {"actions": {"NoAction"}, "tables": set(), "regs": {}, "vars": {}}
        while self.peek()[1] != "apply":
            t = self.peek()
            if t[1] == "action":
                self.next()
                name = self.next()[1]
                aenv = self.params()
                self.block(env, local, aenv)
                local["actions"].add(name)
            elif t[1] == "table":
                self.next()
                self.table(env, local)
            elif t[1] in self.arch["objects"] or t[1] == "register":
                self.next()
                ext = t[1]
                if ext not in self.arch["objects"]:
                    self.err(t[2], "extern '%s' is not in this architecture" % ext)
                width = None
                if self.peek()[1] == "<":
                    self.next()
                    _, width = self.parse_type()
                    while self.peek()[1] != ">":
                        self.next()
                    self.expect(">")
                self.skip_group("(", ")")
                name = self.next()[1]
                local["regs"][name] = width
                self.expect(";")
            elif t[1] in self.structs and self.peek(1)[0] == "id" and self.peek(2)[1] == ";":
                self.next()
                env[self.next()[1]] = t[1]  # a control-local struct instance
                self.next()
            else:
                raise Problem("line %d: unexpected '%s' in a control" % (t[2], t[1]))
        self.expect("apply")
        self.block(env, local, {})
        self.expect("}")

    def table(self, env, local):
        name_t = self.next()
        self.expect("{")
        props = {}
        while self.peek()[1] != "}":
            p = self.next()
            if p[1] == "key":
                self.expect("=")
                self.expect("{")
                while self.peek()[1] != "}":
                    self.expr(env, local)
                    self.expect(":")
                    mk = self.next()
                    if mk[1] not in self.arch["match"]:
                        self.err(mk[2], "match kind '%s' is not in this architecture" % mk[1])
                    self.expect(";")
                self.expect("}")
                props["key"] = True
            elif p[1] == "actions":
                self.expect("=")
                self.expect("{")
                acts = []
                while self.peek()[1] != "}":
                    a = self.next()
                    if a[1] not in local["actions"]:
                        self.err(a[2], "action '%s' used before it is declared" % a[1])
                    acts.append(a[1])
                    self.expect(";")
                self.expect("}")
                props["actions"] = acts
            elif p[1] in ("size", "default_action"):
                self.expect("=")
                v = self.next()
                if p[1] == "default_action":
                    if v[1] not in props.get("actions", []):
                        self.err(v[2], "default action '%s' not in the table's actions" % v[1])
                    if self.peek()[1] == "(":
                        self.skip_group("(", ")")
                props[p[1]] = v[1]
                self.expect(";")
            else:
                raise Problem("line %d: unknown table property '%s'" % (p[2], p[1]))
        self.expect("}")
        for need in ("actions", "size", "default_action"):
            if need not in props:
                self.err(name_t[2], "table %s has no %s" % (name_t[1], need))
        local["tables"].add(name_t[1])

    def block(self, env, local, aenv):
        self.expect("{")
        while self.peek()[1] != "}":
            self.stmt(env, local, aenv)
        self.expect("}")

    def stmt(self, env, local, aenv):
        t = self.peek()
        if t[1] == "{":
            self.block(env, local, aenv)
        elif t[1] == "if":
            self.next()
            self.expect("(")
            self.expr(env, local, aenv)
            self.expect(")")
            self.stmt(env, local, aenv)
            if self.peek()[1] == "else":
                self.next()
                self.stmt(env, local, aenv)
        elif t[1] in ("bit", "int", "bool"):
            tname, width = self.parse_type()
            name = self.next()[1]
            local["vars"][name] = width
            if self.peek()[1] == "=":
                self.next()
                w = self.expr(env, local, aenv)
                self.agree(width, w, t[2], "initialiser of %s" % name)
            self.expect(";")
        elif t[1] == "return":
            self.next()
            self.expect(";")
        else:
            lw = self.expr(env, local, aenv)
            if self.peek()[1] == "=":
                self.next()
                rw = self.expr(env, local, aenv)
                self.agree(lw, rw, t[2], "assignment")
            self.expect(";")

    def agree(self, a, b, line, what):
        if a and b and a != b:  # 0: an unsized literal, which adapts
            self.err(line, "width mismatch in %s: %s vs %s" % (what, a, b))

    # -- expressions: return a width (int), 0 for an integer literal, None unknown --
    BIN = [["?"], ["||"], ["&&"], ["==", "!=", "<", ">", "<=", ">="], ["|"], ["^"], ["&"],
           ["<<"], ["++"], ["+", "-"], ["*", "/", "%"]]

    def expr(self, env, local, aenv=None, level=0):
        aenv = aenv or {}
        if level == len(self.BIN):
            return self.unary(env, local, aenv)
        ops = self.BIN[level]
        if ops == ["?"]:
            c = self.expr(env, local, aenv, level + 1)
            if self.peek()[1] == "?":
                line = self.next()[2]
                a = self.expr(env, local, aenv, level + 1)
                self.expect(":")
                b = self.expr(env, local, aenv, level)
                if a and b:
                    self.agree(a, b, line, "?: branches")
                return a or b
            return c
        w = self.expr(env, local, aenv, level + 1)
        while self.peek()[1] in ops:
            _, op, line = self.next()
            r = self.expr(env, local, aenv, level + 1)
            if op in ("==", "!=", "<", ">", "<=", ">=", "&&", "||"):
                if op not in ("&&", "||") and w and r:
                    self.agree(w, r, line, "'%s'" % op)
                w = 1
            elif op == "++":
                w = (w or 0) + (r or 0) if w and r else None
            elif op == "<<":
                pass
            else:
                if w and r:
                    self.agree(w, r, line, "'%s'" % op)
                w = w or r
        return w

    def unary(self, env, local, aenv):
        t = self.peek()
        if t[1] in ("!", "~", "-"):
            self.next()
            w = self.unary(env, local, aenv)
            return 1 if t[1] == "!" else w
        if t[1] == "(":
            # a cast (type) or a parenthesised expression
            if self.peek(1)[1] in ("bit", "int", "bool") and self.peek(2)[1] in ("<", ")"):
                self.next()
                _, width = self.parse_type()
                self.expect(")")
                self.unary(env, local, aenv)
                return width
            self.next()
            w = self.expr(env, local, aenv)
            self.expect(")")
            return self.postfix(w, None, env, local, aenv)
        if t[1] == "{":
            self.next()
            while self.peek()[1] != "}":
                self.expr(env, local, aenv)
                if self.peek()[1] == ",":
                    self.next()
            self.expect("}")
            return None
        if t[0] == "num":
            self.next()
            return lit_width(t[1]) or 0
        if t[1] in ("true", "false"):
            self.next()
            return 1
        if t[0] == "id":
            return self.name(env, local, aenv)
        raise Problem("line %d: unexpected '%s' in an expression" % (t[2], t[1]))

    def name(self, env, local, aenv):
        t = self.next()
        n = t[1]
        if n in aenv:
            return aenv[n][1] if isinstance(aenv[n], tuple) else self.width_of_type(aenv[n])
        if n in local["vars"]:
            return self.postfix(local["vars"][n], None, env, local, aenv)
        if n in self.consts:
            return self.consts[n]
        if n == "HashAlgorithm" or n == "CloneType" or n == "HashAlgorithm_t" or n == "MirrorType_t":
            self.expect(".")
            m = self.next()
            if n.startswith("HashAlgorithm") and m[1] not in self.arch["hash"]:
                self.err(m[2], "hash algorithm '%s' is not in this architecture" % m[1])
            return None
        if n in env and env[n] in ("packet_in", "packet_out"):
            self.expect(".")
            m = self.next()
            ok = {"packet_in": {"extract", "advance", "lookahead", "length"},
                  "packet_out": {"emit"}}[env[n]]
            if m[1] not in ok:
                self.err(m[2], "%s has no method %s" % (env[n], m[1]))
            self.skip_group("(", ")")
            return None
        if n in env:
            tname = env[n]
            if tname in self.structs:
                return self.member(self.structs[tname], t, env, local, aenv)
            if n in self.arch["std"]:
                return self.std(n, env, local, aenv)
            return self.postfix(None, None, env, local, aenv)
        if n in self.arch["std"]:
            return self.std(n, env, local, aenv)
        if n in local["tables"] or n in local["regs"]:
            self.expect(".")
            m = self.next()
            self.expect("(")
            args = []
            while self.peek()[1] != ")":
                args.append(self.expr(env, local, aenv))
                if self.peek()[1] == ",":
                    self.next()
            self.expect(")")
            if n in local["regs"] and m[1] in ("read", "write"):
                val = args[0] if m[1] == "read" else (args[1] if len(args) > 1 else None)
                self.agree(local["regs"][n], val, m[2], "register %s.%s" % (n, m[1]))
            elif n in local["tables"] and m[1] != "apply":
                self.err(m[2], "tables have apply(), not %s()" % m[1])
            return None
        if n in local["actions"] and self.peek()[1] == "(":
            self.skip_group("(", ")")
            return None
        if self.peek()[1] == "(":
            if n not in self.arch["externs"]:
                self.err(t[2], "'%s' is not an extern of this architecture" % n)
            self.skip_group("(", ")")
            return None
        self.err(t[2], "'%s' used before it is declared" % n)
        return None

    def width_of_type(self, tname):
        m = re.match(r"(?:bit|int)<(\d+)>", tname or "")
        return int(m.group(1)) if m else self.types.get(tname)

    def std(self, n, env, local, aenv):
        self.expect(".")
        m = self.next()
        fields = self.arch["std"][n]
        if fields and m[1] not in fields:
            self.err(m[2], "%s has no field '%s'" % (n, m[1]))
        return fields.get(m[1])

    def member(self, fields, t, env, local, aenv):
        """struct access: X.member..."""
        self.expect(".")
        m = self.next()
        if m[1] not in fields:
            self.err(m[2], "'%s' has no member '%s'" % (t[1], m[1]))
            return self.postfix(None, None, env, local, aenv)
        tname, width, stack = fields[m[1]]
        if tname in self.headers:
            return self.header_access(self.headers[tname], stack, m, env, local, aenv)
        if tname in self.structs:
            return self.member(self.structs[tname], m, env, local, aenv)
        return self.postfix(width, None, env, local, aenv)

    def header_access(self, hfields, stack, m, env, local, aenv):
        if stack:
            if self.peek()[1] == "[":
                self.next()
                idx = self.next()
                if not idx[1].isdigit() or int(idx[1]) >= stack:
                    self.err(idx[2], "stack index %s out of range [0, %d)" % (idx[1], stack))
                self.expect("]")
            elif self.peek()[1] == "." and self.peek(1)[1] in ("next", "last"):
                self.next()
                self.next()
            elif self.peek()[1] == ".":
                self.next()
                meth = self.next()
                self.skip_group("(", ")")
                return None
            else:
                return None
        if self.peek()[1] != ".":
            return None
        self.next()
        f = self.next()
        if f[1] in ("isValid", "setValid", "setInvalid"):
            self.skip_group("(", ")")
            return 1
        if f[1] not in hfields:
            self.err(f[2], "header '%s' has no field '%s'" % (m[1], f[1]))
            return None
        return self.postfix(hfields[f[1]], None, env, local, aenv)

    def postfix(self, w, _, env, local, aenv):
        while self.peek()[1] == "[":
            self.next()
            hi = self.next()
            if self.peek()[1] == ":":
                self.next()
                lo = self.next()
                w = int(hi[1]) - int(lo[1]) + 1
            self.expect("]")
        return w


def main():
    bad = 0
    for path in sys.argv[1:]:
        try:
            c = Checker(path, open(path).read())
            c.run()
            for p in c.problems:
                print(p)
                bad += 1
        except Problem as e:
            print("%s: %s" % (path, e))
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
