/*
 * jit_gen.c - the plan as LLVM IR: one function per burst (see jit.h).
 *
 *   head:   i < n? packet i's time before ctx->next_close? room for rows?
 *           no table full?  (any "no" returns i to C)
 *   decode: only the layers the plan's fields need, core/decode.c's rules:
 *           link -> VLAN tags -> MPLS -> IPv4 | IPv6 (+ extension headers,
 *           6in4) -> TCP | UDP | ICMP | ICMPv6; every read checked against
 *           the captured length (and the lengths the IP headers declare);
 *           a check that fails ends decoding, leaving later fields absent
 *   queries: per covered query, its window slots, then per sink the
 *           streaming nodes in order (a filter that is not true skips to
 *           the next sink) and the sink: hash the key, probe the table,
 *           insert or update the aggregates or run the fold's statements;
 *           or write a per-packet row
 *   latch:  i + 1
 *
 * Fields the decoder here does not know (DNS, payload, tunnels) are read
 * from a struct hts_pkt that ctx->decode (the interpreter's decoder) fills
 * (ctx->decode_udp_dns for DNS over UDP when only DNS fields are read),
 * called at most once per packet and only on a path that needs such a
 * field, for the groups of fields (HTS_W_*) the function reads: it stops
 * once those are decided. A filter tests the conjuncts that need it after
 * all the others, and 'and'/'or' with one on the right are short-circuited
 * when the left side decides.
 *
 * Values are (value, present) pairs. ints, bools, IPv4 (zero-extended) and
 * MACs (48-bit big-endian numbers) are i64; IPv6 addresses are i128
 * big-endian numbers, so that numeric order is the executor's byte order
 * and a prefix is a mask. Decoded fields live in allocas (set on the path
 * that finds them; presence reset per packet) that mem2reg turns into SSA;
 * loop state (event time, table fill, row count) likewise lives in allocas
 * loaded from ctx on entry and stored back on exit, so the loop body never
 * reloads ctx. Expressions are evaluated eagerly with selects: they cannot
 * trap (division guards its divisor), so there is no control flow in them
 * (but for the short-circuit above).
 */
#include "jit_int.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct cv { /* a value */
    LLVMValueRef v, p;
    enum hts_type t;
};

struct gen {
    const struct jit_plan *pl;
    int linktype;
    LLVMContextRef c;
    LLVMModuleRef m;
    LLVMBuilderRef b;
    LLVMValueRef fn;
    LLVMTypeRef t1, t8, t16, t32, t64, t128, p8;
    char *err;
    size_t errlen;
    int failed;
    /* the packet */
    LLVMValueRef data, cap, wire, ts;
    LLVMValueRef fv[FLD__COUNT], fp[FLD__COUNT];
    LLVMBasicBlockRef done;
    /* layers to decode */
    bool l2addr, etype, mpls, ip4, ip6, ip6ext, l4;
    LLVMBasicBlockRef ip4_bb, ip6_bb, l4_bb;
    LLVMValueRef ip4_off, ip6_off, ip6_lim, l4_proto, l4_off, l4_end;
    /* loop state */
    LLVMValueRef wm_a, outn_a, full_a, *late_a, *tn_a;
    LLVMValueRef *t_index, *t_ent, *t_mask, *t_gen, *t_limit;
    LLVMValueRef out;
    LLVMValueRef crc_tab;
    LLVMTypeRef crc_ty;
    /* the interpreter's decoder and the string helpers (jit.h: jit_ctx) */
    LLVMValueRef ctx, pkt, slow_a, scratch, decode_fn, bytes_fn, udp_dns_fn;
    LLVMValueRef l4p_a, l4o_a, l4e_a; /* where L4 starts, for the C decoder */
    LLVMTypeRef decode_ty, bytes_ty, udp_dns_ty;
    /* string keys: table bytes, table structs, helpers */
    LLVMValueRef *t_bytes, *t_self, tabs, str_hash_fn, str_put_fn;
    LLVMTypeRef str_hash_ty, str_put_ty;
    /* fold: the state variables' current values; per slot, its window */
    struct cv *state;
    LLVMValueRef slot_ws[JIT_MAX_SLOTS];
};

__attribute__((format(printf, 2, 3))) static void fail(struct gen *g,
                                                       const char *fmt, ...)
{
    if (g->failed++)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, g->errlen, fmt, ap);
    va_end(ap);
}

/* ---- small builders ---- */

static LLVMValueRef k64(struct gen *g, uint64_t v)
{
    return LLVMConstInt(g->t64, v, 0);
}

static LLVMValueRef k1(struct gen *g, bool v)
{
    return LLVMConstInt(g->t1, v, 0);
}

static LLVMBasicBlockRef blk(struct gen *g, const char *name)
{
    return LLVMAppendBasicBlockInContext(g->c, g->fn, name);
}

static void at(struct gen *g, LLVMBasicBlockRef bb)
{
    LLVMPositionBuilderAtEnd(g->b, bb);
}

static LLVMBasicBlockRef here(struct gen *g)
{
    return LLVMGetInsertBlock(g->b);
}

static LLVMValueRef add(struct gen *g, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildAdd(g->b, a, b, "");
}

static LLVMValueRef addk(struct gen *g, LLVMValueRef a, uint64_t k)
{
    return LLVMBuildAdd(g->b, a, k64(g, k), "");
}

static LLVMValueRef cmp(struct gen *g, LLVMIntPredicate p, LLVMValueRef a,
                        LLVMValueRef b)
{
    return LLVMBuildICmp(g->b, p, a, b, "");
}

static LLVMValueRef umin(struct gen *g, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildSelect(g->b, cmp(g, LLVMIntULT, a, b), a, b, "");
}

static LLVMValueRef sel(struct gen *g, LLVMValueRef c, LLVMValueRef a,
                        LLVMValueRef b)
{
    return LLVMBuildSelect(g->b, c, a, b, "");
}

static LLVMValueRef zext64(struct gen *g, LLVMValueRef v)
{
    return LLVMBuildZExt(g->b, v, g->t64, "");
}

/* Continues at a new block when ok, else branches to `other`. */
static void check(struct gen *g, LLVMValueRef ok, LLVMBasicBlockRef other)
{
    LLVMBasicBlockRef next = blk(g, "ok");
    LLVMBuildCondBr(g->b, ok, next, other);
    at(g, next);
}

/* Pointer to a T at byte offset off of base (an i8*). */
static LLVMValueRef ptr_at(struct gen *g, LLVMValueRef base, LLVMValueRef off,
                           LLVMTypeRef t)
{
    LLVMValueRef p = LLVMBuildInBoundsGEP2(g->b, g->t8, base, &off, 1, "");
    return LLVMBuildBitCast(g->b, p, LLVMPointerType(t, 0), "");
}

static LLVMValueRef load(struct gen *g, LLVMTypeRef t, LLVMValueRef p)
{
    return LLVMBuildLoad2(g->b, t, p, "");
}

static LLVMValueRef load_at(struct gen *g, LLVMTypeRef t, LLVMValueRef base,
                            size_t off)
{
    return load(g, t, ptr_at(g, base, k64(g, off), t));
}

static LLVMValueRef call1(struct gen *g, const char *intr, LLVMTypeRef t,
                          LLVMValueRef a)
{
    unsigned id = LLVMLookupIntrinsicID(intr, strlen(intr));
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(g->m, id, &t, 1);
    LLVMTypeRef ft = LLVMIntrinsicGetType(g->c, id, &t, 1);
    return LLVMBuildCall2(g->b, ft, f, &a, 1, "");
}

/* Packet bytes at off (checked by the caller), network order, zero-extended
 * to i64 (i128 for 16 bytes). Unaligned loads: the backend picks movbe or
 * a load and a bswap. */
static LLVMValueRef rd(struct gen *g, LLVMValueRef off, int bytes)
{
    LLVMTypeRef t = bytes == 1 ? g->t8 : bytes == 2 ? g->t16
                  : bytes == 4 ? g->t32 : g->t128;
    LLVMValueRef v = load(g, t, ptr_at(g, g->data, off, t));
    LLVMSetAlignment(v, 1);
    if (bytes > 1)
        v = call1(g, "llvm.bswap", t, v);
    return bytes == 16 ? v : zext64(g, v);
}

static LLVMValueRef rd8(struct gen *g, LLVMValueRef off, uint64_t k)
{
    return rd(g, addk(g, off, k), 1);
}

static LLVMValueRef rd16(struct gen *g, LLVMValueRef off, uint64_t k)
{
    return rd(g, addk(g, off, k), 2);
}

static LLVMValueRef rd32(struct gen *g, LLVMValueRef off, uint64_t k)
{
    return rd(g, addk(g, off, k), 4);
}

/* "off + n bytes are readable before lim" (lim already min'ed with the
 * capture): decode.c's avail(off, end) >= n for n > 0. Offsets stay far
 * below 2^63, so the sum cannot wrap. */
static LLVMValueRef fits(struct gen *g, LLVMValueRef off, uint64_t n,
                         LLVMValueRef lim)
{
    return cmp(g, LLVMIntULE, addk(g, off, n), lim);
}

/* IPv6 addresses, strings (pointer, length << 64) and code sets (pointer,
 * count << 64) are i128; everything else i64. */
static LLVMTypeRef vtype(struct gen *g, enum hts_type t)
{
    return t == TY_IPV6 || t == TY_STR || t == TY_TYPESET ? g->t128 : g->t64;
}

/* ---- fields ---- */

static void set(struct gen *g, enum hts_field f, LLVMValueRef v)
{
    if (!g->pl->need[f])
        return;
    LLVMBuildStore(g->b, v, g->fv[f]);
    LLVMBuildStore(g->b, k1(g, true), g->fp[f]);
}

/* Sets f to v when cond holds (branch-free: the VLAN and MPLS loops set
 * their first tags' fields this way). */
static void set_if(struct gen *g, enum hts_field f, LLVMValueRef cond,
                   LLVMValueRef v)
{
    if (!g->pl->need[f])
        return;
    LLVMTypeRef t = vtype(g, hts_fields[f].type);
    LLVMBuildStore(g->b, sel(g, cond, v, load(g, t, g->fv[f])), g->fv[f]);
    LLVMBuildStore(g->b, LLVMBuildOr(g->b, cond, load(g, g->t1, g->fp[f]), ""),
                   g->fp[f]);
}

static bool any(const struct gen *g, enum hts_field lo, enum hts_field hi)
{
    for (int f = (int)lo; f <= (int)hi; f++)
        if (g->pl->need[f])
            return true;
    return false;
}

/* ---- the decoder ---- */

static void to_ip4(struct gen *g, LLVMValueRef off)
{
    LLVMBasicBlockRef bb = here(g);
    LLVMAddIncoming(g->ip4_off, &off, &bb, 1);
    LLVMBuildBr(g->b, g->ip4_bb);
}

static void to_ip6(struct gen *g, LLVMValueRef off, LLVMValueRef lim)
{
    LLVMBasicBlockRef bb = here(g);
    LLVMAddIncoming(g->ip6_off, &off, &bb, 1);
    LLVMAddIncoming(g->ip6_lim, &lim, &bb, 1);
    LLVMBuildBr(g->b, g->ip6_bb);
}

static void to_l4(struct gen *g, LLVMValueRef proto, LLVMValueRef off,
                  LLVMValueRef end)
{
    LLVMBasicBlockRef bb = here(g);
    LLVMAddIncoming(g->l4_proto, &proto, &bb, 1);
    LLVMAddIncoming(g->l4_off, &off, &bb, 1);
    LLVMAddIncoming(g->l4_end, &end, &bb, 1);
    LLVMBuildBr(g->b, g->l4_bb);
}

/* decode.c: decode_mpls. The label stack, then a guess from the nibble. */
static void gen_mpls(struct gen *g, LLVMValueRef off0)
{
    LLVMBasicBlockRef pre = here(g), head = blk(g, "mpls"), out = blk(g, "mpls.bos");
    LLVMBuildBr(g->b, head);
    at(g, head);
    LLVMValueRef off = LLVMBuildPhi(g->b, g->t64, "mpls.off");
    LLVMValueRef depth = LLVMBuildPhi(g->b, g->t64, "mpls.depth");
    LLVMValueRef zero = k64(g, 0);
    LLVMAddIncoming(off, &off0, &pre, 1);
    LLVMAddIncoming(depth, &zero, &pre, 1);
    check(g, fits(g, off, 4, g->cap), g->done);
    LLVMValueRef e = rd32(g, off, 0);
    set_if(g, FLD_MPLS_LABEL, cmp(g, LLVMIntEQ, depth, zero),
           LLVMBuildLShr(g->b, e, k64(g, 12), ""));
    LLVMValueRef off1 = addk(g, off, 4), depth1 = addk(g, depth, 1);
    LLVMValueRef bos = cmp(g, LLVMIntNE, LLVMBuildAnd(g->b, e, k64(g, 0x100), ""), zero);
    LLVMBasicBlockRef bb = here(g);
    LLVMAddIncoming(off, &off1, &bb, 1);
    LLVMAddIncoming(depth, &depth1, &bb, 1);
    LLVMBuildCondBr(g->b, bos, out, head);
    at(g, out);
    set(g, FLD_MPLS_DEPTH, umin(g, depth1, k64(g, 255)));
    if (!g->ip4) {
        LLVMBuildBr(g->b, g->done);
        return;
    }
    check(g, fits(g, off1, 1, g->cap), g->done);
    LLVMValueRef nib = LLVMBuildLShr(g->b, rd8(g, off1, 0), k64(g, 4), "");
    LLVMBasicBlockRef v4 = blk(g, "mpls.ip4"), v6 = blk(g, "mpls.ip6");
    LLVMValueRef sw = LLVMBuildSwitch(g->b, nib, g->done, 2);
    LLVMAddCase(sw, k64(g, 4), v4);
    LLVMAddCase(sw, k64(g, 6), v6);
    at(g, v4);
    to_ip4(g, off1);
    at(g, v6);
    if (g->ip6)
        to_ip6(g, off1, g->wire);
    else
        LLVMBuildBr(g->b, g->done);
}

/* decode.c: decode_ethertype. VLAN tags of any depth, eth.type, then IP or
 * MPLS. */
static void gen_ethertype(struct gen *g, LLVMValueRef type0, LLVMValueRef off0)
{
    LLVMBasicBlockRef pre = here(g), head = blk(g, "vlan"), tag = blk(g, "vlan.tag"),
                      end = blk(g, "vlan.end");
    LLVMValueRef zero = k64(g, 0);
    LLVMBuildBr(g->b, head);
    at(g, head);
    LLVMValueRef type = LLVMBuildPhi(g->b, g->t64, "etype");
    LLVMValueRef off = LLVMBuildPhi(g->b, g->t64, "vlan.off");
    LLVMValueRef depth = LLVMBuildPhi(g->b, g->t64, "vlan.depth");
    LLVMAddIncoming(type, &type0, &pre, 1);
    LLVMAddIncoming(off, &off0, &pre, 1);
    LLVMAddIncoming(depth, &zero, &pre, 1);
    LLVMValueRef isv = LLVMBuildOr(
        g->b, cmp(g, LLVMIntEQ, type, k64(g, 0x8100)),
        LLVMBuildOr(g->b, cmp(g, LLVMIntEQ, type, k64(g, 0x88a8)),
                    cmp(g, LLVMIntEQ, type, k64(g, 0x9100)), ""), "");
    LLVMBuildCondBr(g->b, isv, tag, end);

    at(g, tag);
    check(g, fits(g, off, 4, g->cap), g->done);
    LLVMValueRef tci = rd16(g, off, 0);
    LLVMValueRef d0 = cmp(g, LLVMIntEQ, depth, zero);
    set_if(g, FLD_VLAN_ID, d0, LLVMBuildAnd(g->b, tci, k64(g, 0xfff), ""));
    set_if(g, FLD_VLAN_PCP, d0, LLVMBuildLShr(g->b, tci, k64(g, 13), ""));
    set_if(g, FLD_VLAN_INNER_ID, cmp(g, LLVMIntEQ, depth, k64(g, 1)),
           LLVMBuildAnd(g->b, tci, k64(g, 0xfff), ""));
    LLVMValueRef type1 = rd16(g, off, 2), off1 = addk(g, off, 4),
                 depth1 = addk(g, depth, 1);
    LLVMBasicBlockRef bb = here(g);
    LLVMAddIncoming(type, &type1, &bb, 1);
    LLVMAddIncoming(off, &off1, &bb, 1);
    LLVMAddIncoming(depth, &depth1, &bb, 1);
    LLVMBuildBr(g->b, head);

    at(g, end);
    set_if(g, FLD_VLAN_DEPTH, cmp(g, LLVMIntNE, depth, zero),
           umin(g, depth, k64(g, 255)));
    set(g, FLD_ETH_TYPE, type);
    if (!g->mpls) {
        LLVMBuildBr(g->b, g->done);
        return;
    }
    LLVMBasicBlockRef v4 = blk(g, "et.ip4"), v6 = blk(g, "et.ip6"), mp = blk(g, "et.mpls");
    LLVMValueRef sw = LLVMBuildSwitch(g->b, type, g->done, 4);
    if (g->ip4) {
        LLVMAddCase(sw, k64(g, 0x0800), v4);
        LLVMAddCase(sw, k64(g, 0x86dd), v6);
    }
    LLVMAddCase(sw, k64(g, 0x8847), mp);
    LLVMAddCase(sw, k64(g, 0x8848), mp);
    at(g, v4);
    if (g->ip4)
        to_ip4(g, off);
    else
        LLVMBuildBr(g->b, g->done);
    at(g, v6);
    if (g->ip6)
        to_ip6(g, off, g->wire);
    else
        LLVMBuildBr(g->b, g->done);
    at(g, mp);
    gen_mpls(g, off);
}

/* decode.c: decode_ipv4, for the frame's own IPv4 header (lim: the wire
 * length, so min(lim, cap) is cap). */
static void gen_ipv4(struct gen *g)
{
    at(g, g->ip4_bb);
    LLVMValueRef off = g->ip4_off;
    check(g, fits(g, off, 1, g->cap), g->done);
    LLVMValueRef b0 = rd8(g, off, 0);
    check(g, cmp(g, LLVMIntEQ, LLVMBuildLShr(g->b, b0, k64(g, 4), ""), k64(g, 4)), g->done);
    check(g, fits(g, off, 20, g->cap), g->done);
    LLVMValueRef ihl = LLVMBuildAnd(g->b, b0, k64(g, 15), "");
    LLVMValueRef hl = LLVMBuildShl(g->b, ihl, k64(g, 2), "");
    LLVMValueRef tot = rd16(g, off, 2);
    check(g, LLVMBuildAnd(g->b, cmp(g, LLVMIntUGE, hl, k64(g, 20)),
                          cmp(g, LLVMIntUGE, tot, hl), ""), g->done);
    check(g, cmp(g, LLVMIntULE, add(g, off, hl), g->cap), g->done);
    LLVMValueRef fr = rd16(g, off, 6), proto = rd8(g, off, 9);
    set(g, FLD_IPV4_IHL, ihl);
    set(g, FLD_IPV4_TOS, rd8(g, off, 1));
    set(g, FLD_IPV4_LEN, tot);
    set(g, FLD_IPV4_ID, rd16(g, off, 4));
    set(g, FLD_IPV4_FLAGS, LLVMBuildLShr(g->b, fr, k64(g, 13), ""));
    set(g, FLD_IPV4_FRAG_OFF, LLVMBuildAnd(g->b, fr, k64(g, 0x1fff), ""));
    set(g, FLD_IPV4_TTL, rd8(g, off, 8));
    set(g, FLD_IPV4_PROTO, proto);
    set(g, FLD_IPV4_SRC, rd32(g, off, 12));
    set(g, FLD_IPV4_DST, rd32(g, off, 16));
    set(g, FLD_IP_PROTO, proto);
    if (!g->ip6) {
        LLVMBuildBr(g->b, g->done);
        return;
    }
    /* a non-first fragment: no L4 */
    check(g, cmp(g, LLVMIntEQ, LLVMBuildAnd(g->b, fr, k64(g, 0x1fff), ""), k64(g, 0)),
          g->done);
    LLVMValueRef l4off = add(g, off, hl);
    LLVMValueRef end = umin(g, add(g, off, tot), g->wire);
    LLVMBasicBlockRef six = blk(g, "6in4"), other = blk(g, "ip4.l4");
    LLVMBuildCondBr(g->b, cmp(g, LLVMIntEQ, proto, k64(g, 41)), six, other);
    at(g, six);
    to_ip6(g, l4off, end);
    at(g, other);
    if (g->l4)
        to_l4(g, proto, l4off, end);
    else
        LLVMBuildBr(g->b, g->done);
}

/* decode.c: decode_ipv6 with its extension header walk. */
static void gen_ipv6(struct gen *g)
{
    at(g, g->ip6_bb);
    LLVMValueRef off = g->ip6_off, lim = g->ip6_lim;
    LLVMValueRef limc = umin(g, lim, g->cap);
    check(g, fits(g, off, 1, limc), g->done);
    LLVMValueRef b0 = rd8(g, off, 0);
    check(g, cmp(g, LLVMIntEQ, LLVMBuildLShr(g->b, b0, k64(g, 4), ""), k64(g, 6)), g->done);
    check(g, fits(g, off, 40, limc), g->done);
    LLVMValueRef w = rd32(g, off, 0), plen = rd16(g, off, 4), nh0 = rd8(g, off, 6);
    set(g, FLD_IPV6_TC, LLVMBuildAnd(g->b, LLVMBuildLShr(g->b, w, k64(g, 20), ""),
                                     k64(g, 0xff), ""));
    set(g, FLD_IPV6_FLOW, LLVMBuildAnd(g->b, w, k64(g, 0xfffff), ""));
    set(g, FLD_IPV6_PLEN, plen);
    set(g, FLD_IPV6_NEXT, nh0);
    set(g, FLD_IPV6_HLIM, rd8(g, off, 7));
    if (g->pl->need[FLD_IPV6_SRC])
        set(g, FLD_IPV6_SRC, rd(g, addk(g, off, 8), 16));
    if (g->pl->need[FLD_IPV6_DST])
        set(g, FLD_IPV6_DST, rd(g, addk(g, off, 24), 16));
    if (!g->ip6ext) {
        LLVMBuildBr(g->b, g->done);
        return;
    }
    /* a jumbogram (payload length 0 with hop-by-hop) takes what lim allows */
    LLVMValueRef zero = k64(g, 0);
    LLVMValueRef jumbo = LLVMBuildAnd(g->b, cmp(g, LLVMIntEQ, plen, zero),
                                      cmp(g, LLVMIntEQ, nh0, zero), "");
    LLVMValueRef end = sel(g, jumbo, lim, umin(g, add(g, addk(g, off, 40), plen), lim));
    LLVMValueRef endc = umin(g, end, g->cap);
    LLVMValueRef pos0 = addk(g, off, 40);

    LLVMBasicBlockRef pre = here(g), head = blk(g, "ext"), hop = blk(g, "ext.opts"),
                      ah = blk(g, "ext.ah"), frag = blk(g, "ext.frag"),
                      next = blk(g, "ext.next"), upper = blk(g, "ext.upper"),
                      bad = blk(g, "ext.bad");
    LLVMBuildBr(g->b, head);
    at(g, head);
    LLVMValueRef pos = LLVMBuildPhi(g->b, g->t64, "ext.pos");
    LLVMValueRef nh = LLVMBuildPhi(g->b, g->t64, "ext.nh");
    LLVMValueRef fr = LLVMBuildPhi(g->b, g->t1, "ext.frag");
    LLVMValueRef f0 = k1(g, false);
    LLVMAddIncoming(pos, &pos0, &pre, 1);
    LLVMAddIncoming(nh, &nh0, &pre, 1);
    LLVMAddIncoming(fr, &f0, &pre, 1);
    LLVMValueRef sw = LLVMBuildSwitch(g->b, nh, upper, 5);
    LLVMAddCase(sw, k64(g, 0), hop);
    LLVMAddCase(sw, k64(g, 43), hop);
    LLVMAddCase(sw, k64(g, 60), hop);
    LLVMAddCase(sw, k64(g, 51), ah);
    LLVMAddCase(sw, k64(g, 44), frag);

    /* bad: a cut or malformed extension header */
    at(g, bad);
    LLVMValueRef badfr = LLVMBuildPhi(g->b, g->t1, "bad.frag");
    set_if(g, FLD_IPV6_FRAG, badfr, k64(g, 1));
    LLVMBuildBr(g->b, g->done);

    /* next: pos += hl; nh = x[0] */
    at(g, next);
    LLVMValueRef hl = LLVMBuildPhi(g->b, g->t64, "ext.hl");
    LLVMValueRef fr1 = LLVMBuildPhi(g->b, g->t1, "ext.frag1");
    LLVMValueRef nh1 = rd8(g, pos, 0), pos1 = add(g, pos, hl);
    LLVMBasicBlockRef nb = here(g);
    LLVMAddIncoming(pos, &pos1, &nb, 1);
    LLVMAddIncoming(nh, &nh1, &nb, 1);
    LLVMAddIncoming(fr, &fr1, &nb, 1);
    LLVMBuildBr(g->b, head);

    for (int kind = 0; kind < 2; kind++) { /* options-like, AH */
        at(g, kind ? ah : hop);
        LLVMBasicBlockRef bb = here(g);
        LLVMAddIncoming(badfr, &fr, &bb, 1);
        LLVMBasicBlockRef ok = blk(g, "ext.len");
        LLVMBuildCondBr(g->b, fits(g, pos, 2, endc), ok, bad);
        at(g, ok);
        LLVMValueRef x1 = rd8(g, pos, 1);
        LLVMValueRef len = kind ? LLVMBuildShl(g->b, addk(g, x1, 2), k64(g, 2), "")
                                : LLVMBuildShl(g->b, addk(g, x1, 1), k64(g, 3), "");
        bb = here(g);
        LLVMAddIncoming(badfr, &fr, &bb, 1);
        LLVMAddIncoming(hl, &len, &bb, 1);
        LLVMAddIncoming(fr1, &fr, &bb, 1);
        LLVMBuildCondBr(g->b, cmp(g, LLVMIntULE, add(g, pos, len), endc), next, bad);
    }

    at(g, frag);
    {
        LLVMBasicBlockRef bb = here(g), ok = blk(g, "frag.ok"), later = blk(g, "frag.later");
        LLVMAddIncoming(badfr, &fr, &bb, 1);
        LLVMBuildCondBr(g->b, fits(g, pos, 8, endc), ok, bad);
        at(g, ok);
        LLVMValueRef offs = LLVMBuildLShr(g->b, rd16(g, pos, 2), k64(g, 3), "");
        LLVMValueRef eight = k64(g, 8), t1 = k1(g, true);
        bb = here(g);
        LLVMAddIncoming(hl, &eight, &bb, 1);
        LLVMAddIncoming(fr1, &t1, &bb, 1);
        LLVMBuildCondBr(g->b, cmp(g, LLVMIntEQ, offs, zero), next, later);
        at(g, later); /* a non-first fragment: no L4 */
        set(g, FLD_IPV6_FRAG, k64(g, 1));
        set(g, FLD_IP_PROTO, rd8(g, pos, 0));
        LLVMBuildBr(g->b, g->done);
    }

    at(g, upper);
    set(g, FLD_IPV6_FRAG, zext64(g, fr));
    set(g, FLD_IP_PROTO, nh);
    if (g->l4)
        to_l4(g, nh, pos, end);
    else
        LLVMBuildBr(g->b, g->done);
}

/* decode.c: decode_l4 and its TCP, UDP, ICMP and ICMPv6 headers. */
static void gen_l4(struct gen *g)
{
    at(g, g->l4_bb);
    LLVMValueRef off = g->l4_off, end = g->l4_end;
    if (g->pl->slow) { /* for the C decoder, which goes on from here */
        LLVMBuildStore(g->b, g->l4_proto, g->l4p_a);
        LLVMBuildStore(g->b, off, g->l4o_a);
        LLVMBuildStore(g->b, end, g->l4e_a);
    }
    LLVMValueRef endc = umin(g, end, g->cap);
    const bool *need = g->pl->need;
    bool tcp = any(g, FLD_TCP_SPORT, FLD_TCP_PAYLOAD_LEN);
    bool udp = any(g, FLD_UDP_SPORT, FLD_UDP_LEN);
    bool icmp = need[FLD_ICMP_TYPE] || need[FLD_ICMP_CODE];
    bool icmp6 = need[FLD_ICMPV6_TYPE] || need[FLD_ICMPV6_CODE];
    LLVMValueRef sw = LLVMBuildSwitch(g->b, g->l4_proto, g->done, 4);
    if (tcp) {
        LLVMBasicBlockRef bb = blk(g, "tcp");
        LLVMAddCase(sw, k64(g, 6), bb);
        at(g, bb);
        LLVMValueRef declared = LLVMBuildSub(g->b, end, off, "");
        check(g, fits(g, off, 20, endc), g->done);
        LLVMValueRef hl = LLVMBuildShl(g->b, LLVMBuildLShr(g->b, rd8(g, off, 12), k64(g, 4), ""),
                                       k64(g, 2), "");
        check(g, LLVMBuildAnd(g->b, cmp(g, LLVMIntUGE, hl, k64(g, 20)),
                              cmp(g, LLVMIntULE, hl, declared), ""), g->done);
        check(g, cmp(g, LLVMIntULE, add(g, off, hl), endc), g->done);
        set(g, FLD_TCP_SPORT, rd16(g, off, 0));
        set(g, FLD_TCP_DPORT, rd16(g, off, 2));
        set(g, FLD_TCP_SEQ, rd32(g, off, 4));
        set(g, FLD_TCP_ACK, rd32(g, off, 8));
        set(g, FLD_TCP_HDR_LEN, hl);
        set(g, FLD_TCP_FLAGS, rd8(g, off, 13));
        set(g, FLD_TCP_WINDOW, rd16(g, off, 14));
        set(g, FLD_TCP_PAYLOAD_LEN, LLVMBuildSub(g->b, declared, hl, ""));
        LLVMBuildBr(g->b, g->done);
    }
    if (udp) {
        LLVMBasicBlockRef bb = blk(g, "udp");
        LLVMAddCase(sw, k64(g, 17), bb);
        at(g, bb);
        check(g, fits(g, off, 8, endc), g->done);
        set(g, FLD_UDP_SPORT, rd16(g, off, 0));
        set(g, FLD_UDP_DPORT, rd16(g, off, 2));
        set(g, FLD_UDP_LEN, rd16(g, off, 4));
        LLVMBuildBr(g->b, g->done);
    }
    for (int v6 = 0; v6 < 2; v6++) {
        if (!(v6 ? icmp6 : icmp))
            continue;
        LLVMBasicBlockRef bb = blk(g, v6 ? "icmpv6" : "icmp");
        LLVMAddCase(sw, k64(g, v6 ? 58 : 1), bb);
        at(g, bb);
        check(g, fits(g, off, 4, endc), g->done);
        set(g, v6 ? FLD_ICMPV6_TYPE : FLD_ICMP_TYPE, rd8(g, off, 0));
        set(g, v6 ? FLD_ICMPV6_CODE : FLD_ICMP_CODE, rd8(g, off, 1));
        LLVMBuildBr(g->b, g->done);
    }
}

/* The link layer, then the shared IP and L4 stages. Ends at g->done. */
static void gen_decode(struct gen *g)
{
    const bool *need = g->pl->need;
    /* fields from the C decoder continue from where this one reaches L4 */
    g->l4 = any(g, FLD_TCP_SPORT, FLD_ICMPV6_CODE) || g->pl->slow;
    g->ip6ext = g->l4 || need[FLD_IP_PROTO] || need[FLD_IPV6_FRAG];
    g->ip6 = g->ip6ext || any(g, FLD_IPV6_TC, FLD_IPV6_FRAG);
    g->ip4 = g->ip6 || any(g, FLD_IPV4_IHL, FLD_IPV4_DST);
    g->mpls = g->ip4 || need[FLD_MPLS_LABEL] || need[FLD_MPLS_DEPTH];
    g->etype = g->mpls || any(g, FLD_ETH_TYPE, FLD_VLAN_DEPTH);
    g->l2addr = need[FLD_ETH_SRC] || need[FLD_ETH_DST];
    if (g->ip4) {
        LLVMBasicBlockRef cur = here(g);
        g->ip4_bb = blk(g, "ip4");
        at(g, g->ip4_bb);
        g->ip4_off = LLVMBuildPhi(g->b, g->t64, "ip4.off");
        if (g->ip6) {
            g->ip6_bb = blk(g, "ip6");
            at(g, g->ip6_bb);
            g->ip6_off = LLVMBuildPhi(g->b, g->t64, "ip6.off");
            g->ip6_lim = LLVMBuildPhi(g->b, g->t64, "ip6.lim");
        }
        if (g->l4) {
            g->l4_bb = blk(g, "l4");
            at(g, g->l4_bb);
            g->l4_proto = LLVMBuildPhi(g->b, g->t64, "l4.proto");
            g->l4_off = LLVMBuildPhi(g->b, g->t64, "l4.off");
            g->l4_end = LLVMBuildPhi(g->b, g->t64, "l4.end");
        }
        at(g, cur);
    }
    LLVMValueRef zero = k64(g, 0);
    switch (g->linktype) {
    case HTS_DLT_EN10MB:
        if (!g->etype && !g->l2addr)
            break;
        check(g, fits(g, zero, 14, g->cap), g->done);
        if (need[FLD_ETH_DST])
            set(g, FLD_ETH_DST, LLVMBuildOr(g->b, LLVMBuildShl(g->b, rd16(g, zero, 0), k64(g, 32), ""),
                                            rd32(g, zero, 2), ""));
        if (need[FLD_ETH_SRC])
            set(g, FLD_ETH_SRC, LLVMBuildOr(g->b, LLVMBuildShl(g->b, rd16(g, zero, 6), k64(g, 32), ""),
                                            rd32(g, zero, 8), ""));
        if (!g->etype)
            break;
        {
            LLVMValueRef type = rd16(g, zero, 12);
            check(g, cmp(g, LLVMIntUGE, type, k64(g, 0x0600)), g->done); /* 802.3 */
            gen_ethertype(g, type, k64(g, 14));
        }
        goto linked;
    case HTS_DLT_LINUX_SLL:
    case HTS_DLT_LINUX_SLL2:
        if (!g->etype)
            break;
        {
            bool v2 = g->linktype == HTS_DLT_LINUX_SLL2;
            check(g, fits(g, zero, v2 ? 20 : 16, g->cap), g->done);
            gen_ethertype(g, rd16(g, zero, v2 ? 0 : 14), k64(g, v2 ? 20 : 16));
        }
        goto linked;
    case HTS_DLT_RAW:
    case 12:
    case 14:
        if (!g->ip4)
            break;
        check(g, fits(g, zero, 1, g->cap), g->done);
        {
            LLVMBasicBlockRef v6 = blk(g, "raw.ip6"), v4 = blk(g, "raw.ip4");
            LLVMBuildCondBr(g->b, cmp(g, LLVMIntEQ, LLVMBuildLShr(g->b, rd8(g, zero, 0), k64(g, 4), ""),
                                      k64(g, 6)), v6, v4);
            at(g, v6);
            if (g->ip6)
                to_ip6(g, zero, g->wire);
            else
                LLVMBuildBr(g->b, g->done);
            at(g, v4);
            to_ip4(g, zero);
        }
        goto linked;
    case 228:
        if (!g->ip4)
            break;
        to_ip4(g, zero);
        goto linked;
    case 229:
        if (!g->ip6)
            break;
        to_ip6(g, zero, g->wire);
        goto linked;
    default: /* hts_decode refuses the link type: only meta.* */
        break;
    }
    LLVMBuildBr(g->b, g->done);
linked:
    /* the shared stages (unreachable ones are dropped by the optimiser) */
    if (g->ip4)
        gen_ipv4(g);
    if (g->ip6)
        gen_ipv6(g);
    if (g->l4)
        gen_l4(g);
}

/* ---- expressions (exec.c: eval) ---- */

static struct cv gen_expr(struct gen *g, const struct ast_expr *e, const struct cv *row);

static LLVMValueRef konst(struct gen *g, const hts_value *v)
{
    switch (v->type) {
    case TY_IPV4:
    case TY_PREFIX4:
        return k64(g, v->u.ip4);
    case TY_MAC: {
        uint64_t x = 0;
        for (int i = 0; i < 6; i++)
            x = x << 8 | v->u.mac[i];
        return k64(g, x);
    }
    case TY_STR: { /* the literal's bytes live as long as the program */
        uint64_t w[2] = {(uint64_t)(uintptr_t)v->u.s.p, v->u.s.n};
        return LLVMConstIntOfArbitraryPrecision(g->t128, 2, w);
    }
    case TY_IPV6:
    case TY_PREFIX6: {
        uint64_t w[2] = {0, 0}; /* low word first */
        for (int i = 0; i < 8; i++) {
            w[1] = w[1] << 8 | v->u.ip6[i];
            w[0] = w[0] << 8 | v->u.ip6[8 + i];
        }
        return LLVMConstIntOfArbitraryPrecision(g->t128, 2, w);
    }
    default:
        return k64(g, (uint64_t)v->u.i);
    }
}

/* The mask of a /plen prefix over a 32- or 128-bit address. */
static LLVMValueRef prefix_mask(struct gen *g, bool v6, int plen)
{
    if (!v6)
        return k64(g, plen ? (0xffffffffu << (32 - plen)) & 0xffffffffu : 0);
    uint64_t w[2] = {0, 0};
    for (int i = 0; i < 128; i++)
        if (i < plen)
            w[1 - i / 64] |= 1ull << (63 - i % 64);
    return LLVMConstIntOfArbitraryPrecision(g->t128, 2, w);
}

/* a in prefix p (exec.c: prefix_match): for IPv4 the prefix's own address
 * is compared unmasked, for IPv6 both sides are masked. */
static LLVMValueRef gen_prefix_match(struct gen *g, LLVMValueRef a, const hts_value *p)
{
    bool v6 = p->type == TY_PREFIX6;
    LLVMValueRef m = prefix_mask(g, v6, p->plen);
    LLVMValueRef pv = konst(g, p);
    if (v6)
        pv = LLVMBuildAnd(g->b, pv, m, "");
    return cmp(g, LLVMIntEQ, LLVMBuildAnd(g->b, a, m, ""), pv);
}

static struct cv mk(LLVMValueRef v, LLVMValueRef p, enum hts_type t)
{
    struct cv r = {v, p, t};
    return r;
}

/* ---- fields from the interpreter's decoder ---- */

/* Calls ctx->decode once per packet, the first time a field needs it, for
 * the groups of fields below L4 any query of the function reads (the call
 * is shared: a later query's field must be there too). */
static void ensure_slow(struct gen *g)
{
    LLVMBasicBlockRef call = blk(g, "slow.decode"), cont = blk(g, "slow.done");
    LLVMBuildCondBr(g->b, load(g, g->t1, g->slow_a), cont, call);
    at(g, call);
    LLVMBuildStore(g->b, k1(g, true), g->slow_a);
    LLVMValueRef proto = load(g, g->t64, g->l4p_a), off = load(g, g->t64, g->l4o_a),
                 end = load(g, g->t64, g->l4e_a);
    uint32_t want = g->pl->want;
    if (want && !(want & ~(uint32_t)HTS_W_DNS)) {
        /* DNS only: decode_l4's dispatch here. UDP (not in a tunnel: this
         * is the frame's own L4) carries DNS when its header is captured
         * and hts_udp_is_dns() holds (packet.h); TCP (the length prefix)
         * goes through ctx->decode; anything else has no DNS, and the
         * scratch packet is emptied without a call. */
        LLVMBasicBlockRef udp = blk(g, "dns.udp"), udp_ok = blk(g, "dns.udp.ok"),
                          dns = blk(g, "dns.call"), tcp = blk(g, "dns.tcp"), none = blk(g, "dns.none");
        LLVMValueRef sw = LLVMBuildSwitch(g->b, proto, none, 2);
        LLVMAddCase(sw, k64(g, 17), udp);
        LLVMAddCase(sw, k64(g, 6), tcp);
        at(g, udp);
        LLVMBuildCondBr(g->b, fits(g, off, 8, umin(g, end, g->cap)), udp_ok, none);
        at(g, udp_ok);
        LLVMValueRef sport = rd16(g, off, 0), dport = rd16(g, off, 2);
        LLVMValueRef is_dns = LLVMBuildAnd(
            g->b, cmp(g, LLVMIntNE, dport, k64(g, HTS_PORT_VXLAN)),
            LLVMBuildOr(g->b, cmp(g, LLVMIntEQ, sport, k64(g, HTS_PORT_DNS)),
                        cmp(g, LLVMIntEQ, dport, k64(g, HTS_PORT_DNS)), ""), "");
        LLVMBuildCondBr(g->b, is_dns, dns, none);
        at(g, dns);
        LLVMValueRef dargs[6] = {g->scratch, g->data, g->cap, off, end, LLVMConstInt(g->t32, want, 0)};
        LLVMBuildCall2(g->b, g->udp_dns_ty, g->udp_dns_fn, dargs, 6, "");
        LLVMBuildBr(g->b, cont);
        at(g, none);
        for (int w = 0; w < HTS_PRESENT_WORDS; w++) {
            LLVMValueRef pw = ptr_at(g, g->scratch, k64(g, offsetof(struct hts_pkt, present) + (size_t)w * 8), g->t64);
            LLVMBuildStore(g->b, k64(g, 0), pw);
        }
        LLVMBuildStore(g->b, LLVMConstInt(g->t8, 0, 0),
                       ptr_at(g, g->scratch, k64(g, offsetof(struct hts_pkt, n_an_types)), g->t8));
        LLVMBuildBr(g->b, cont);
        at(g, tcp);
    }
    LLVMValueRef args[6] = {g->ctx, g->pkt, proto, off, end, k64(g, want)};
    LLVMBuildCall2(g->b, g->decode_ty, g->decode_fn, args, 6, "");
    LLVMBuildBr(g->b, cont);
    at(g, cont);
}

static LLVMValueRef i128_pair(struct gen *g, LLVMValueRef lo, LLVMValueRef hi)
{
    return LLVMBuildOr(g->b, LLVMBuildZExt(g->b, lo, g->t128, ""),
                       LLVMBuildShl(g->b, LLVMBuildZExt(g->b, hi, g->t128, ""),
                                    LLVMConstInt(g->t128, 64, 0), ""), "");
}

static LLVMValueRef lo64(struct gen *g, LLVMValueRef v)
{
    return LLVMBuildTrunc(g->b, v, g->t64, "");
}

static LLVMValueRef hi64(struct gen *g, LLVMValueRef v)
{
    return LLVMBuildTrunc(g->b, LLVMBuildLShr(g->b, v, LLVMConstInt(g->t128, 64, 0), ""), g->t64, "");
}

/* Field f of the scratch packet (struct hts_pkt), in this file's encoding. */
static struct cv gen_slow_field(struct gen *g, enum hts_field f)
{
    ensure_slow(g);
    enum hts_type t = hts_fields[f].type;
    size_t fo = offsetof(struct hts_pkt, f) + (size_t)f * sizeof(union hts_fv);
    LLVMValueRef word = load_at(g, g->t64, g->scratch,
                                offsetof(struct hts_pkt, present) + (size_t)(f >> 6) * 8);
    LLVMValueRef p = LLVMBuildTrunc(g->b, LLVMBuildLShr(g->b, word, k64(g, (uint64_t)(f & 63)), ""),
                                    g->t1, "");
    LLVMValueRef v;
    switch (t) {
    case TY_MAC: {
        LLVMValueRef a = load(g, g->t16, ptr_at(g, g->scratch, k64(g, fo), g->t16));
        LLVMValueRef b = load(g, g->t32, ptr_at(g, g->scratch, k64(g, fo + 2), g->t32));
        LLVMSetAlignment(a, 1);
        LLVMSetAlignment(b, 1);
        v = LLVMBuildOr(g->b, LLVMBuildShl(g->b, zext64(g, call1(g, "llvm.bswap", g->t16, a)), k64(g, 32), ""),
                        zext64(g, call1(g, "llvm.bswap", g->t32, b)), "");
        break;
    }
    case TY_IPV6: {
        LLVMValueRef a = load(g, g->t128, ptr_at(g, g->scratch, k64(g, fo), g->t128));
        LLVMSetAlignment(a, 1);
        v = call1(g, "llvm.bswap", g->t128, a);
        break;
    }
    case TY_STR:
        v = i128_pair(g, load_at(g, g->t64, g->scratch, fo + offsetof(hts_str, p)),
                      zext64(g, load_at(g, g->t32, g->scratch, fo + offsetof(hts_str, n))));
        break;
    case TY_TYPESET:
        v = i128_pair(g, LLVMBuildPtrToInt(g->b, ptr_at(g, g->scratch, k64(g, offsetof(struct hts_pkt, an_types)), g->t8),
                                           g->t64, ""),
                      zext64(g, load_at(g, g->t8, g->scratch, offsetof(struct hts_pkt, n_an_types))));
        break;
    default: /* UINT, IPV4: the low bits of u */
        v = load_at(g, g->t64, g->scratch, fo);
        break;
    }
    return mk(v, p, t);
}

/* Whether evaluating e may call the interpreter's decoder. */
static bool is_slow(const struct ast_expr *e)
{
    if (!e)
        return false;
    if (e->kind == E_NAME && e->ref_kind == REF_FIELD && !jit_field_native(e->ref))
        return true;
    if (is_slow(e->a) || is_slow(e->b))
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (is_slow(e->args[i]))
            return true;
    return false;
}

/* A string test through ctx->bytes: (present a and b) and op(a, b); an
 * absent side passes a null pointer, never a stale one. */
static LLVMValueRef gen_bytes(struct gen *g, struct cv a, struct cv b, int op)
{
    LLVMValueRef both = LLVMBuildAnd(g->b, a.p, b.p, "");
    LLVMValueRef args[5] = {
        LLVMBuildIntToPtr(g->b, sel(g, both, lo64(g, a.v), k64(g, 0)), g->p8, ""),
        sel(g, both, hi64(g, a.v), k64(g, 0)),
        LLVMBuildIntToPtr(g->b, sel(g, both, lo64(g, b.v), k64(g, 0)), g->p8, ""),
        sel(g, both, hi64(g, b.v), k64(g, 0)),
        LLVMConstInt(g->t32, (unsigned)op, 0),
    };
    LLVMValueRef r = LLVMBuildCall2(g->b, g->bytes_ty, g->bytes_fn, args, 5, "");
    return cmp(g, LLVMIntNE, r, LLVMConstInt(g->t32, 0, 0));
}

static struct cv gen_in(struct gen *g, const struct ast_expr *e, const struct cv *row)
{
    struct cv a = gen_expr(g, e->a, row);
    const struct ast_expr *b = e->b;
    if (b->kind == E_RANGE) {
        struct cv lo = gen_expr(g, b->a, row), hi = gen_expr(g, b->b, row);
        LLVMValueRef in = LLVMBuildAnd(g->b, cmp(g, LLVMIntSGE, a.v, lo.v),
                                       cmp(g, LLVMIntSLE, a.v, hi.v), "");
        LLVMValueRef p = LLVMBuildAnd(g->b, a.p, LLVMBuildAnd(g->b, lo.p, hi.p, ""), "");
        return mk(zext64(g, in), p, TY_BOOL);
    }
    if (b->kind == E_SET) {
        LLVMValueRef r = k1(g, false);
        for (int i = 0; i < b->nargs; i++) {
            hts_value x = exec_eval(b->args[i], NULL, NULL);
            LLVMValueRef hit;
            if (!x.present)
                continue; /* equal to nothing present */
            if (x.type == TY_PREFIX4 || x.type == TY_PREFIX6) {
                if ((x.type == TY_PREFIX6) != (a.t == TY_IPV6))
                    continue;
                hit = gen_prefix_match(g, a.v, &x);
            } else if (x.type != a.t) {
                continue; /* hts_value_eq: other types differ */
            } else if (x.type == TY_STR) {
                hit = gen_bytes(g, a, mk(konst(g, &x), k1(g, true), TY_STR), 0);
            } else {
                hit = cmp(g, LLVMIntEQ, a.v, konst(g, &x));
            }
            r = LLVMBuildOr(g->b, r, hit, "");
        }
        return mk(zext64(g, r), a.p, TY_BOOL);
    }
    hts_value x = exec_eval(b, NULL, NULL);
    if (!x.present || (x.type != TY_PREFIX4 && x.type != TY_PREFIX6))
        return mk(k64(g, 0), k1(g, false), TY_BOOL);
    return mk(zext64(g, gen_prefix_match(g, a.v, &x)), a.p, TY_BOOL);
}

static bool is_unsigned(enum hts_type t)
{
    return t == TY_IPV4 || t == TY_IPV6 || t == TY_MAC;
}

static struct cv gen_binary(struct gen *g, const struct ast_expr *e, const struct cv *row)
{
    if (e->op == OP_IN)
        return gen_in(g, e, row);
    if ((e->op == OP_AND || e->op == OP_OR) && is_slow(e->b)) {
        /* the right side may call the decoder: only when the left side
         * does not decide (udp.sport == 53 and dns.ancount >= 1) */
        bool is_and = e->op == OP_AND;
        LLVMValueRef decide = k64(g, !is_and);
        struct cv a = gen_expr(g, e->a, row);
        LLVMValueRef ad = LLVMBuildAnd(g->b, a.p, cmp(g, LLVMIntEQ, a.v, decide), "");
        LLVMBasicBlockRef from = here(g), rhs = blk(g, "rhs"), join = blk(g, "rhs.join");
        LLVMBuildCondBr(g->b, ad, join, rhs);
        at(g, rhs);
        struct cv b = gen_expr(g, e->b, row);
        LLVMValueRef bd = LLVMBuildAnd(g->b, b.p, cmp(g, LLVMIntEQ, b.v, decide), "");
        LLVMValueRef both = LLVMBuildAnd(g->b, a.p, b.p, "");
        LLVMValueRef v1 = sel(g, bd, decide, k64(g, is_and));
        LLVMValueRef p1 = LLVMBuildOr(g->b, bd, both, "");
        LLVMBasicBlockRef rend = here(g);
        LLVMBuildBr(g->b, join);
        at(g, join);
        LLVMValueRef v = LLVMBuildPhi(g->b, g->t64, ""), p = LLVMBuildPhi(g->b, g->t1, "");
        LLVMValueRef t1 = k1(g, true);
        LLVMAddIncoming(v, &decide, &from, 1);
        LLVMAddIncoming(p, &t1, &from, 1);
        LLVMAddIncoming(v, &v1, &rend, 1);
        LLVMAddIncoming(p, &p1, &rend, 1);
        return mk(v, p, TY_BOOL);
    }
    struct cv a = gen_expr(g, e->a, row), b = gen_expr(g, e->b, row);
    LLVMValueRef both = LLVMBuildAnd(g->b, a.p, b.p, "");
    LLVMBuilderRef B = g->b;
    if (a.t == TY_STR && (e->op == OP_EQ || e->op == OP_NE)) {
        LLVMValueRef eq = gen_bytes(g, a, b, 0);
        if (e->op == OP_NE)
            eq = LLVMBuildNot(B, eq, "");
        return mk(zext64(g, eq), both, TY_BOOL);
    }
    if (e->op == OP_CONTAINS || e->op == OP_STARTSWITH || e->op == OP_ENDSWITH)
        return mk(zext64(g, gen_bytes(g, a, b, e->op == OP_CONTAINS ? 1 : e->op == OP_STARTSWITH ? 2 : 3)),
                  both, TY_BOOL);
    if (e->op == OP_HAS && a.t == TY_TYPESET) {
        /* exec.c's 'has' on a code set: the set's codes (i16, at most
         * HTS_MAX_AN_TYPES) against b; none when either side is absent */
        LLVMValueRef set = LLVMBuildIntToPtr(B, sel(g, both, lo64(g, a.v), k64(g, 0)), g->p8, "");
        LLVMValueRef n = sel(g, both, hi64(g, a.v), k64(g, 0));
        LLVMBasicBlockRef pre = here(g), head = blk(g, "has.head"), body = blk(g, "has.body"),
                          done = blk(g, "has.done");
        LLVMBuildBr(B, head);
        at(g, head);
        LLVMValueRef i = LLVMBuildPhi(B, g->t64, "");
        LLVMValueRef zero = k64(g, 0);
        LLVMAddIncoming(i, &zero, &pre, 1);
        LLVMBuildCondBr(B, cmp(g, LLVMIntULT, i, n), body, done);
        at(g, body);
        LLVMValueRef code = zext64(g, load(g, g->t16, ptr_at(g, set, LLVMBuildShl(B, i, k64(g, 1), ""), g->t16)));
        LLVMValueRef hit = cmp(g, LLVMIntEQ, code, b.v);
        LLVMValueRef i1 = add(g, i, k64(g, 1));
        LLVMAddIncoming(i, &i1, &body, 1);
        LLVMBuildCondBr(B, hit, done, head);
        at(g, done);
        LLVMValueRef r = LLVMBuildPhi(B, g->t1, "");
        LLVMValueRef f = k1(g, false), t = k1(g, true);
        LLVMAddIncoming(r, &f, &head, 1);
        LLVMAddIncoming(r, &t, &body, 1);
        return mk(zext64(g, r), both, TY_BOOL);
    }
    if (e->op == OP_AND || e->op == OP_OR) {
        /* SQL: false and _ / true or _ decide; else unknown if either is */
        bool is_and = e->op == OP_AND;
        LLVMValueRef decide = k64(g, !is_and);
        LLVMValueRef ad = LLVMBuildAnd(B, a.p, cmp(g, LLVMIntEQ, a.v, decide), "");
        LLVMValueRef bd = LLVMBuildAnd(B, b.p, cmp(g, LLVMIntEQ, b.v, decide), "");
        LLVMValueRef dec = LLVMBuildOr(B, ad, bd, "");
        return mk(sel(g, dec, decide, k64(g, is_and)), LLVMBuildOr(B, dec, both, ""), TY_BOOL);
    }
    bool u = is_unsigned(a.t);
    switch (e->op) {
    case OP_EQ: return mk(zext64(g, cmp(g, LLVMIntEQ, a.v, b.v)), both, TY_BOOL);
    case OP_NE: return mk(zext64(g, cmp(g, LLVMIntNE, a.v, b.v)), both, TY_BOOL);
    case OP_LT: return mk(zext64(g, cmp(g, u ? LLVMIntULT : LLVMIntSLT, a.v, b.v)), both, TY_BOOL);
    case OP_LE: return mk(zext64(g, cmp(g, u ? LLVMIntULE : LLVMIntSLE, a.v, b.v)), both, TY_BOOL);
    case OP_GT: return mk(zext64(g, cmp(g, u ? LLVMIntUGT : LLVMIntSGT, a.v, b.v)), both, TY_BOOL);
    case OP_GE: return mk(zext64(g, cmp(g, u ? LLVMIntUGE : LLVMIntSGE, a.v, b.v)), both, TY_BOOL);
    case OP_HAS:
        return mk(zext64(g, cmp(g, LLVMIntEQ, LLVMBuildAnd(B, a.v, b.v, ""), b.v)), both,
                  TY_BOOL);
    case OP_BOR: return mk(LLVMBuildOr(B, a.v, b.v, ""), both, TY_INT);
    case OP_BAND: return mk(LLVMBuildAnd(B, a.v, b.v, ""), both, TY_INT);
    case OP_ADD: return mk(LLVMBuildAdd(B, a.v, b.v, ""), both, TY_INT);
    case OP_SUB: return mk(LLVMBuildSub(B, a.v, b.v, ""), both, TY_INT);
    case OP_MUL: return mk(LLVMBuildMul(B, a.v, b.v, ""), both, TY_INT);
    case OP_DIV:
        if (a.t == TY_IPV4 || a.t == TY_IPV6) { /* prefix mask: constant length */
            hts_value len = exec_eval(e->b, NULL, NULL);
            int max = a.t == TY_IPV4 ? 32 : 128;
            int plen = len.u.i < 0 ? 0 : len.u.i > max ? max : (int)len.u.i;
            return mk(LLVMBuildAnd(B, a.v, prefix_mask(g, a.t == TY_IPV6, plen), ""), both,
                      a.t);
        }
        /* fallthrough */
    case OP_MOD: {
        /* x / 0 and INT64_MIN / -1 are absent, never a trap */
        LLVMValueRef bad = LLVMBuildOr(
            B, cmp(g, LLVMIntEQ, b.v, k64(g, 0)),
            LLVMBuildAnd(B, cmp(g, LLVMIntEQ, a.v, k64(g, (uint64_t)INT64_MIN)),
                         cmp(g, LLVMIntEQ, b.v, k64(g, (uint64_t)-1)), ""), "");
        LLVMValueRef d = sel(g, bad, k64(g, 1), b.v);
        LLVMValueRef r = e->op == OP_DIV ? LLVMBuildSDiv(B, a.v, d, "") : LLVMBuildSRem(B, a.v, d, "");
        return mk(r, LLVMBuildAnd(B, both, LLVMBuildNot(B, bad, ""), ""), TY_INT);
    }
    default:
        fail(g, "jit_gen: operator %s", ast_op_text[e->op]);
        return mk(k64(g, 0), k1(g, false), TY_INT);
    }
}

/* hts_value_hash(v, 0): FNV-1a over the presence byte and the value's
 * canonical bytes. */
static LLVMValueRef fnv_byte(struct gen *g, LLVMValueRef h, LLVMValueRef byte)
{
    h = LLVMBuildXor(g->b, h, byte, "");
    return LLVMBuildMul(g->b, h, k64(g, 0x100000001b3ULL), "");
}

static LLVMValueRef gen_hash(struct gen *g, struct cv a)
{
    uint64_t basis = 0xcbf29ce484222325ULL, prime = 0x100000001b3ULL;
    uint64_t absent = (basis ^ 0) * prime;
    LLVMValueRef h = k64(g, (basis ^ 1) * prime);
    int n = a.t == TY_IPV6 ? 16 : a.t == TY_MAC ? 6 : a.t == TY_IPV4 ? 4 : 8;
    for (int i = 0; i < n; i++) {
        LLVMValueRef byte;
        if (a.t == TY_IPV6) {
            byte = LLVMBuildTrunc(g->b, LLVMBuildLShr(g->b, a.v, LLVMConstInt(g->t128, (unsigned)(120 - 8 * i), 0), ""),
                                  g->t64, "");
        } else {
            int sh = a.t == TY_INT || a.t == TY_BOOL ? 8 * i : 8 * (n - 1 - i);
            byte = LLVMBuildLShr(g->b, a.v, k64(g, (uint64_t)sh), "");
        }
        h = fnv_byte(g, h, LLVMBuildAnd(g->b, byte, k64(g, 0xff), ""));
    }
    h = sel(g, a.p, h, k64(g, absent));
    return LLVMBuildAnd(g->b, h, k64(g, (uint64_t)INT64_MAX), "");
}

static struct cv gen_call(struct gen *g, const struct ast_expr *e, const struct cv *row)
{
    struct cv a = gen_expr(g, e->args[0], row);
    LLVMBuilderRef B = g->b;
    switch ((enum hts_fn)e->fn) {
    case FN_MIN2:
    case FN_MAX2: {
        struct cv b = gen_expr(g, e->args[1], row);
        LLVMValueRef lt = cmp(g, LLVMIntSLT, a.v, b.v);
        LLVMValueRef v = e->fn == FN_MIN2 ? sel(g, lt, a.v, b.v) : sel(g, lt, b.v, a.v);
        return mk(v, LLVMBuildAnd(B, a.p, b.p, ""), a.t);
    }
    case FN_ABS:
        return mk(sel(g, cmp(g, LLVMIntSLT, a.v, k64(g, 0)), LLVMBuildSub(B, k64(g, 0), a.v, ""),
                      a.v),
                  a.p, TY_INT);
    case FN_HASH:
        return mk(gen_hash(g, a), k1(g, true), TY_INT);
    case FN_COALESCE: {
        struct cv b = gen_expr(g, e->args[1], row);
        return mk(sel(g, a.p, a.v, b.v), LLVMBuildOr(B, a.p, b.p, ""), a.t);
    }
    case FN_PRESENT:
        return mk(zext64(g, a.p), k1(g, true), TY_BOOL);
    default:
        fail(g, "jit_gen: function %d", e->fn);
        return mk(k64(g, 0), k1(g, false), TY_INT);
    }
}

static struct cv gen_expr(struct gen *g, const struct ast_expr *e, const struct cv *row)
{
    switch (e->kind) {
    case E_LIT:
        return mk(konst(g, &e->lit), k1(g, e->lit.present), (enum hts_type)e->lit.type);
    case E_NAME:
        if (e->ref_kind == REF_FIELD) {
            enum hts_type t = hts_fields[e->ref].type;
            if (!jit_field_native(e->ref))
                return gen_slow_field(g, (enum hts_field)e->ref);
            if (!g->pl->need[e->ref] || !g->fv[e->ref]) {
                fail(g, "jit_gen: field %s not planned", hts_fields[e->ref].name);
                return mk(k64(g, 0), k1(g, false), t);
            }
            return mk(load(g, vtype(g, t), g->fv[e->ref]), load(g, g->t1, g->fp[e->ref]), t);
        }
        if (e->ref_kind == REF_COL && row)
            return row[e->ref];
        if (e->ref_kind == REF_STATE && g->state)
            return g->state[e->ref];
        fail(g, "jit_gen: name %s", e->name);
        return mk(k64(g, 0), k1(g, false), e->type);
    case E_UNARY: {
        struct cv a = gen_expr(g, e->a, row);
        if (e->op == OP_NOT)
            return mk(zext64(g, cmp(g, LLVMIntEQ, a.v, k64(g, 0))), a.p, TY_BOOL);
        return mk(LLVMBuildSub(g->b, k64(g, 0), a.v, ""), a.p, TY_INT);
    }
    case E_BINARY:
        return gen_binary(g, e, row);
    case E_CALL:
        return gen_call(g, e, row);
    default:
        fail(g, "jit_gen: expression kind %d", e->kind);
        return mk(k64(g, 0), k1(g, false), TY_INT);
    }
}

/* ---- sinks ---- */

/* exec_sample_hash: CRC-32 (reflected, table-driven) of ts, big-endian. */
static LLVMValueRef gen_crc(struct gen *g)
{
    if (!g->crc_tab) {
        LLVMValueRef vals[256];
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
            vals[i] = LLVMConstInt(g->t32, c, 0);
        }
        g->crc_ty = LLVMArrayType(g->t32, 256);
        g->crc_tab = LLVMAddGlobal(g->m, g->crc_ty, "crc32_table");
        LLVMSetInitializer(g->crc_tab, LLVMConstArray(g->t32, vals, 256));
        LLVMSetGlobalConstant(g->crc_tab, 1);
        LLVMSetLinkage(g->crc_tab, LLVMPrivateLinkage);
    }
    LLVMValueRef crc = k64(g, 0xffffffffu);
    for (int i = 7; i >= 0; i--) {
        LLVMValueRef byte = LLVMBuildAnd(g->b, LLVMBuildLShr(g->b, g->ts, k64(g, (uint64_t)(8 * i)), ""),
                                         k64(g, 0xff), "");
        LLVMValueRef ix = LLVMBuildAnd(g->b, LLVMBuildXor(g->b, crc, byte, ""), k64(g, 0xff), "");
        LLVMValueRef idx[2] = {k64(g, 0), ix};
        LLVMValueRef t = load(g, g->t32, LLVMBuildInBoundsGEP2(g->b, g->crc_ty, g->crc_tab, idx, 2, ""));
        crc = LLVMBuildXor(g->b, zext64(g, t), LLVMBuildLShr(g->b, crc, k64(g, 8), ""), "");
    }
    return LLVMBuildXor(g->b, crc, k64(g, 0xffffffffu), "");
}

/* The words of value v (1 or 2) into w. */
static int words(struct gen *g, struct cv v, LLVMValueRef *w)
{
    if (v.t != TY_IPV6) {
        w[0] = v.v;
        return 1;
    }
    w[0] = LLVMBuildTrunc(g->b, LLVMBuildLShr(g->b, v.v, LLVMConstInt(g->t128, 64, 0), ""), g->t64, "");
    w[1] = LLVMBuildTrunc(g->b, v.v, g->t64, "");
    return 2;
}

static LLVMValueRef word_ptr(struct gen *g, LLVMValueRef base, LLVMValueRef idx)
{
    return LLVMBuildInBoundsGEP2(g->b, g->t64, base, &idx, 1, "");
}

static void store_word(struct gen *g, LLVMValueRef base, LLVMValueRef idx, LLVMValueRef v)
{
    LLVMBuildStore(g->b, v, word_ptr(g, base, idx));
}

static LLVMValueRef load_word(struct gen *g, LLVMValueRef base, LLVMValueRef idx)
{
    return load(g, g->t64, word_ptr(g, base, idx));
}

/* A murmur-style mix of the key words: tables index with its low bits. */
static LLVMValueRef gen_key_hash(struct gen *g, LLVMValueRef *kw, int n)
{
    LLVMValueRef h = k64(g, 0x9e3779b97f4a7c15ULL);
    for (int i = 0; i < n; i++) {
        h = LLVMBuildXor(g->b, h, kw[i], "");
        h = LLVMBuildMul(g->b, h, k64(g, 0xff51afd7ed558ccdULL), "");
        h = LLVMBuildXor(g->b, h, LLVMBuildLShr(g->b, h, k64(g, 32), ""), "");
    }
    h = LLVMBuildXor(g->b, h, LLVMBuildLShr(g->b, h, k64(g, 33), ""), "");
    h = LLVMBuildMul(g->b, h, k64(g, 0xc4ceb9fe1a85ec53ULL), "");
    return LLVMBuildXor(g->b, h, LLVMBuildLShr(g->b, h, k64(g, 29), ""), "");
}

static void gen_fold(struct gen *g, const struct jit_sink *s, int slot, LLVMValueRef ep,
                     const struct cv *row);

/* Finds or inserts the key in table t and updates the aggregates (or runs
 * the fold), then continues at done. A table at its limit refuses a new
 * key: groupby and distinct tables never are at the start of a packet (C
 * empties them when they fill), a fold's may be (it cannot be emptied
 * early: its state is not mergeable), and the refusal is counted. */
static void gen_table_update(struct gen *g, const struct jit_sink *s, int t,
                             LLVMValueRef h, LLVMValueRef *kw, int nkw,
                             const struct cv *args, const struct cv *row,
                             const struct cv *keys, LLVMBasicBlockRef done)
{
    const struct ir_node *n = s->node;
    LLVMValueRef mask = g->t_mask[t], gen = g->t_gen[t], index = g->t_index[t],
                 ent = g->t_ent[t];
    LLVMValueRef stride = k64(g, (uint64_t)s->stride);
    LLVMBasicBlockRef pre = here(g), probe = blk(g, "probe"), chk = blk(g, "probe.cmp"),
                      nxt = blk(g, "probe.next"), ins = blk(g, "insert"),
                      found = blk(g, "found");
    LLVMValueRef i0 = LLVMBuildAnd(g->b, h, mask, "");
    LLVMBuildBr(g->b, probe);
    at(g, probe);
    LLVMValueRef i = LLVMBuildPhi(g->b, g->t64, "slot");
    LLVMAddIncoming(i, &i0, &pre, 1);
    LLVMValueRef slot = load_word(g, index, i);
    LLVMValueRef empty = cmp(g, LLVMIntNE, LLVMBuildLShr(g->b, slot, k64(g, 32), ""), gen);
    LLVMBuildCondBr(g->b, empty, ins, chk);

    at(g, chk);
    LLVMValueRef e = word_ptr(g, ent, LLVMBuildMul(g->b, LLVMBuildAnd(g->b, slot, k64(g, 0xffffffffu), ""),
                                                   stride, ""));
    LLVMValueRef eq = cmp(g, LLVMIntEQ, load_word(g, e, k64(g, 0)), h);
    if (s->nstr) { /* strings are compared only when the hashes agree */
        LLVMBasicBlockRef chk2 = blk(g, "probe.str");
        LLVMBuildCondBr(g->b, eq, chk2, nxt);
        at(g, chk2);
        eq = k1(g, true);
    }
    for (int k = 0; k < n->nkeys; k++) {
        int w = s->keyoff[k] - 1;
        LLVMValueRef ew = load_word(g, e, k64(g, (uint64_t)(1 + w)));
        if (n->cols[k].type != TY_STR) {
            for (int j = 0; j < s->keyw[k]; j++)
                eq = LLVMBuildAnd(g->b, eq, cmp(g, LLVMIntEQ, j ? load_word(g, e, k64(g, (uint64_t)(2 + w))) : ew,
                                                kw[w + j]), "");
            continue;
        }
        LLVMValueRef len = LLVMBuildAnd(g->b, ew, k64(g, 0xffffffffu), "");
        LLVMValueRef at_ = LLVMBuildInBoundsGEP2(g->b, g->t8, g->t_bytes[t],
                                                 (LLVMValueRef[]){LLVMBuildLShr(g->b, ew, k64(g, 32), "")}, 1, "");
        LLVMValueRef args2[5] = {at_, len, LLVMBuildIntToPtr(g->b, lo64(g, keys[k].v), g->p8, ""),
                                 hi64(g, keys[k].v), LLVMConstInt(g->t32, 0, 0)};
        LLVMValueRef same = LLVMBuildCall2(g->b, g->bytes_ty, g->bytes_fn, args2, 5, "");
        eq = LLVMBuildAnd(g->b, eq, cmp(g, LLVMIntNE, same, LLVMConstInt(g->t32, 0, 0)), "");
    }
    LLVMBasicBlockRef chkend = here(g);
    LLVMBuildCondBr(g->b, eq, found, nxt);

    at(g, nxt);
    LLVMValueRef i1 = LLVMBuildAnd(g->b, addk(g, i, 1), mask, "");
    LLVMAddIncoming(i, &i1, &nxt, 1);
    LLVMBuildBr(g->b, probe);

    at(g, ins);
    LLVMValueRef cnt = load(g, g->t64, g->tn_a[t]);
    {
        LLVMBasicBlockRef refuse = blk(g, "refuse"), room = blk(g, "room");
        LLVMBuildCondBr(g->b, cmp(g, LLVMIntUGE, cnt, g->t_limit[t]), refuse, room);
        at(g, refuse);
        LLVMValueRef rp = ptr_at(g, g->ctx, k64(g, offsetof(struct jit_ctx, refused)), g->t64);
        LLVMBuildStore(g->b, addk(g, load(g, g->t64, rp), 1), rp);
        LLVMBuildBr(g->b, done);
        at(g, room);
    }
    LLVMValueRef e2 = word_ptr(g, ent, LLVMBuildMul(g->b, cnt, stride, ""));
    store_word(g, index, i, LLVMBuildOr(g->b, LLVMBuildShl(g->b, gen, k64(g, 32), ""), cnt, ""));
    store_word(g, e2, k64(g, 0), h);
    for (int k = 0; k < nkw; k++)
        store_word(g, e2, k64(g, (uint64_t)(1 + k)), kw[k]);
    for (int k = 0; k < n->nkeys; k++) {
        if (n->cols[k].type != TY_STR)
            continue;
        /* a copy of the key's bytes: the packet's are gone by window close */
        LLVMValueRef len = hi64(g, keys[k].v);
        LLVMValueRef args2[3] = {g->t_self[t], LLVMBuildIntToPtr(g->b, lo64(g, keys[k].v), g->p8, ""), len};
        LLVMValueRef off = LLVMBuildCall2(g->b, g->str_put_ty, g->str_put_fn, args2, 3, "");
        store_word(g, e2, k64(g, (uint64_t)s->keyoff[k]),
                   LLVMBuildOr(g->b, LLVMBuildShl(g->b, off, k64(g, 32), ""), len, ""));
    }
    if (s->nstr) { /* room left for another packet's keys? */
        size_t base = (size_t)t * sizeof(struct jit_table);
        LLVMValueRef nb = zext64(g, load(g, g->t32, ptr_at(g, g->tabs, k64(g, base + offsetof(struct jit_table, nbytes)), g->t32)));
        LLVMValueRef cb = zext64(g, load(g, g->t32, ptr_at(g, g->tabs, k64(g, base + offsetof(struct jit_table, capbytes)), g->t32)));
        LLVMValueRef low = cmp(g, LLVMIntULT, LLVMBuildSub(g->b, cb, nb, ""),
                               k64(g, (uint64_t)JIT_STR_RESERVE * (uint64_t)s->nstr));
        LLVMBuildStore(g->b, LLVMBuildOr(g->b, load(g, g->t1, g->full_a), low, ""), g->full_a);
    }
    if (s->kind == SINK_FOLD) { /* the state's initial values (constants) */
        LLVMValueRef bits = k64(g, 0);
        struct cv *saved = g->state;
        g->state = NULL;
        for (int a = 0; a < s->node->naggs; a++) {
            struct cv v = gen_expr(g, s->node->aggs[a], NULL);
            LLVMValueRef w[2];
            int nw = words(g, v, w);
            for (int k = 0; k < nw; k++)
                store_word(g, e2, k64(g, (uint64_t)(s->aggoff[a] + k)), w[k]);
            bits = LLVMBuildOr(g->b, bits, LLVMBuildShl(g->b, zext64(g, v.p), k64(g, (uint64_t)a), ""), "");
        }
        g->state = saved;
        store_word(g, e2, k64(g, (uint64_t)s->presoff), bits);
    } else {
        for (int w = 1 + nkw; w < s->stride; w++)
            store_word(g, e2, k64(g, (uint64_t)w), k64(g, 0));
    }
    LLVMValueRef cnt1 = addk(g, cnt, 1);
    LLVMBuildStore(g->b, cnt1, g->tn_a[t]);
    LLVMValueRef full = cmp(g, LLVMIntUGE, addk(g, cnt1, (uint64_t)s->reserve), g->t_limit[t]);
    LLVMBuildStore(g->b, LLVMBuildOr(g->b, load(g, g->t1, g->full_a), full, ""), g->full_a);
    LLVMBasicBlockRef insb = here(g);
    LLVMBuildBr(g->b, found);

    at(g, found);
    LLVMValueRef ep = LLVMBuildPhi(g->b, LLVMPointerType(g->t64, 0), "entry");
    LLVMAddIncoming(ep, &e, &chkend, 1);
    LLVMAddIncoming(ep, &e2, &insb, 1);
    if (s->kind == SINK_FOLD) {
        gen_fold(g, s, t - s->table0, ep, row);
        LLVMBuildBr(g->b, done);
        return;
    }
    for (int a = 0; s->kind == SINK_GROUPBY && a < n->naggs; a++) {
        LLVMValueRef o = k64(g, (uint64_t)s->aggoff[a]), o1 = k64(g, (uint64_t)s->aggoff[a] + 1);
        LLVMValueRef cur = load_word(g, ep, o);
        enum ast_agg agg = n->aggs[a]->agg;
        if (agg == AGG_COUNT) {
            store_word(g, ep, o, addk(g, cur, 1));
            continue;
        }
        LLVMValueRef seen = load_word(g, ep, o1);
        LLVMValueRef v = args[a].v, p = args[a].p, nv;
        if (agg == AGG_SUM || agg == AGG_AVG) {
            nv = add(g, cur, sel(g, p, v, k64(g, 0)));
        } else {
            LLVMValueRef better = cmp(g, agg == AGG_MIN ? LLVMIntSLT : LLVMIntSGT, v, cur);
            LLVMValueRef take = LLVMBuildAnd(g->b, p, LLVMBuildOr(g->b, cmp(g, LLVMIntEQ, seen, k64(g, 0)),
                                                                  better, ""), "");
            nv = sel(g, take, v, cur);
        }
        store_word(g, ep, o, nv);
        store_word(g, ep, o1, add(g, seen, zext64(g, p)));
    }
    LLVMBuildBr(g->b, done);
}

/* ---- folds (exec.c: fold_run) ---- */

/* Writes an emitted row: keys (the entry's words: a string key is its
 * offset in the table) and the state as it is now. */
static void gen_chain(struct gen *g, const struct jit_sink *f, int slot, LLVMValueRef ep);

static void gen_emit(struct gen *g, const struct jit_sink *s, int slot, LLVMValueRef ep)
{
    const struct ir_node *n = s->node;
    if (s->chain) {
        gen_chain(g, s, slot, ep);
        return;
    }
    LLVMValueRef on = load(g, g->t64, g->outn_a);
    LLVMValueRef base = word_ptr(g, g->out, on);
    uint64_t tag = (uint64_t)s->q->index | (uint64_t)(s - g->pl->sinks + 1) << 32;
    store_word(g, base, k64(g, 0), k64(g, tag));
    store_word(g, base, k64(g, 1), g->slot_ws[slot]);
    LLVMValueRef mask = k64(g, (1ull << n->nkeys) - 1);
    int o = JIT_ROW_HDR;
    for (int c = 0; c < n->ncols; c++) {
        LLVMValueRef w[2];
        int nw;
        if (c < n->nkeys) {
            nw = s->keyw[c];
            for (int k = 0; k < nw; k++)
                w[k] = load_word(g, ep, k64(g, (uint64_t)(s->keyoff[c] + k)));
        } else {
            nw = words(g, g->state[c - n->nkeys], w);
        }
        for (int k = 0; k < nw; k++)
            store_word(g, base, k64(g, (uint64_t)(o + k)), w[k]);
        o += nw;
        if (c >= n->nkeys)
            mask = LLVMBuildOr(g->b, mask, LLVMBuildShl(g->b, zext64(g, g->state[c - n->nkeys].p),
                                                        k64(g, (uint64_t)c), ""), "");
    }
    store_word(g, base, k64(g, 2), mask);
    LLVMBuildStore(g->b, addk(g, on, (uint64_t)s->emit_words), g->outn_a);
}

/* The statements, in order, on g->state (SSA values: an if merges the two
 * branches' states with phis). */
static void gen_stmts(struct gen *g, const struct jit_sink *s, int slot, struct ast_stmt **v,
                      int nv, const struct cv *row, LLVMValueRef ep)
{
    int ns = s->node->naggs;
    for (int i = 0; i < nv && !g->failed; i++) {
        const struct ast_stmt *st = v[i];
        if (st->kind == S_EMIT) {
            gen_emit(g, s, slot, ep);
        } else if (st->kind == S_ASSIGN) {
            /* evaluate, then store: "x = x + 1" reads the old x */
            struct cv r = gen_expr(g, st->expr, row);
            r.t = s->node->cols[s->node->nkeys + st->ref].type;
            g->state[st->ref] = r;
        } else {
            struct cv c = gen_expr(g, st->expr, row);
            LLVMValueRef ok = LLVMBuildAnd(g->b, c.p, cmp(g, LLVMIntNE, c.v, k64(g, 0)), "");
            LLVMBasicBlockRef tb = blk(g, "if.then"), eb = blk(g, "if.else"), jb = blk(g, "if.end");
            LLVMBuildCondBr(g->b, ok, tb, eb);
            struct cv before[IR_MAX_AGGS], after_then[IR_MAX_AGGS];
            memcpy(before, g->state, (size_t)ns * sizeof *before);
            at(g, tb);
            gen_stmts(g, s, slot, (struct ast_stmt **)st->then_.v, st->then_.n, row, ep);
            LLVMBasicBlockRef tend = here(g);
            LLVMBuildBr(g->b, jb);
            memcpy(after_then, g->state, (size_t)ns * sizeof *after_then);
            memcpy(g->state, before, (size_t)ns * sizeof *before);
            at(g, eb);
            gen_stmts(g, s, slot, (struct ast_stmt **)st->else_.v, st->else_.n, row, ep);
            LLVMBasicBlockRef eend = here(g);
            LLVMBuildBr(g->b, jb);
            at(g, jb);
            for (int k = 0; k < ns; k++) {
                struct cv *x = &g->state[k], *y = &after_then[k];
                if (x->v == y->v && x->p == y->p)
                    continue;
                LLVMValueRef pv = LLVMBuildPhi(g->b, LLVMTypeOf(x->v), "");
                LLVMValueRef pp = LLVMBuildPhi(g->b, g->t1, "");
                LLVMAddIncoming(pv, &y->v, &tend, 1);
                LLVMAddIncoming(pp, &y->p, &tend, 1);
                LLVMAddIncoming(pv, &x->v, &eend, 1);
                LLVMAddIncoming(pp, &x->p, &eend, 1);
                x->v = pv;
                x->p = pp;
            }
        }
    }
}

/* Loads the key's state from entry ep, runs the body, stores it back. */
static void gen_fold(struct gen *g, const struct jit_sink *s, int slot, LLVMValueRef ep,
                     const struct cv *row)
{
    const struct ir_node *n = s->node;
    struct cv st[IR_MAX_AGGS];
    LLVMValueRef bits = load_word(g, ep, k64(g, (uint64_t)s->presoff));
    for (int a = 0; a < n->naggs; a++) {
        enum hts_type t = n->cols[n->nkeys + a].type;
        LLVMValueRef v = load_word(g, ep, k64(g, (uint64_t)s->aggoff[a]));
        if (t == TY_IPV6)
            v = i128_pair(g, load_word(g, ep, k64(g, (uint64_t)s->aggoff[a] + 1)), v);
        st[a] = mk(v, LLVMBuildTrunc(g->b, LLVMBuildLShr(g->b, bits, k64(g, (uint64_t)a), ""), g->t1, ""),
                   t);
    }
    struct cv *saved = g->state;
    g->state = st;
    gen_stmts(g, s, slot, n->body, n->nbody, row, ep);
    g->state = saved;
    LLVMValueRef nb = k64(g, 0);
    for (int a = 0; a < n->naggs; a++) {
        LLVMValueRef w[2];
        int nw = words(g, st[a], w);
        for (int k = 0; k < nw; k++)
            store_word(g, ep, k64(g, (uint64_t)(s->aggoff[a] + k)), w[k]);
        nb = LLVMBuildOr(g->b, nb, LLVMBuildShl(g->b, zext64(g, st[a].p), k64(g, (uint64_t)a), ""), "");
    }
    store_word(g, ep, k64(g, (uint64_t)s->presoff), nb);
}

/* Window slots of a stateful query for this packet: valid[j] when the
 * packet belongs to the open window held in slot j (exec.c: route). Adds
 * the packet to the query's late count if one of its windows closed. */
static void gen_slots(struct gen *g, const struct jit_sink *s, LLVMValueRef wm,
                      LLVMValueRef *valid)
{
    const struct ir_query *q = s->q;
    uint64_t W = (uint64_t)q->window_ns, H = (uint64_t)q->hop_ns;
    int K = s->nslots;
    LLVMValueRef nonneg = cmp(g, LLVMIntSGE, g->ts, k64(g, 0));
    LLVMValueRef q0 = LLVMBuildUDiv(g->b, g->ts, k64(g, H), "");
    LLVMValueRef s0 = LLVMBuildMul(g->b, q0, k64(g, H), "");
    LLVMValueRef r = LLVMBuildURem(g->b, q0, k64(g, (uint64_t)K), "");
    LLVMValueRef late = k1(g, false);
    for (int j = 0; j < K; j++) {
        /* slot j holds the window whose start / H is j modulo K */
        LLVMValueRef d = sel(g, cmp(g, LLVMIntUGE, r, k64(g, (uint64_t)j)),
                             LLVMBuildSub(g->b, r, k64(g, (uint64_t)j), ""),
                             addk(g, r, (uint64_t)(K - j)));
        LLVMValueRef sj = LLVMBuildSub(g->b, s0, LLVMBuildMul(g->b, d, k64(g, H), ""), "");
        g->slot_ws[j] = sj;
        LLVMValueRef mine = LLVMBuildAnd(g->b, nonneg, cmp(g, LLVMIntSGE, sj, k64(g, 0)), "");
        LLVMValueRef open = cmp(g, LLVMIntSGT, addk(g, sj, W), wm);
        valid[j] = LLVMBuildAnd(g->b, mine, open, "");
        late = LLVMBuildOr(g->b, late, LLVMBuildAnd(g->b, mine, LLVMBuildNot(g->b, open, ""), ""), "");
    }
    LLVMValueRef la = g->late_a[s->late];
    LLVMBuildStore(g->b, add(g, load(g, g->t64, la), zext64(g, late)), la);
}

/*
 * A filter: to `skip` unless e is true. A filter keeps only true, so
 * "a and b" is two tests, and in any order (expressions have no effects and
 * cannot trap): the conjuncts that may call the interpreter's decoder go
 * last (slow: false emits the others, true those), after every cheap one
 * decided the packet is worth it. Without this, "udp.sport == 53 and
 * dns.ancount >= 1" on a TCP packet (udp.sport absent: unknown, which the
 * three-valued 'and' must tell from false) decoded DNS for nothing. A
 * condition without such a field stays one branch-free test.
 */
static void gen_filter(struct gen *g, const struct ast_expr *e, const struct cv *row,
                       LLVMBasicBlockRef skip, bool slow)
{
    if (e->kind == E_BINARY && e->op == OP_AND && is_slow(e)) {
        gen_filter(g, e->a, row, skip, slow);
        gen_filter(g, e->b, row, skip, slow);
        return;
    }
    if (is_slow(e) != slow)
        return;
    struct cv c = gen_expr(g, e, row);
    check(g, LLVMBuildAnd(g->b, c.p, cmp(g, LLVMIntNE, c.v, k64(g, 0)), ""), skip);
}

/* The streaming nodes of s's path (filters skip to `skip`, maps make new
 * rows), from row `row`; returns the row at the end. bufs[2] hold the
 * rows' values (the caller frees them). */
static const struct cv *gen_path(struct gen *g, const struct jit_sink *s, const struct cv *row,
                                 LLVMBasicBlockRef skip, struct cv **bufs)
{
    int flip = 0;
    for (int i = 0; i < s->npath && !g->failed; i++) {
        const struct ir_node *p = s->path[i];
        switch (p->kind) {
        case IR_FILTER:
            gen_filter(g, p->expr, row, skip, false);
            gen_filter(g, p->expr, row, skip, true);
            break;
        case IR_SAMPLE: {
            LLVMValueRef h = gen_crc(g);
            LLVMValueRef m = LLVMBuildURem(g->b, h, k64(g, (uint64_t)p->sample_n), "");
            check(g, cmp(g, LLVMIntEQ, m, k64(g, 0)), skip);
            break;
        }
        case IR_MAP:
        case IR_EXPORT: {
            flip ^= 1;
            free(bufs[flip]);
            bufs[flip] = calloc((size_t)p->ncols + 1, sizeof *bufs[flip]);
            if (!bufs[flip]) {
                fail(g, "jit_gen: out of memory");
                break;
            }
            for (int c = 0; c < p->ncols; c++)
                bufs[flip][c] = gen_expr(g, p->exprs[c], row);
            row = bufs[flip];
            break;
        }
        default:
            fail(g, "jit_gen: %s in a streaming path", ir_kind_text[p->kind]);
            break;
        }
    }
    return row;
}

/* groupby, distinct: the key (an absent key skips the tuple), its hash,
 * then the table of each valid slot (valid NULL: slot `slot` only). */
static void gen_keyed(struct gen *g, const struct jit_sink *s, const struct cv *row,
                      const LLVMValueRef *valid, int slot, LLVMBasicBlockRef skip)
{
    const struct ir_node *n = s->node;
    LLVMValueRef kw[2 * IR_MAX_KEYS];
    struct cv keys[IR_MAX_KEYS];
    int nkw = 0;
    LLVMValueRef allp = k1(g, true);
    for (int k = 0; k < n->nkeys; k++) {
        keys[k] = gen_expr(g, n->exprs[k], row);
        keys[k].t = n->cols[k].type;
        allp = LLVMBuildAnd(g->b, allp, keys[k].p, "");
    }
    /* every key present before any string is hashed: a call the optimiser
     * cannot drop, over up to 253 bytes, for tuples mostly skipped
     * (malicious_domain: a name without an A record) */
    check(g, allp, skip);
    for (int k = 0; k < n->nkeys; k++) {
        struct cv v = keys[k];
        if (v.t == TY_STR) { /* its content's hash stands for it in the key hash */
            LLVMValueRef a2[2] = {LLVMBuildIntToPtr(g->b, lo64(g, v.v), g->p8, ""), hi64(g, v.v)};
            kw[nkw++] = LLVMBuildCall2(g->b, g->str_hash_ty, g->str_hash_fn, a2, 2, "");
        } else {
            nkw += words(g, v, kw + nkw);
        }
    }
    struct cv args[IR_MAX_AGGS];
    for (int a = 0; s->kind == SINK_GROUPBY && a < n->naggs; a++)
        args[a] = n->aggs[a]->agg == AGG_COUNT ? mk(k64(g, 0), k1(g, true), TY_INT)
                                               : gen_expr(g, n->aggs[a]->args[0], row);
    LLVMValueRef h = gen_key_hash(g, kw, nkw);
    if (!valid) {
        gen_table_update(g, s, s->table0 + slot, h, kw, nkw, args, row, keys, skip);
        return;
    }
    for (int j = 0; j < s->nslots; j++) {
        LLVMBasicBlockRef yes = blk(g, "slot"), no = blk(g, "slot.next");
        LLVMBuildCondBr(g->b, valid[j], yes, no);
        at(g, yes);
        gen_table_update(g, s, s->table0 + j, h, kw, nkw, args, row, keys, no);
        at(g, no);
    }
    LLVMBuildBr(g->b, skip);
}

/* A fold's emitted row (keys from its entry, the state as it is now) into
 * the table of the sink it feeds, in the same window slot: the filters and
 * maps between them, then the key. Nothing goes to ctx->out. */
static void gen_chain(struct gen *g, const struct jit_sink *f, int slot, LLVMValueRef ep)
{
    const struct jit_sink *s = &g->pl->sinks[f->chain - 1];
    const struct ir_node *n = f->node;
    struct cv in[IR_MAX_KEYS + IR_MAX_AGGS], *bufs[2] = {NULL, NULL};
    for (int c = 0; c < n->nkeys; c++) {
        enum hts_type t = n->cols[c].type;
        LLVMValueRef v = load_word(g, ep, k64(g, (uint64_t)f->keyoff[c]));
        if (t == TY_IPV6)
            v = i128_pair(g, load_word(g, ep, k64(g, (uint64_t)f->keyoff[c] + 1)), v);
        in[c] = mk(v, k1(g, true), t);
    }
    for (int a = 0; a < n->naggs; a++) {
        in[n->nkeys + a] = g->state[a];
        in[n->nkeys + a].t = n->cols[n->nkeys + a].type;
    }
    LLVMBasicBlockRef skip = blk(g, "chain.end");
    const struct cv *row = gen_path(g, s, in, skip, bufs);
    if (!g->failed)
        gen_keyed(g, s, row, NULL, slot, skip);
    else
        LLVMBuildBr(g->b, skip);
    free(bufs[0]);
    free(bufs[1]);
    at(g, skip);
}

static void gen_sink(struct gen *g, const struct jit_sink *s, LLVMValueRef *valid)
{
    const struct ir_node *n = s->node;
    LLVMBasicBlockRef skip = blk(g, "sink.end");
    struct cv *bufs[2] = {NULL, NULL};
    const struct cv *row = gen_path(g, s, NULL, skip, bufs);
    if (g->failed)
        goto out;
    if (s->kind == SINK_ROWS) {
        LLVMValueRef on = load(g, g->t64, g->outn_a);
        LLVMValueRef base = word_ptr(g, g->out, on);
        LLVMValueRef mask = k64(g, 0);
        store_word(g, base, k64(g, 0), k64(g, (uint64_t)s->q->index));
        store_word(g, base, k64(g, 1), g->ts);
        for (int c = 0; c < n->ncols; c++) {
            struct cv v = row ? row[c] : mk(k64(g, 0), k1(g, false), TY_INT);
            LLVMValueRef w[2];
            int nw = words(g, v, w);
            for (int k = 0; k < nw; k++)
                store_word(g, base, k64(g, (uint64_t)(s->coloff[c] + k)), w[k]);
            mask = LLVMBuildOr(g->b, mask, LLVMBuildShl(g->b, zext64(g, v.p), k64(g, (uint64_t)c), ""), "");
        }
        store_word(g, base, k64(g, 2), mask);
        LLVMBuildStore(g->b, addk(g, on, (uint64_t)s->row_words), g->outn_a);
        LLVMBuildBr(g->b, skip);
        goto out;
    }
    if (s->kind == SINK_HIST) {
        struct cv v = gen_expr(g, n->expr, row);
        check(g, v.p, skip);
        LLVMValueRef bucket = k64(g, 0);
        for (int e = 0; e < n->nedges; e++)
            bucket = add(g, bucket, zext64(g, cmp(g, LLVMIntSGE, v.v, k64(g, (uint64_t)n->edges[e]))));
        for (int j = 0; j < s->nslots; j++) {
            int t = s->table0 + j;
            LLVMBasicBlockRef yes = blk(g, "hist"), no = blk(g, "hist.next");
            LLVMBuildCondBr(g->b, valid[j], yes, no);
            at(g, yes);
            store_word(g, g->t_ent[t], bucket, addk(g, load_word(g, g->t_ent[t], bucket), 1));
            LLVMBuildStore(g->b, addk(g, load(g, g->t64, g->tn_a[t]), 1), g->tn_a[t]);
            LLVMBuildBr(g->b, no);
            at(g, no);
        }
        LLVMBuildBr(g->b, skip);
        goto out;
    }
    gen_keyed(g, s, row, valid, 0, skip);
out:
    free(bufs[0]);
    free(bufs[1]);
    at(g, skip);
}

/* ---- a window's rows (jit_int.h: rest_jit) ---- */

/* int fn(const uint64_t *entry, uint64_t *row): the entry's finished row
 * (exec.c: acc_finish: count; avg as sum / inputs; no input: absent), then
 * the filters and maps after the table; 1 and the root's row when kept. */
static void gen_rest(struct gen *g, int qi)
{
    const struct jit_qplan *qp = &g->pl->qs[qi];
    const struct jit_sink *s = &g->pl->sinks[qp->direct - 1];
    const struct ir_node *n = s->node, *root = g->pl->p->queries[qi]->root;
    char name[64];
    snprintf(name, sizeof name, JIT_REST_FN "%d", qi);
    LLVMTypeRef p64 = LLVMPointerType(g->t64, 0), params[2] = {p64, p64};
    LLVMValueRef saved = g->fn;
    g->fn = LLVMAddFunction(g->m, name, LLVMFunctionType(g->t32, params, 2, 0));
    unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
    LLVMAddAttributeAtIndex(g->fn, LLVMAttributeFunctionIndex,
                            LLVMCreateEnumAttribute(g->c, nounwind, 0));
    LLVMValueRef ent = LLVMGetParam(g->fn, 0), out = LLVMGetParam(g->fn, 1);
    at(g, blk(g, "entry"));
    LLVMBasicBlockRef drop = blk(g, "drop");
    struct cv in[IR_MAX_KEYS + IR_MAX_AGGS], *bufs[2] = {NULL, NULL};
    if (s->kind == SINK_FOLD) { /* an emitted row (gen_emit) */
        LLVMValueRef mask = load_word(g, ent, k64(g, 2));
        for (int c = 0, o = JIT_ROW_HDR; c < n->ncols; c++) {
            enum hts_type t = n->cols[c].type;
            LLVMValueRef v = load_word(g, ent, k64(g, (uint64_t)o));
            if (t == TY_IPV6)
                v = i128_pair(g, load_word(g, ent, k64(g, (uint64_t)o + 1)), v);
            LLVMValueRef p = LLVMBuildTrunc(g->b, LLVMBuildLShr(g->b, mask, k64(g, (uint64_t)c), ""),
                                            g->t1, "");
            in[c] = mk(v, p, t);
            o += c < n->nkeys ? s->keyw[c] : jit_type_words(t);
        }
    }
    for (int c = 0; s->kind != SINK_FOLD && c < n->nkeys; c++) {
        enum hts_type t = n->cols[c].type;
        LLVMValueRef v = load_word(g, ent, k64(g, (uint64_t)s->keyoff[c]));
        if (t == TY_IPV6)
            v = i128_pair(g, load_word(g, ent, k64(g, (uint64_t)s->keyoff[c] + 1)), v);
        in[c] = mk(v, k1(g, true), t);
    }
    for (int a = 0; s->kind == SINK_GROUPBY && a < n->naggs; a++) {
        enum hts_type t = n->cols[n->nkeys + a].type;
        enum ast_agg agg = n->aggs[a]->agg;
        LLVMValueRef v = load_word(g, ent, k64(g, (uint64_t)s->aggoff[a]));
        if (agg == AGG_COUNT) {
            in[n->nkeys + a] = mk(v, k1(g, true), t);
            continue;
        }
        LLVMValueRef seen = load_word(g, ent, k64(g, (uint64_t)s->aggoff[a] + 1));
        LLVMValueRef any = cmp(g, LLVMIntNE, seen, k64(g, 0));
        if (agg == AGG_AVG)
            v = LLVMBuildSDiv(g->b, v, sel(g, any, seen, k64(g, 1)), "");
        in[n->nkeys + a] = mk(v, any, t);
    }
    const struct cv *row = in;
    if (qp->nrest) {
        struct jit_sink tmp = {.path = (const struct ir_node **)(uintptr_t)qp->rest, .npath = qp->nrest};
        row = gen_path(g, &tmp, in, drop, bufs);
    }
    LLVMValueRef mask = k64(g, 0);
    for (int c = 0; c < root->ncols && !g->failed; c++) {
        LLVMValueRef w[2];
        int nw = words(g, row[c], w);
        for (int k = 0; k < nw; k++)
            store_word(g, out, k64(g, (uint64_t)(qp->rest_off[c] + k)), w[k]);
        mask = LLVMBuildOr(g->b, mask, LLVMBuildShl(g->b, zext64(g, row[c].p), k64(g, (uint64_t)c), ""), "");
    }
    store_word(g, out, k64(g, 0), mask);
    LLVMBuildRet(g->b, LLVMConstInt(g->t32, 1, 0));
    at(g, drop);
    LLVMBuildRet(g->b, LLVMConstInt(g->t32, 0, 0));
    free(bufs[0]);
    free(bufs[1]);
    g->fn = saved;
}

/* ---- the function ---- */

#define CTX_OFF(f) offsetof(struct jit_ctx, f)
#define TAB_OFF(f) offsetof(struct jit_table, f)
#define PKT_OFF(f) offsetof(struct jit_pkt, f)
#define JIT_PREFETCH 4 /* packets ahead */

int jit_gen(const struct jit_plan *pl, int linktype, LLVMContextRef c,
            LLVMModuleRef m, char *err, size_t errlen)
{
    struct gen G, *g = &G;
    memset(g, 0, sizeof G);
    g->pl = pl;
    g->linktype = linktype;
    g->c = c;
    g->m = m;
    g->err = err;
    g->errlen = errlen;
    g->t1 = LLVMInt1TypeInContext(c);
    g->t8 = LLVMInt8TypeInContext(c);
    g->t16 = LLVMInt16TypeInContext(c);
    g->t32 = LLVMInt32TypeInContext(c);
    g->t64 = LLVMInt64TypeInContext(c);
    g->t128 = LLVMIntTypeInContext(c, 128);
    g->p8 = LLVMPointerType(g->t8, 0);
    LLVMTypeRef p64 = LLVMPointerType(g->t64, 0);
    LLVMTypeRef params[3] = {g->p8, g->p8, g->t32};
    g->fn = LLVMAddFunction(m, JIT_FN_NAME, LLVMFunctionType(g->t32, params, 3, 0));
    unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
    LLVMAddAttributeAtIndex(g->fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c, nounwind, 0));
    LLVMValueRef ctx = LLVMGetParam(g->fn, 0), pkts = LLVMGetParam(g->fn, 1);
    g->b = LLVMCreateBuilderInContext(c);
    LLVMBasicBlockRef entry = blk(g, "entry");
    at(g, entry);
    LLVMValueRef npk = zext64(g, LLVMGetParam(g->fn, 2));
    int nt = pl->ntables, nl = pl->nlate;
    g->late_a = calloc((size_t)nl + 1, sizeof *g->late_a);
    g->tn_a = calloc((size_t)nt + 1, sizeof *g->tn_a);
    g->t_index = calloc((size_t)nt + 1, sizeof *g->t_index);
    g->t_ent = calloc((size_t)nt + 1, sizeof *g->t_ent);
    g->t_mask = calloc((size_t)nt + 1, sizeof *g->t_mask);
    g->t_gen = calloc((size_t)nt + 1, sizeof *g->t_gen);
    g->t_limit = calloc((size_t)nt + 1, sizeof *g->t_limit);
    g->t_bytes = calloc((size_t)nt + 1, sizeof *g->t_bytes);
    g->t_self = calloc((size_t)nt + 1, sizeof *g->t_self);
    if (!g->late_a || !g->tn_a || !g->t_index || !g->t_ent || !g->t_mask || !g->t_gen ||
        !g->t_limit || !g->t_bytes || !g->t_self) {
        fail(g, "jit_gen: out of memory");
        goto out;
    }

    /* allocas (entry block: mem2reg promotes them) */
    for (int f = 0; f < FLD__COUNT; f++) {
        if (!pl->need[f])
            continue;
        LLVMTypeRef t = vtype(g, hts_fields[f].type);
        g->fv[f] = LLVMBuildAlloca(g->b, t, hts_fields[f].name);
        g->fp[f] = LLVMBuildAlloca(g->b, g->t1, "");
        LLVMBuildStore(g->b, LLVMConstNull(t), g->fv[f]);
        LLVMBuildStore(g->b, k1(g, false), g->fp[f]);
    }
    g->ctx = ctx;
    g->slow_a = LLVMBuildAlloca(g->b, g->t1, "decoded");
    LLVMBuildStore(g->b, k1(g, false), g->slow_a);
    g->l4p_a = LLVMBuildAlloca(g->b, g->t64, "l4.proto");
    g->l4o_a = LLVMBuildAlloca(g->b, g->t64, "l4.off");
    g->l4e_a = LLVMBuildAlloca(g->b, g->t64, "l4.end");
    g->scratch = load_at(g, g->p8, ctx, CTX_OFF(scratch));
    {
        LLVMTypeRef dp[6] = {g->p8, g->p8, g->t64, g->t64, g->t64, g->t64}, bp[5] = {g->p8, g->t64, g->p8, g->t64, g->t32};
        g->decode_ty = LLVMFunctionType(LLVMVoidTypeInContext(c), dp, 6, 0);
        g->bytes_ty = LLVMFunctionType(g->t32, bp, 5, 0);
        g->decode_fn = load_at(g, LLVMPointerType(g->decode_ty, 0), ctx, CTX_OFF(decode));
        g->bytes_fn = load_at(g, LLVMPointerType(g->bytes_ty, 0), ctx, CTX_OFF(bytes));
        LLVMTypeRef up[6] = {g->p8, g->p8, g->t64, g->t64, g->t64, g->t32};
        g->udp_dns_ty = LLVMFunctionType(LLVMVoidTypeInContext(c), up, 6, 0);
        g->udp_dns_fn = load_at(g, LLVMPointerType(g->udp_dns_ty, 0), ctx, CTX_OFF(decode_udp_dns));
    }
    g->wm_a = LLVMBuildAlloca(g->b, g->t64, "wm");
    g->outn_a = LLVMBuildAlloca(g->b, g->t64, "out_n");
    g->full_a = LLVMBuildAlloca(g->b, g->t1, "full");
    LLVMValueRef wm0 = load_at(g, g->t64, ctx, CTX_OFF(wm));
    LLVMBuildStore(g->b, wm0, g->wm_a);
    LLVMValueRef next_close = load_at(g, g->t64, ctx, CTX_OFF(next_close));
    LLVMBuildStore(g->b, zext64(g, load_at(g, g->t32, ctx, CTX_OFF(out_n))), g->outn_a);
    LLVMValueRef out_cap = zext64(g, load_at(g, g->t32, ctx, CTX_OFF(out_cap)));
    g->out = load_at(g, p64, ctx, CTX_OFF(out));
    LLVMBuildStore(g->b, cmp(g, LLVMIntNE, load_at(g, g->t32, ctx, CTX_OFF(full)),
                             LLVMConstInt(g->t32, 0, 0)), g->full_a);
    LLVMValueRef late_p = load_at(g, p64, ctx, CTX_OFF(late));
    for (int l = 0; l < nl; l++) {
        g->late_a[l] = LLVMBuildAlloca(g->b, g->t64, "late");
        LLVMBuildStore(g->b, k64(g, 0), g->late_a[l]);
    }
    LLVMValueRef tabs = LLVMBuildBitCast(g->b, load_at(g, p64, ctx, CTX_OFF(tables)), g->p8, "");
    g->tabs = tabs;
    {
        LLVMTypeRef hp2[2] = {g->p8, g->t64}, pp[3] = {g->p8, g->p8, g->t64};
        g->str_hash_ty = LLVMFunctionType(g->t64, hp2, 2, 0);
        g->str_put_ty = LLVMFunctionType(g->t64, pp, 3, 0);
        g->str_hash_fn = load_at(g, LLVMPointerType(g->str_hash_ty, 0), ctx, CTX_OFF(str_hash));
        g->str_put_fn = load_at(g, LLVMPointerType(g->str_put_ty, 0), ctx, CTX_OFF(str_put));
    }
    for (int t = 0; t < nt; t++) {
        size_t base = (size_t)t * sizeof(struct jit_table);
        g->t_bytes[t] = load_at(g, g->p8, tabs, base + TAB_OFF(bytes));
        g->t_self[t] = LLVMBuildInBoundsGEP2(g->b, g->t8, tabs, (LLVMValueRef[]){k64(g, base)}, 1, "");
        g->t_index[t] = load_at(g, p64, tabs, base + TAB_OFF(index));
        g->t_ent[t] = load_at(g, p64, tabs, base + TAB_OFF(ent));
        g->t_mask[t] = zext64(g, load_at(g, g->t32, tabs, base + TAB_OFF(mask)));
        g->t_gen[t] = zext64(g, load_at(g, g->t32, tabs, base + TAB_OFF(gen)));
        g->t_limit[t] = zext64(g, load_at(g, g->t32, tabs, base + TAB_OFF(limit)));
        g->tn_a[t] = LLVMBuildAlloca(g->b, g->t64, "tab.n");
        LLVMBuildStore(g->b, zext64(g, load_at(g, g->t32, tabs, base + TAB_OFF(n))), g->tn_a[t]);
    }

    LLVMBasicBlockRef head = blk(g, "head"), body = blk(g, "pkt"), exit = blk(g, "exit");
    LLVMBuildBr(g->b, head);
    at(g, head);
    LLVMValueRef i = LLVMBuildPhi(g->b, g->t64, "i");
    LLVMValueRef zero = k64(g, 0);
    LLVMAddIncoming(i, &zero, &entry, 1);
    at(g, exit);
    LLVMValueRef ret = LLVMBuildPhi(g->b, g->t64, "consumed");
    at(g, head);
    LLVMAddIncoming(ret, &i, &head, 1);
    LLVMBuildCondBr(g->b, cmp(g, LLVMIntULT, i, npk), body, exit);

    /* the packet; each reason to stop returns i to C */
    at(g, body);
    LLVMValueRef p = LLVMBuildInBoundsGEP2(g->b, g->t8, pkts,
                                           (LLVMValueRef[]){LLVMBuildMul(g->b, i, k64(g, sizeof(struct jit_pkt)), "")},
                                           1, "pkt");
    g->ts = load_at(g, g->t64, p, PKT_OFF(ts));
    g->pkt = p;
    LLVMValueRef stop = cmp(g, LLVMIntSGE, g->ts, next_close);
    if (pl->ntables)
        stop = LLVMBuildOr(g->b, stop, load(g, g->t1, g->full_a), "");
    if (pl->pkt_words)
        stop = LLVMBuildOr(g->b, stop,
                           cmp(g, LLVMIntUGT, addk(g, load(g, g->t64, g->outn_a), (uint64_t)pl->pkt_words),
                               out_cap), "");
    {
        LLVMBasicBlockRef bb = here(g), go = blk(g, "go");
        LLVMAddIncoming(ret, &i, &bb, 1);
        LLVMBuildCondBr(g->b, stop, exit, go);
        at(g, go);
    }
    {
        /* the frame JIT_PREFETCH packets ahead into the cache: its headers
         * are the first thing the decoder reads, and nothing else brings
         * them in ahead of time (the worker touched only the mbufs) */
        LLVMBasicBlockRef pf = blk(g, "prefetch"), go = blk(g, "go.pkt");
        LLVMValueRef ahead = addk(g, i, JIT_PREFETCH);
        LLVMBuildCondBr(g->b, cmp(g, LLVMIntULT, ahead, npk), pf, go);
        at(g, pf);
        LLVMValueRef q = LLVMBuildInBoundsGEP2(g->b, g->t8, pkts,
                                               (LLVMValueRef[]){LLVMBuildMul(g->b, ahead, k64(g, sizeof(struct jit_pkt)), "")},
                                               1, "");
        LLVMValueRef d = load_at(g, g->p8, q, PKT_OFF(data));
        unsigned id = LLVMLookupIntrinsicID("llvm.prefetch", 13);
        LLVMTypeRef pt = g->p8;
        LLVMValueRef f = LLVMGetIntrinsicDeclaration(g->m, id, &pt, 1);
        LLVMTypeRef ft = LLVMIntrinsicGetType(g->c, id, &pt, 1);
        LLVMValueRef a[4] = {d, LLVMConstInt(g->t32, 0, 0), LLVMConstInt(g->t32, 3, 0),
                             LLVMConstInt(g->t32, 1, 0)};
        LLVMBuildCall2(g->b, ft, f, a, 4, "");
        a[0] = LLVMBuildGEP2(g->b, g->t8, d, (LLVMValueRef[]){k64(g, 64)}, 1, ""); /* may be null */
        LLVMBuildCall2(g->b, ft, f, a, 4, "");
        LLVMBuildBr(g->b, go);
        at(g, go);
    }
    LLVMValueRef wm = load(g, g->t64, g->wm_a);
    wm = sel(g, cmp(g, LLVMIntSGT, g->ts, wm), g->ts, wm);
    LLVMBuildStore(g->b, wm, g->wm_a);
    g->data = load_at(g, g->p8, p, PKT_OFF(data));
    LLVMValueRef caplen = zext64(g, load_at(g, g->t32, p, PKT_OFF(caplen)));
    LLVMValueRef wirelen = zext64(g, load_at(g, g->t32, p, PKT_OFF(wirelen)));
    g->cap = sel(g, LLVMBuildIsNull(g->b, g->data, ""), zero, caplen);
    g->wire = sel(g, cmp(g, LLVMIntUGT, wirelen, g->cap), wirelen, g->cap);
    LLVMBuildStore(g->b, k1(g, false), g->slow_a);
    LLVMBuildStore(g->b, k64(g, UINT64_MAX), g->l4p_a); /* no L4 (yet) */
    LLVMBuildStore(g->b, k64(g, 0), g->l4o_a);
    LLVMBuildStore(g->b, k64(g, 0), g->l4e_a);
    /* values too, not only presence: no field value lives across packets,
     * so none is loop-carried state the register allocator must keep */
    for (int f = 0; f < FLD__COUNT; f++)
        if (pl->need[f]) {
            LLVMBuildStore(g->b, k1(g, false), g->fp[f]);
            LLVMBuildStore(g->b, LLVMConstNull(vtype(g, hts_fields[f].type)), g->fv[f]);
        }
    set(g, FLD_META_TS, g->ts);
    set(g, FLD_META_WIRE_LEN, wirelen);
    set(g, FLD_META_CAP_LEN, caplen);
    if (pl->need[FLD_META_PORT])
        set(g, FLD_META_PORT, zext64(g, load_at(g, g->t16, p, PKT_OFF(port))));
    g->done = blk(g, "decoded");
    gen_decode(g);

    at(g, g->done);
    for (int qi = 0; qi < pl->p->nqueries && !g->failed; qi++) {
        const struct jit_qplan *qp = &pl->qs[qi];
        if (!qp->covered || !qp->nsinks)
            continue;
        LLVMValueRef valid[JIT_MAX_SLOTS];
        if (!pl->p->queries[qi]->per_packet)
            gen_slots(g, &pl->sinks[qp->first_sink], wm, valid);
        for (int s = qp->first_sink; s < qp->first_sink + qp->nsinks; s++)
            if (!pl->sinks[s].chained) /* those run at their fold's emits */
                gen_sink(g, &pl->sinks[s], valid);
    }
    {
        LLVMValueRef i1 = addk(g, i, 1);
        LLVMBasicBlockRef bb = here(g);
        LLVMAddIncoming(i, &i1, &bb, 1);
        LLVMBuildBr(g->b, head);
    }

    /* exit: state back to ctx */
    at(g, exit);
    LLVMBuildStore(g->b, load(g, g->t64, g->wm_a), ptr_at(g, ctx, k64(g, CTX_OFF(wm)), g->t64));
    LLVMBuildStore(g->b, LLVMBuildTrunc(g->b, load(g, g->t64, g->outn_a), g->t32, ""),
                   ptr_at(g, ctx, k64(g, CTX_OFF(out_n)), g->t32));
    LLVMBuildStore(g->b, LLVMBuildZExt(g->b, load(g, g->t1, g->full_a), g->t32, ""),
                   ptr_at(g, ctx, k64(g, CTX_OFF(full)), g->t32));
    for (int l = 0; l < nl; l++) {
        LLVMValueRef lp = word_ptr(g, late_p, k64(g, (uint64_t)l));
        LLVMBuildStore(g->b, add(g, load(g, g->t64, lp), load(g, g->t64, g->late_a[l])), lp);
    }
    for (int t = 0; t < nt; t++) {
        size_t base = (size_t)t * sizeof(struct jit_table);
        LLVMBuildStore(g->b, LLVMBuildTrunc(g->b, load(g, g->t64, g->tn_a[t]), g->t32, ""),
                       ptr_at(g, tabs, k64(g, base + TAB_OFF(n)), g->t32));
    }
    LLVMBuildRet(g->b, LLVMBuildTrunc(g->b, ret, g->t32, ""));
    for (int qi = 0; qi < pl->p->nqueries && !g->failed; qi++)
        if (pl->qs[qi].covered && pl->qs[qi].rest_jit)
            gen_rest(g, qi);
out:
    LLVMDisposeBuilder(g->b);
    free(g->late_a);
    free(g->tn_a);
    free(g->t_index);
    free(g->t_ent);
    free(g->t_mask);
    free(g->t_gen);
    free(g->t_limit);
    free(g->t_bytes);
    free(g->t_self);
    return g->failed ? -22 : 0;
}
