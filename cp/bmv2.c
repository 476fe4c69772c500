/*
 * bmv2.c - switch.h over BMv2's Thrift runtime API (simple_switch).
 *
 * The client is generated from BMv2's own IDL (cp/bmv2/, its .thrift files) by
 * `thrift --gen c_glib` at build time. On connecting it reads the loaded
 * program's JSON (bm_get_config) once, to map the P4 names htscp uses to
 * BMv2's qualified ones ("q0_n1_filter" to "IngressImpl.q0_n1_filter") and
 * to learn the width of every table key field and action parameter: the
 * Thrift API wants each as a byte string of exactly that many bytes.
 *
 * One buffered socket, two multiplexed services ("standard" for tables and
 * registers, "simple_switch" for mirror sessions), as simple_switch_CLI.
 */
#include "switch.h"

#include "json.h"

#include <glib-object.h>
#include <thrift/c_glib/protocol/thrift_binary_protocol.h>
#include <thrift/c_glib/protocol/thrift_multiplexed_protocol.h>
#include <thrift/c_glib/thrift.h>
#include <thrift/c_glib/transport/thrift_buffered_transport.h>
#include <thrift/c_glib/transport/thrift_socket.h>

#include "simple_switch.h"
#include "standard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CXT 0 /* simple_switch has one context */

struct sw {
    ThriftSocket *sock;
    ThriftTransport *trans;
    ThriftProtocol *bin, *mux_std, *mux_ss;
    StandardIf *std;
    SimpleSwitchIf *ss;
    struct json_doc doc;
    const struct json *cfg; /* the program's JSON */
    char *cfg_text;
};

/* ---- the program's JSON ---- */

static const struct json *arr(const struct json *o, const char *k)
{
    const struct json *a = json_get(o, k);
    return a && a->type == JSON_ARR ? a : NULL;
}

static const char *str(const struct json *o, const char *k)
{
    const struct json *v = json_get(o, k);
    return v && v->type == JSON_STR ? v->s : NULL;
}

/* The object of list `list` named `name` or "CONTROL.name" (one only). */
static const struct json *named(struct sw *s, const char *list, const char *name, char *err,
                                size_t errlen)
{
    const struct json *hit = NULL;
    int n = 0;
    const struct json *lists[8];
    int nl = 0;
    const struct json *top = arr(s->cfg, list);
    if (top)
        lists[nl++] = top;
    const struct json *pipes = arr(s->cfg, "pipelines");
    for (int p = 0; pipes && p < pipes->n && nl < 8; p++) {
        const struct json *t = arr(pipes->items[p], list);
        if (t)
            lists[nl++] = t;
    }
    size_t len = strlen(name);
    for (int l = 0; l < nl; l++)
        for (int i = 0; i < lists[l]->n; i++) {
            const char *nm = str(lists[l]->items[i], "name");
            if (!nm)
                continue;
            size_t nlen = strlen(nm);
            if (!strcmp(nm, name) ||
                (nlen > len && nm[nlen - len - 1] == '.' && !strcmp(nm + nlen - len, name))) {
                hit = lists[l]->items[i];
                n++;
            }
        }
    if (n != 1) {
        snprintf(err, errlen, "%s: %s '%s' in the switch's program", n ? "ambiguous" : "no such",
                 list, name);
        return NULL;
    }
    return hit;
}

/* Width in bits of field [header, field] of the program. */
static int field_width(struct sw *s, const struct json *target)
{
    if (!target || target->type != JSON_ARR || target->n != 2 ||
        target->items[0]->type != JSON_STR || target->items[1]->type != JSON_STR)
        return -1;
    const struct json *hs = arr(s->cfg, "headers"), *ht = arr(s->cfg, "header_types");
    const char *type = NULL;
    for (int i = 0; hs && i < hs->n && !type; i++)
        if (str(hs->items[i], "name") && !strcmp(str(hs->items[i], "name"), target->items[0]->s))
            type = str(hs->items[i], "header_type");
    for (int i = 0; type && ht && i < ht->n; i++) {
        if (!str(ht->items[i], "name") || strcmp(str(ht->items[i], "name"), type))
            continue;
        const struct json *f = arr(ht->items[i], "fields");
        for (int j = 0; f && j < f->n; j++) {
            const struct json *x = f->items[j];
            if (x->type == JSON_ARR && x->n >= 2 && x->items[0]->type == JSON_STR &&
                !strcmp(x->items[0]->s, target->items[1]->s) && x->items[1]->is_int)
                return (int)x->items[1]->i;
        }
    }
    return -1;
}

/* ---- values ---- */

static GByteArray *bytes_of(const struct sw_bytes *v, int bits, const char *what, char *err,
                            size_t errlen)
{
    int nb = (bits + 7) / 8;
    for (int i = 0; i < 16 - nb; i++)
        if (v->b[i]) {
            snprintf(err, errlen, "%s: value wider than its %d bits", what, bits);
            return NULL;
        }
    if (bits % 8 && v->b[16 - nb] >> (bits % 8)) {
        snprintf(err, errlen, "%s: value wider than its %d bits", what, bits);
        return NULL;
    }
    GByteArray *b = g_byte_array_sized_new((guint)nb);
    g_byte_array_append(b, v->b + 16 - nb, (guint)nb);
    return b;
}

static BmActionData *action_data(struct sw *s, const char *action, const struct sw_bytes *params,
                                 int nparams, const char **full, char *err, size_t errlen)
{
    const struct json *a = named(s, "actions", action, err, errlen);
    if (!a)
        return NULL;
    *full = str(a, "name");
    const struct json *rd = arr(a, "runtime_data");
    int want = rd ? rd->n : 0;
    if (want != nparams) {
        snprintf(err, errlen, "action %s takes %d parameter%s, given %d", action, want,
                 want == 1 ? "" : "s", nparams);
        return NULL;
    }
    BmActionData *ad = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    for (int i = 0; i < nparams; i++) {
        const struct json *bw = json_get(rd->items[i], "bitwidth");
        GByteArray *b = bw && bw->is_int ? bytes_of(&params[i], (int)bw->i, action, err, errlen)
                                         : NULL;
        if (!b) {
            if (!bw || !bw->is_int)
                snprintf(err, errlen, "action %s: no width for parameter %d", action, i);
            g_ptr_array_unref(ad);
            return NULL;
        }
        g_ptr_array_add(ad, b);
    }
    return ad;
}

/* thrift 0.17's generated finalizers free a binary field (a GByteArray)
 * with thrift_string_free, which leaves the array's buffer behind: release
 * the byte arrays here, then the object. */
static void free_bytes(GByteArray **b)
{
    if (*b) {
        g_byte_array_unref(*b);
        *b = NULL;
    }
}

static void match_param_free(gpointer x)
{
    BmMatchParam *p = x;
    if (p->exact)
        free_bytes(&p->exact->key);
    if (p->lpm)
        free_bytes(&p->lpm->key);
    if (p->ternary) {
        free_bytes(&p->ternary->key);
        free_bytes(&p->ternary->mask);
    }
    if (p->range) {
        free_bytes(&p->range->start);
        free_bytes(&p->range->end_);
    }
    g_object_unref(p);
}

/* ---- errors ---- */

static int fail(char *err, size_t errlen, const char *what, GError *e, int code)
{
    if (e && e->message && *e->message)
        snprintf(err, errlen, "%s: %s", what, e->message);
    else
        snprintf(err, errlen, "%s: refused by the switch (error code %d)", what, code);
    return -1;
}

/* ---- operations ---- */

static void bm_close(struct sw *s)
{
    if (!s)
        return;
    if (s->trans)
        thrift_transport_close(s->trans, NULL);
    if (s->ss)
        g_object_unref(s->ss);
    if (s->std)
        g_object_unref(s->std);
    if (s->mux_ss)
        g_object_unref(s->mux_ss);
    if (s->mux_std)
        g_object_unref(s->mux_std);
    if (s->bin)
        g_object_unref(s->bin);
    if (s->trans)
        g_object_unref(s->trans);
    if (s->sock)
        g_object_unref(s->sock);
    json_doc_free(&s->doc);
    g_free(s->cfg_text);
    free(s);
}

static struct sw *bm_open(const char *addr, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host || !colon[1]) {
        snprintf(err, errlen, "'%s': expected HOST:PORT", addr);
        return NULL;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port <= 0 || port > 65535) {
        snprintf(err, errlen, "'%s': bad port", addr);
        return NULL;
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = 0;
    struct sw *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->sock = g_object_new(THRIFT_TYPE_SOCKET, "hostname", host, "port", (guint)port, NULL);
    s->trans = g_object_new(THRIFT_TYPE_BUFFERED_TRANSPORT, "transport", s->sock, "r_buf_size",
                            65536, "w_buf_size", 65536, NULL);
    s->bin = g_object_new(THRIFT_TYPE_BINARY_PROTOCOL, "transport", s->trans, NULL);
    s->mux_std = g_object_new(THRIFT_TYPE_MULTIPLEXED_PROTOCOL, "transport", s->trans,
                              "protocol", s->bin, "service-name", "standard", NULL);
    s->mux_ss = g_object_new(THRIFT_TYPE_MULTIPLEXED_PROTOCOL, "transport", s->trans,
                             "protocol", s->bin, "service-name", "simple_switch", NULL);
    s->std = g_object_new(TYPE_STANDARD_CLIENT, "input_protocol", s->mux_std,
                          "output_protocol", s->mux_std, NULL);
    s->ss = g_object_new(TYPE_SIMPLE_SWITCH_CLIENT, "input_protocol", s->mux_ss,
                         "output_protocol", s->mux_ss, NULL);
    GError *e = NULL;
    if (!thrift_transport_open(s->trans, &e)) {
        snprintf(err, errlen, "cannot connect to the switch at %s: %s", addr,
                 e && e->message ? e->message : "refused");
        g_clear_error(&e);
        bm_close(s);
        return NULL;
    }
    if (!standard_client_bm_get_config(s->std, &s->cfg_text, &e)) {
        fail(err, errlen, "reading the switch's program (bm_get_config)", e, -1);
        g_clear_error(&e);
        bm_close(s);
        return NULL;
    }
    char jerr[200];
    s->cfg = json_parse(&s->doc, s->cfg_text, strlen(s->cfg_text), jerr, sizeof jerr);
    if (!s->cfg) {
        snprintf(err, errlen, "the switch's program JSON: %s", jerr);
        bm_close(s);
        return NULL;
    }
    return s;
}

static int bm_set_default(struct sw *s, const char *table, const char *action,
                          const struct sw_bytes *params, int nparams, char *err, size_t errlen)
{
    const struct json *t = named(s, "tables", table, err, errlen);
    const char *aname;
    if (!t)
        return -1;
    BmActionData *ad = action_data(s, action, params, nparams, &aname, err, errlen);
    if (!ad)
        return -1;
    InvalidTableOperation *ouch = NULL;
    GError *e = NULL;
    int rc = 0;
    if (!standard_client_bm_mt_set_default_action(s->std, CXT, str(t, "name"), aname, ad, &ouch,
                                                  &e))
        rc = fail(err, errlen, table, e, ouch ? (int)ouch->code : -1);
    g_clear_error(&e);
    if (ouch)
        g_object_unref(ouch);
    g_ptr_array_unref(ad);
    return rc;
}

static int bm_table_clear(struct sw *s, const char *table, char *err, size_t errlen)
{
    const struct json *t = named(s, "tables", table, err, errlen);
    if (!t)
        return -1;
    InvalidTableOperation *ouch = NULL;
    GError *e = NULL;
    int rc = 0;
    if (!standard_client_bm_mt_clear_entries(s->std, CXT, str(t, "name"), FALSE, &ouch, &e))
        rc = fail(err, errlen, table, e, ouch ? (int)ouch->code : -1);
    g_clear_error(&e);
    if (ouch)
        g_object_unref(ouch);
    return rc;
}

static int bm_add_ternary(struct sw *s, const char *table, const struct sw_ternary *keys,
                          int nkeys, const char *action, const struct sw_bytes *params,
                          int nparams, int priority, char *err, size_t errlen)
{
    const struct json *t = named(s, "tables", table, err, errlen);
    const char *aname;
    if (!t)
        return -1;
    const struct json *k = arr(t, "key");
    if ((k ? k->n : 0) != nkeys) {
        snprintf(err, errlen, "table %s has %d key fields, given %d", table, k ? k->n : 0, nkeys);
        return -1;
    }
    BmMatchParams *mk = g_ptr_array_new_with_free_func(match_param_free);
    for (int i = 0; i < nkeys; i++) {
        int bits = field_width(s, json_get(k->items[i], "target"));
        const char *mt = str(k->items[i], "match_type");
        if (bits <= 0 || !mt || strcmp(mt, "ternary")) {
            snprintf(err, errlen, "table %s: key field %d is not a ternary field of known width",
                     table, i);
            g_ptr_array_unref(mk);
            return -1;
        }
        GByteArray *v = bytes_of(&keys[i].value, bits, table, err, errlen);
        GByteArray *m = v ? bytes_of(&keys[i].mask, bits, table, err, errlen) : NULL;
        if (!m) {
            if (v)
                g_byte_array_unref(v);
            g_ptr_array_unref(mk);
            return -1;
        }
        BmMatchParam *p = g_object_new(TYPE_BM_MATCH_PARAM, NULL);
        p->type = BM_MATCH_PARAM_TYPE_TERNARY;
        p->__isset_type = TRUE;
        free_bytes(&p->ternary->key); /* instance_init made empty ones */
        free_bytes(&p->ternary->mask);
        p->ternary->key = v;
        p->ternary->__isset_key = TRUE;
        p->ternary->mask = m;
        p->ternary->__isset_mask = TRUE;
        p->__isset_ternary = TRUE;
        g_ptr_array_add(mk, p);
    }
    BmActionData *ad = action_data(s, action, params, nparams, &aname, err, errlen);
    if (!ad) {
        g_ptr_array_unref(mk);
        return -1;
    }
    BmAddEntryOptions *opt = g_object_new(TYPE_BM_ADD_ENTRY_OPTIONS, NULL);
    opt->priority = priority;
    opt->__isset_priority = TRUE;
    BmEntryHandle h = -1;
    InvalidTableOperation *ouch = NULL;
    GError *e = NULL;
    int rc = 0;
    if (!standard_client_bm_mt_add_entry(s->std, &h, CXT, str(t, "name"), mk, aname, ad, opt,
                                         &ouch, &e))
        rc = fail(err, errlen, table, e, ouch ? (int)ouch->code : -1);
    g_clear_error(&e);
    if (ouch)
        g_object_unref(ouch);
    g_object_unref(opt);
    g_ptr_array_unref(ad);
    g_ptr_array_unref(mk);
    return rc;
}

static int bm_mirror_add(struct sw *s, int session, int port, char *err, size_t errlen)
{
    MirroringSessionConfig *cfg = g_object_new(TYPE_MIRRORING_SESSION_CONFIG, NULL);
    cfg->port = port;
    cfg->__isset_port = TRUE;
    InvalidMirroringOperation *ouch = NULL;
    GError *e = NULL;
    int rc = 0;
    if (!simple_switch_client_mirroring_session_add(s->ss, session, cfg, &ouch, &e))
        rc = fail(err, errlen, "mirror session", e, ouch ? (int)ouch->code : -1);
    g_clear_error(&e);
    if (ouch)
        g_object_unref(ouch);
    g_object_unref(cfg);
    return rc;
}

static const char *reg_name(struct sw *s, const char *reg, char *err, size_t errlen)
{
    const struct json *r = named(s, "register_arrays", reg, err, errlen);
    return r ? str(r, "name") : NULL;
}

static int bm_reg_read(struct sw *s, const char *reg, uint32_t idx, int64_t *v, char *err,
                       size_t errlen)
{
    const char *nm = reg_name(s, reg, err, errlen);
    if (!nm)
        return -1;
    InvalidRegisterOperation *ouch = NULL;
    GError *e = NULL;
    gint64 x = 0;
    int rc = 0;
    if (!standard_client_bm_register_read(s->std, &x, CXT, nm, (gint32)idx, &ouch, &e))
        rc = fail(err, errlen, reg, e, ouch ? (int)ouch->code : -1);
    g_clear_error(&e);
    if (ouch)
        g_object_unref(ouch);
    *v = x;
    return rc;
}

static int bm_reg_read_all(struct sw *s, const char *reg, int64_t **vals, size_t *n, char *err,
                           size_t errlen)
{
    const char *nm = reg_name(s, reg, err, errlen);
    if (!nm)
        return -1;
    InvalidRegisterOperation *ouch = NULL;
    GError *e = NULL;
    GArray *a = g_array_new(FALSE, FALSE, sizeof(gint64));
    int rc = 0;
    if (!standard_client_bm_register_read_all(s->std, &a, CXT, nm, &ouch, &e)) {
        rc = fail(err, errlen, reg, e, ouch ? (int)ouch->code : -1);
    } else {
        *n = a->len;
        *vals = malloc((a->len ? a->len : 1) * sizeof **vals);
        if (!*vals) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        } else {
            memcpy(*vals, a->data, a->len * sizeof **vals);
        }
    }
    g_array_unref(a);
    g_clear_error(&e);
    if (ouch)
        g_object_unref(ouch);
    return rc;
}

static int bm_reg_write(struct sw *s, const char *reg, uint32_t idx, int64_t v, char *err,
                        size_t errlen)
{
    const char *nm = reg_name(s, reg, err, errlen);
    if (!nm)
        return -1;
    InvalidRegisterOperation *ouch = NULL;
    GError *e = NULL;
    int rc = 0;
    if (!standard_client_bm_register_write(s->std, CXT, nm, (gint32)idx, v, &ouch, &e))
        rc = fail(err, errlen, reg, e, ouch ? (int)ouch->code : -1);
    g_clear_error(&e);
    if (ouch)
        g_object_unref(ouch);
    return rc;
}

static int bm_reg_fill(struct sw *s, const char *reg, uint32_t lo, uint32_t hi, int64_t v,
                       char *err, size_t errlen)
{
    const char *nm = reg_name(s, reg, err, errlen);
    if (!nm)
        return -1;
    InvalidRegisterOperation *ouch = NULL;
    GError *e = NULL;
    int rc = 0;
    if (!standard_client_bm_register_write_range(s->std, CXT, nm, (gint32)lo, (gint32)hi, v,
                                                 &ouch, &e))
        rc = fail(err, errlen, reg, e, ouch ? (int)ouch->code : -1);
    g_clear_error(&e);
    if (ouch)
        g_object_unref(ouch);
    return rc;
}

const struct sw_ops sw_bmv2 = {
    .name = "bmv2",
    .open = bm_open,
    .close = bm_close,
    .set_default = bm_set_default,
    .add_ternary = bm_add_ternary,
    .table_clear = bm_table_clear,
    .mirror_add = bm_mirror_add,
    .reg_read = bm_reg_read,
    .reg_read_all = bm_reg_read_all,
    .reg_write = bm_reg_write,
    .reg_fill = bm_reg_fill,
};
