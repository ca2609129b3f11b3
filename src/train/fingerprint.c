/* XXH64 and the model fingerprint built on it (fingerprint.h). */
#include "fingerprint.h"

#include <stdio.h>
#include <string.h>

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

/* Little-endian loads through memcpy: any alignment, any host byte order. */
static uint64_t rd64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static uint64_t round64(uint64_t acc, uint64_t in) {
    acc += in * P2;
    acc = rotl(acc, 31);
    return acc * P1;
}

static uint64_t merge64(uint64_t acc, uint64_t v) {
    acc ^= round64(0, v);
    return acc * P1 + P4;
}

void ot_hash64_init(ot_hash64 *h, uint64_t seed) {
    memset(h, 0, sizeof *h);
    h->seed = seed;
    h->v[0] = seed + P1 + P2;
    h->v[1] = seed + P2;
    h->v[2] = seed;
    h->v[3] = seed - P1;
}

/* Consumes whole 32-byte stripes of p; returns how many bytes it used. */
static size_t stripes(uint64_t v[4], const uint8_t *p, size_t n) {
    uint64_t a = v[0], b = v[1], c = v[2], d = v[3];
    size_t used = 0;
    for (; n - used >= 32; used += 32) {
        a = round64(a, rd64(p + used));
        b = round64(b, rd64(p + used + 8));
        c = round64(c, rd64(p + used + 16));
        d = round64(d, rd64(p + used + 24));
    }
    v[0] = a, v[1] = b, v[2] = c, v[3] = d;
    return used;
}

void ot_hash64_update(ot_hash64 *h, const void *data, size_t n) {
    const uint8_t *p = data;
    h->total += n;
    if (h->n) {
        size_t take = 32 - h->n < n ? 32 - h->n : n;
        memcpy(h->buf + h->n, p, take);
        h->n += take;
        p += take;
        n -= take;
        if (h->n < 32) return;
        stripes(h->v, h->buf, 32);
        h->n = 0;
    }
    size_t used = stripes(h->v, p, n);
    memcpy(h->buf, p + used, n - used);
    h->n = n - used;
}

uint64_t ot_hash64_final(const ot_hash64 *h) {
    uint64_t acc;
    if (h->total >= 32) {
        acc = rotl(h->v[0], 1) + rotl(h->v[1], 7) + rotl(h->v[2], 12) + rotl(h->v[3], 18);
        for (int k = 0; k < 4; k++) acc = merge64(acc, h->v[k]);
    } else {
        acc = h->seed + P5;
    }
    acc += h->total;
    const uint8_t *p = h->buf;
    size_t n = h->n;
    for (; n >= 8; p += 8, n -= 8) acc = rotl(acc ^ round64(0, rd64(p)), 27) * P1 + P4;
    if (n >= 4) {
        acc = rotl(acc ^ (uint64_t)rd32(p) * P1, 23) * P2 + P3;
        p += 4;
        n -= 4;
    }
    for (; n; p++, n--) acc = rotl(acc ^ *p * P5, 11) * P1;
    acc ^= acc >> 33;
    acc *= P2;
    acc ^= acc >> 29;
    acc *= P3;
    acc ^= acc >> 32;
    return acc;
}

uint64_t ot_hash64_of(const void *data, size_t n, uint64_t seed) {
    ot_hash64 h;
    ot_hash64_init(&h, seed);
    ot_hash64_update(&h, data, n);
    return ot_hash64_final(&h);
}

/* ---- the canonical stream ------------------------------------------------------ */

static void put_u64(ot_hash64 *h, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    ot_hash64_update(h, b, 8);
}

static void put_bytes(ot_hash64 *h, const void *p, size_t n) {
    put_u64(h, n);
    if (n) ot_hash64_update(h, p, n);
}

static void put_str(ot_hash64 *h, const char *s) { put_bytes(h, s ? s : "", s ? strlen(s) : 0); }

static void put_f32(ot_hash64 *h, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u64(h, u);
}

static void put_value_name(ot_hash64 *h, const ot_graph *g, int v) { put_str(h, v >= 0 ? g->values[v].name : ""); }

static void put_shape(ot_hash64 *h, ot_dtype dt, int rank, const int64_t *dims) {
    put_u64(h, (uint64_t)dt);
    put_u64(h, (uint64_t)(int64_t)rank);
    for (int d = 0; d < rank; d++) put_u64(h, (uint64_t)dims[d]);
}

static void put_tensor(ot_hash64 *h, const ot_tensor *t) {
    if (!t) {
        put_u64(h, UINT64_MAX);
        return;
    }
    put_shape(h, t->dtype, t->rank, t->dims);
    size_t n = t->data ? ot_tensor_nbytes(t) : 0;
    put_bytes(h, t->data, n);
}

static void put_graph(ot_hash64 *h, const ot_graph *g);

static void put_attr(ot_hash64 *h, const ot_attr *a) {
    put_str(h, a->name);
    put_u64(h, (uint64_t)a->type);
    switch (a->type) {
    case OT_ATTR_FLOAT: put_f32(h, a->f); break;
    case OT_ATTR_INT: put_u64(h, (uint64_t)a->i); break;
    case OT_ATTR_STRING: put_bytes(h, a->s, a->s ? a->s_len : 0); break;
    case OT_ATTR_TENSOR:
    case OT_ATTR_SPARSE_TENSOR: put_tensor(h, a->t); break;
    case OT_ATTR_GRAPH: put_graph(h, a->g); break;
    case OT_ATTR_FLOATS:
        put_u64(h, (uint64_t)a->n);
        for (int k = 0; k < a->n; k++) put_f32(h, a->floats[k]);
        break;
    case OT_ATTR_INTS:
        put_u64(h, (uint64_t)a->n);
        for (int k = 0; k < a->n; k++) put_u64(h, (uint64_t)a->ints[k]);
        break;
    case OT_ATTR_STRINGS:
        put_u64(h, (uint64_t)a->n);
        for (int k = 0; k < a->n; k++) put_str(h, a->strings ? a->strings[k] : NULL);
        break;
    case OT_ATTR_TENSORS:
    case OT_ATTR_SPARSE_TENSORS:
        put_u64(h, (uint64_t)a->n);
        for (int k = 0; k < a->n; k++) put_tensor(h, a->tensors ? a->tensors[k] : NULL);
        break;
    case OT_ATTR_GRAPHS:
        put_u64(h, (uint64_t)a->n);
        for (int k = 0; k < a->n; k++) put_graph(h, a->graphs ? a->graphs[k] : NULL);
        break;
    default: break; /* type protos: the type number above is all the IR keeps */
    }
}

static void put_graph(ot_hash64 *h, const ot_graph *g) {
    if (!g) {
        put_u64(h, UINT64_MAX);
        return;
    }
    put_u64(h, (uint64_t)g->n_inputs);
    for (int i = 0; i < g->n_inputs; i++) {
        const ot_value *v = &g->values[g->inputs[i]];
        put_str(h, v->name);
        put_shape(h, v->dtype, v->rank, v->dims);
    }
    put_u64(h, (uint64_t)g->n_outputs);
    for (int i = 0; i < g->n_outputs; i++) put_value_name(h, g, g->outputs[i]);
    put_u64(h, (uint64_t)g->n_inits);
    for (int i = 0; i < g->n_inits; i++) {
        const ot_value *v = &g->values[g->inits[i]];
        put_str(h, v->name);
        put_tensor(h, v->init);
    }
    put_u64(h, (uint64_t)g->n_nodes);
    for (int i = 0; i < g->n_nodes; i++) {
        const ot_node *n = &g->nodes[i];
        put_str(h, n->op_type);
        put_str(h, n->domain);
        put_u64(h, (uint64_t)n->n_inputs);
        for (int k = 0; k < n->n_inputs; k++) put_value_name(h, g, n->inputs[k]);
        put_u64(h, (uint64_t)n->n_outputs);
        for (int k = 0; k < n->n_outputs; k++) put_value_name(h, g, n->outputs[k]);
        put_u64(h, (uint64_t)n->n_attrs);
        for (int k = 0; k < n->n_attrs; k++) put_attr(h, &n->attrs[k]);
    }
}

void ot_model_fingerprint(const ot_graph *g, char id[OT_MODEL_ID_SIZE]) {
    ot_hash64 h;
    ot_hash64_init(&h, 0);
    put_str(&h, "onnxtrain-model-id-1"); /* bump when the stream's layout changes */
    put_u64(&h, (uint64_t)g->n_opsets);
    for (int i = 0; i < g->n_opsets; i++) {
        const char *d = g->opsets[i].domain;
        put_str(&h, d && strcmp(d, "ai.onnx") ? d : ""); /* "" and "ai.onnx" are the same domain */
        put_u64(&h, (uint64_t)g->opsets[i].version);
    }
    put_graph(&h, g);
    snprintf(id, OT_MODEL_ID_SIZE, "xxh64:%016llx", (unsigned long long)ot_hash64_final(&h));
}
