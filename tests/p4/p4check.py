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
    none), actions, size and default_action, default actions listed and
    given as many arguments as the action has parameters (the constants of
    threshold and refinement-gate tables live there);
  * TNA (tna.p4): the externs Register, RegisterAction, Hash, Mirror and
    Checksum with their type arguments; a Register is read and written
    only through RegisterActions (no read()/write() on it), each
    RegisterAction names a declared Register with the same value and index
    types, execute() gets an index of that width; and on every path through
    an apply block (if/else branches are exclusive, tables run one of their
    actions) each register's RegisterActions execute at most once: the
    hardware gives a register array one stateful-ALU access per packet;
    parsers and controls may alternate (one pipe's gresses), and the
    Pipeline instance names declared parsers and controls.

Conditional blocks (#ifdef NAME / #else / #endif, as the test build's
time shim uses) are resolved first, as p4c's preprocessor would: without
-D NAME the #else branch is checked (the program users deploy).

Usage: p4check.py [-D NAME]... FILE.p4...   (exit 1 and one line per problem)
"""
import re
import sys

TOKEN = re.compile(r"""
    (?P<ws>\s+) | (?P<lc>//[^\n]*) | (?P<bc>/\*.*?\*/) | (?P<pp>\#[^\n]*) |
    (?P<str>"[^"\n]*") |
    (?P<num>\d+[ws]0[xX][0-9a-fA-F_]+ | \d+[ws]\d+ | 0[xX][0-9a-fA-F_]+ | \d+) |
    (?P<id>[A-Za-z_][A-Za-z0-9_]*) |
    (?P<op>\|\+\||\|-\||&&&|\+\+|&&|\|\||==|!=|<=|>=|<<|[-+*/%&|^~!<>=?:;,.(){}\[\]@])
""", re.S | re.X)

ARCH = {
    "v1model": {
        "externs": {"mark_to_drop", "clone_preserving_field_list", "resubmit_preserving_field_list", "clone", "truncate",
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
            "ig_intr_md": {"ingress_port": 9, "ingress_mac_tstamp": 48, "resubmit_flag": 1,
                           "packet_version": 2},
            "ig_prsr_md": {"global_tstamp": 48},
            "ig_dprsr_md": {"drop_ctl": 3, "mirror_type": 3},
            "ig_tm_md": {"ucast_egress_port": 9, "bypass_egress": 1},
            "eg_intr_md": {"egress_port": 9, "pkt_length": 16},
            "eg_prsr_md": {"global_tstamp": 48},
            "eg_dprsr_md": {"drop_ctl": 3},
            "eg_oport_md": {},
        },
        "consts": {"PORT_METADATA_SIZE": 32},  # a bit<32> constant (64 on Tofino-1)
        "package": "Switch",
        "pipeline": "Pipeline",
        "types": {"ingress_intrinsic_metadata_t": None,
                  "ingress_intrinsic_metadata_from_parser_t": None,
                  "ingress_intrinsic_metadata_for_deparser_t": None,
                  "ingress_intrinsic_metadata_for_tm_t": None,
                  "egress_intrinsic_metadata_t": None,
                  "egress_intrinsic_metadata_from_parser_t": None,
                  "egress_intrinsic_metadata_for_deparser_t": None,
                  "egress_intrinsic_metadata_for_output_port_t": None,
                  "MirrorId_t": 10, "MirrorType_t": 3, "PortId_t": 9, "QueueId_t": 5},
        # methods of each extern object, with the width they return
        "methods": {"Register": {}, "RegisterAction": {"execute": "out"},
                    "Hash": {"get": "width"}, "Mirror": {"emit": None},
                    "Checksum": {"add": None, "subtract": None, "get": 16, "update": 16,
                                 "verify": 1}},
        "interleave": True,
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


def preprocess(text, defines):
    """Resolves #ifdef/#ifndef/#else/#endif (nesting allowed); the lines
    of branches not taken become empty, so line numbers stay."""
    out, stack = [], []
    for line in text.split("\n"):
        s = line.strip()
        m = re.match(r"#\s*(ifdef|ifndef)\s+(\w+)", s)
        if m:
            taken = (m.group(2) in defines) == (m.group(1) == "ifdef")
            stack.append([taken, all(t for t, _ in stack)])
            out.append("")
            continue
        if re.match(r"#\s*else\b", s) and stack:
            stack[-1][0] = not stack[-1][0]
            out.append("")
            continue
        if re.match(r"#\s*endif\b", s) and stack:
            stack.pop()
            out.append("")
            continue
        live = all(t and outer for t, outer in stack)
        out.append(line if live else "")
    if stack:
        raise Problem("an #ifdef without #endif")
    return "\n".join(out)


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
        self.blocks = set()  # parsers and controls declared
        self.pipes = set()   # TNA Pipeline instances
        self.counts = {}     # register -> RegisterAction executes on the current path

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
        if sec == "parser" and self.arch and self.arch.get("interleave"):
            sec = "control"  # TNA: ingress parser, control, deparser, then egress's
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
                    for ty in ("packet_in", "packet_out"):
                        self.types[ty] = None
                    types = self.arch.get("types", ())
                    for ty in types:
                        self.types[ty] = types[ty] if isinstance(types, dict) else None
                continue
            if self.arch is None:
                raise Problem("no architecture include before line %d" % t[2])
            if t[1] == "@":  # annotations before a declaration (@pa_solitary(...))
                self.skip_annotations()
                continue
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
            elif t[1] == self.arch.get("pipeline"):
                self.enter("control", t[2])
                self.next()
                self.expect("(")
                while self.peek()[1] != ")":
                    b = self.next()
                    if b[1] not in self.blocks:
                        self.err(b[2], "%s argument '%s' is not a declared parser or control"
                                 % (t[1], b[1]))
                    self.expect("(")
                    self.expect(")")
                    if self.peek()[1] == ",":
                        self.next()
                self.expect(")")
                self.pipes.add(self.next()[1])
                self.expect(";")
            elif t[1] == self.arch["package"]:
                self.enter("main", t[2])
                self.next()
                if self.arch.get("pipeline"):
                    self.expect("(")
                    p = self.next()
                    if p[1] not in self.pipes:
                        self.err(p[2], "%s of '%s', which is not a declared %s"
                                 % (t[1], p[1], self.arch["pipeline"]))
                    self.expect(")")
                else:
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
        self.blocks.add(self.next()[1])  # name
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
    def type_args(self):
        """<T, ...> -> [width or None]; nested <> balanced."""
        self.expect("<")
        args = []
        while True:
            _, width = self.parse_type()
            args.append(width)
            t = self.next()
            if t[1] == ">":
                return args
            if t[1] != ",":
                raise Problem("line %d: expected ',' or '>' in type arguments" % t[2])

    def extern_decl(self, env, local):
        t = self.next()
        ext = t[1]
        if ext not in self.arch["objects"]:
            self.err(t[2], "extern '%s' is not in this architecture" % ext)
        targs = self.type_args() if self.peek()[1] == "<" else []
        self.expect("(")
        cargs = []
        while self.peek()[1] != ")":
            a = self.next()
            if a[1] == "HashAlgorithm_t" and self.peek()[1] == ".":
                self.next()
                m = self.next()
                if m[1] not in self.arch["hash"]:
                    self.err(m[2], "hash algorithm '%s' is not in this architecture" % m[1])
            cargs.append(a)
        self.expect(")")
        name = self.next()
        obj = {"kind": ext, "targs": targs, "line": name[2]}
        if ext == "RegisterAction":
            reg = cargs[0][1] if cargs else None
            r = local["objs"].get(reg)
            if not r or r["kind"] != "Register":
                self.err(name[2], "RegisterAction %s: '%s' is not a declared Register" % (name[1], reg))
            else:
                for i, what in ((0, "value"), (1, "index")):
                    if i < len(targs) and i < len(r["targs"]) and targs[i] and r["targs"][i] \
                            and targs[i] != r["targs"][i]:
                        self.err(name[2], "RegisterAction %s: %s type bit<%s> but register %s has bit<%s>"
                                 % (name[1], what, targs[i], reg, r["targs"][i]))
            obj["reg"] = reg
        local["objs"][name[1]] = obj
        local["regs"][name[1]] = targs[0] if targs else None
        if self.peek()[1] == "=":  # an initializer: the RegisterAction's apply
            self.next()
            self.expect("{")
            while self.peek()[1] != "}":
                f = self.next()
                if f[1] != "void":
                    raise Problem("line %d: expected a method in the initializer of %s" % (f[2], name[1]))
                m = self.next()
                if m[1] != "apply":
                    self.err(m[2], "%s initializer defines '%s', not apply" % (ext, m[1]))
                aenv = self.params()
                saved = self.counts
                self.counts = {}
                self.block(env, local, aenv)
                self.counts = saved
            self.expect("}")
        self.expect(";")

    def control(self):
        self.blocks.add(self.next()[1])  # name
        env = self.params()
        self.expect("{")
        local = {"actions": {"NoAction"}, "tables": set(), "regs": {}, "vars": {}, "objs": {},
                 "acounts": {}, "tacts": {}, "aparams": {"NoAction": 0}}
        while self.peek()[1] != "apply":
            t = self.peek()
            if t[1] == "action":
                self.next()
                name = self.next()[1]
                aenv = self.params()
                saved = self.counts
                self.counts = {}
                self.block(env, local, aenv)
                local["acounts"][name] = self.counts
                self.counts = saved
                local["actions"].add(name)
                local["aparams"][name] = len(aenv)
            elif t[1] == "table":
                self.next()
                self.table(env, local)
            elif t[1] in self.arch["objects"] and "methods" in self.arch:
                self.extern_decl(env, local)
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
        line = self.expect("apply")[2]
        self.counts = {}
        self.block(env, local, {})
        for reg, n in sorted(self.counts.items()):
            if n > 1:
                self.err(line, "register %s: its RegisterActions may execute %d times on one "
                         "path through this apply block (TNA: one access per register per packet)"
                         % (reg, n))
        self.counts = {}
        self.expect("}")

    def add_counts(self, c):
        for r, n in c.items():
            self.counts[r] = self.counts.get(r, 0) + n

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
                    self.skip_annotations()
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
                        nargs = self.call_args()
                        want = local["aparams"].get(v[1])
                        if want is not None and nargs != want:
                            self.err(v[2], "default action %s given %d arguments, it has %d "
                                     "parameters" % (v[1], nargs, want))
                props[p[1]] = v[1]
                self.expect(";")
            elif p[1] == "const" and self.peek()[1] == "entries":
                # const entries = { KEY: ACTION(ARGS); ... }: each action one of
                # the table's, with as many arguments as it has parameters
                self.next()
                self.expect("=")
                self.expect("{")
                while self.peek()[1] != "}":
                    if self.peek()[1] == "(":  # a tuple key: (K1, K2, ...)
                        self.next()
                        self.expr(env, local)
                        while self.peek()[1] == ",":
                            self.next()
                            self.expr(env, local)
                        self.expect(")")
                    else:
                        self.expr(env, local)
                    self.expect(":")
                    a = self.next()
                    if a[1] not in props.get("actions", []):
                        self.err(a[2], "entry action '%s' not in the table's actions" % a[1])
                    nargs = self.call_args() if self.peek()[1] == "(" else 0
                    want = local["aparams"].get(a[1])
                    if want is not None and nargs != want:
                        self.err(a[2], "entry action %s given %d arguments, it has %d "
                                 "parameters" % (a[1], nargs, want))
                    self.expect(";")
                self.expect("}")
                props["entries"] = True
            else:
                raise Problem("line %d: unknown table property '%s'" % (p[2], p[1]))
        self.expect("}")
        for need in ("actions", "size", "default_action"):
            if need not in props:
                self.err(name_t[2], "table %s has no %s" % (name_t[1], need))
        local["tables"].add(name_t[1])
        local["tacts"][name_t[1]] = props.get("actions", [])

    def call_args(self):
        """(a, b, ...) -> how many arguments, at the top level."""
        self.expect("(")
        depth, n, empty = 0, 0, True
        while True:
            t = self.next()
            if t[0] == "eof":
                raise Problem("unbalanced '('")
            if t[1] in ("(", "{", "["):
                depth += 1
            elif t[1] in (")", "}", "]"):
                if depth == 0:
                    return 0 if empty else n + 1
                depth -= 1
            elif t[1] == "," and depth == 0:
                n += 1
            empty = False

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
            base = dict(self.counts)
            self.stmt(env, local, aenv)
            then = self.counts
            self.counts = dict(base)
            if self.peek()[1] == "else":
                self.next()
                self.stmt(env, local, aenv)
            # the branches exclude each other: the worse of the two
            self.counts = {r: max(then.get(r, 0), self.counts.get(r, 0))
                           for r in set(then) | set(self.counts)}
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
           ["<<"], ["++"], ["+", "-", "|+|", "|-|"], ["*", "/", "%"]]

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
            if ops == ["<<"] or (">" in ops and self.peek()[1] == ">" and
                                 self.peek(1)[1] == ">"):
                # '>>' comes as two '>' tokens (the lexer keeps them apart
                # for nested types such as register<bit<8>>): a shift
                if self.peek()[1] == ">":
                    self.next()
                    self.next()
                    self.expr(env, local, aenv, self.BIN.index(["<<"]) + 1)
                    continue
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
        if n in local.get("objs", {}):
            return self.method(local["objs"][n], t, env, local, aenv)
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
            if n in local["tables"]:
                # one of its actions runs: the worst of them
                acts = [local.get("acounts", {}).get(a, {}) for a in local.get("tacts", {}).get(n, [])]
                worst = {}
                for c in acts:
                    for r, k in c.items():
                        worst[r] = max(worst.get(r, 0), k)
                self.add_counts(worst)
                if self.peek()[1] == "." and self.peek(1)[1] in ("hit", "miss"):
                    self.next()
                    self.next()
                    return 1
            return None
        if n in local["actions"] and self.peek()[1] == "(":
            self.skip_group("(", ")")
            self.add_counts(local.get("acounts", {}).get(n, {}))
            return None
        if self.peek()[1] == "(":
            if n not in self.arch["externs"]:
                self.err(t[2], "'%s' is not an extern of this architecture" % n)
            self.skip_group("(", ")")
            return None
        self.err(t[2], "'%s' used before it is declared" % n)
        return None

    def method(self, obj, t, env, local, aenv):
        """obj.method<T>(args) on a TNA extern object."""
        self.expect(".")
        m = self.next()
        kind = obj["kind"]
        methods = self.arch["methods"].get(kind, {})
        if kind == "Register":
            self.err(m[2], "register %s accessed with %s() outside a RegisterAction "
                     "(TNA: only RegisterActions read and write registers)" % (t[1], m[1]))
        elif m[1] not in methods:
            self.err(m[2], "%s %s has no method %s()" % (kind, t[1], m[1]))
        if self.peek()[1] == "<":
            self.type_args()
        self.expect("(")
        args = []
        while self.peek()[1] != ")":
            args.append(self.expr(env, local, aenv))
            if self.peek()[1] == ",":
                self.next()
        self.expect(")")
        if kind == "RegisterAction" and m[1] == "execute":
            reg = obj.get("reg")
            r = local["objs"].get(reg, {})
            iw = r.get("targs", [None, None])[1] if len(r.get("targs", [])) > 1 else None
            if args and args[0] and iw and args[0] != iw:
                self.err(m[2], "%s.execute: index of width %s, register %s is indexed by bit<%s>"
                         % (t[1], args[0], reg, iw))
            if reg:
                self.counts[reg] = self.counts.get(reg, 0) + 1
            targs = obj["targs"]
            return targs[2] if len(targs) > 2 else None
        ret = methods.get(m[1])
        if ret == "width":
            return obj["targs"][0] if obj["targs"] else None
        return ret if isinstance(ret, int) else None

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
    args, defines = sys.argv[1:], set()
    while len(args) >= 2 and args[0] == "-D":
        defines.add(args[1])
        args = args[2:]
    for path in args:
        try:
            c = Checker(path, preprocess(open(path).read(), defines))
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
