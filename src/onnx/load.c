/* ModelProto -> IR.  The wire data's nesting is bounded first (wire.c), then
 * protobuf-c unpacks it and this file builds the ot_graph: opsets, inputs,
 * initializers (dense and sparse), nodes with every attribute type, nested
 * graphs, value_info shapes.  Calls of model-local functions are inlined as
 * the nodes are read (functions.c).  Models in the wild are not always
 * topologically sorted, so every graph is sorted and then verified. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/dtype.h"
#include "pb.h"

static ot_status oom(void) { return ot_error(OT_ERR_NOMEM, "out of memory"); }

static char *concat(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *s = ot_malloc(na + nb + 1);
    if (!s) return NULL;
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

static const char *str_or_empty(const char *s) { return s ? s : ""; }

/* ---- types --------------------------------------------------------------------- */

/* Applies a TypeProto to value `vid`.  strict (graph inputs/outputs): an element
   type or rank onnxtrain cannot represent is an error; otherwise it is ignored. */
static ot_status apply_type(ot_loader *L, ot_graph *g, int vid, const Onnx__TypeProto *tp, int strict) {
    if (!tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET) return OT_OK;
    ot_value *v = &g->values[vid];
    if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
        v->non_tensor = true; /* sequence, map, optional, sparse tensor */
        return ot_model_keep_type(L->model, g, v->name, tp);
    }
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type && tt->elem_type != 0) {
        ot_dtype dt = ot_dtype_from_onnx(tt->elem_type);
        if (dt == OT_UNDEFINED && strict)
            return ot_error(OT_ERR_UNSUPPORTED, "%s: graph '%s': value '%s' has element type %s (%d), which onnxtrain does not support",
                            L->what, g->name, v->name, ot_onnx_type_name(tt->elem_type), (int)tt->elem_type);
        if (dt != OT_UNDEFINED) v->dtype = dt;
    }
    if (!tt->shape) return OT_OK;
    if (tt->shape->n_dim > OT_MAX_RANK) {
        if (strict)
            return ot_error(OT_ERR_UNSUPPORTED, "%s: graph '%s': value '%s' has rank %zu; onnxtrain supports up to %d", L->what,
                            g->name, v->name, tt->shape->n_dim, OT_MAX_RANK);
        v->rank = -1;
        return OT_OK;
    }
    v->rank = (int)tt->shape->n_dim;
    for (int d = 0; d < OT_MAX_RANK; d++) {
        ot_free(v->dim_params[d]);
        v->dim_params[d] = NULL;
        v->dims[d] = -1;
    }
    for (int d = 0; d < v->rank; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && dim->dim_value >= 0)
            v->dims[d] = dim->dim_value;
        else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && dim->dim_param &&
                 *dim->dim_param && !(v->dim_params[d] = ot_strdup(dim->dim_param)))
            return oom();
    }
    return OT_OK;
}

ot_status ot_load_value_info(ot_loader *L, ot_graph *g, const Onnx__ValueInfoProto *vi, const struct ot_fn_scope *scope) {
    if (!vi->name || !*vi->name) return OT_OK;
    char *name;
    OT_TRY(ot_fn_rename(scope, vi->name, &name));
    int vid = ot_graph_find(g, name);
    ot_free(name);
    if (vid < 0 || g->values[vid].role == OT_ROLE_INITIALIZER) return OT_OK; /* unused name / the tensor decides */
    if (vi->doc_string && *vi->doc_string && !g->values[vid].doc && !(g->values[vid].doc = ot_strdup(vi->doc_string)))
        return oom();
    return apply_type(L, g, vid, vi->type, 0);
}

/* ---- attributes ------------------------------------------------------------------ */

static ot_status load_graph(ot_loader *L, const Onnx__GraphProto *gp, ot_graph *g, const struct ot_fn_scope *scope);

/* Old files (IR < 3) may leave `type` unset: it follows from the field that is set. */
static ot_attr_type attr_type_of(const Onnx__AttributeProto *a) {
    if (a->has_type && a->type != 0) return (ot_attr_type)a->type;
    if (a->n_floats) return OT_ATTR_FLOATS;
    if (a->n_ints) return OT_ATTR_INTS;
    if (a->n_strings) return OT_ATTR_STRINGS;
    if (a->n_tensors) return OT_ATTR_TENSORS;
    if (a->n_graphs) return OT_ATTR_GRAPHS;
    if (a->n_sparse_tensors) return OT_ATTR_SPARSE_TENSORS;
    if (a->n_type_protos) return OT_ATTR_TYPE_PROTOS;
    if (a->has_f) return OT_ATTR_FLOAT;
    if (a->has_i) return OT_ATTR_INT;
    if (a->has_s) return OT_ATTR_STRING;
    if (a->t) return OT_ATTR_TENSOR;
    if (a->g) return OT_ATTR_GRAPH;
    if (a->sparse_tensor) return OT_ATTR_SPARSE_TENSOR;
    if (a->tp) return OT_ATTR_TYPE_PROTO;
    return OT_ATTR_UNDEFINED;
}

static ot_status sub_graph(ot_loader *L, ot_graph *parent, const Onnx__GraphProto *gp, const struct ot_fn_scope *scope,
                           ot_graph **out) {
    ot_graph *g;
    OT_TRY(ot_graph_new(gp->name, &g));
    g->parent = parent;
    ot_status s = load_graph(L, gp, g, scope);
    if (s) {
        ot_graph_free(g);
        return s;
    }
    *out = g;
    return OT_OK;
}

/* A TypeProto attribute is kept as its packed bytes (the IR does not model types). */
static ot_status pack_type(const Onnx__TypeProto *tp, char **out, size_t *len) {
    size_t n = protobuf_c_message_get_packed_size(&tp->base);
    char *b = ot_malloc(n + 1);
    if (!b) return oom();
    protobuf_c_message_pack(&tp->base, (uint8_t *)b);
    b[n] = 0;
    *out = b;
    if (len) *len = n;
    return OT_OK;
}

/* TYPE_PROTOS: ot_attr has no per-string lengths, so each packed TypeProto is
   stored hex-encoded (save decodes it). */
static ot_status pack_type_hex(const Onnx__TypeProto *tp, char **out) {
    char *raw = NULL;
    size_t n = 0;
    OT_TRY(pack_type(tp, &raw, &n));
    char *h = ot_malloc(2 * n + 1);
    if (!h) {
        ot_free(raw);
        return oom();
    }
    for (size_t i = 0; i < n; i++) snprintf(h + 2 * i, 3, "%02x", (unsigned char)raw[i]);
    h[2 * n] = 0;
    ot_free(raw);
    *out = h;
    return OT_OK;
}

/* scope: where the attribute's subgraphs belong; in_function: the node is part of an
   inlined body (read once per call, so its tensors must stay in place). */
static ot_status load_attr(ot_loader *L, ot_graph *g, int nid, const char *name, const Onnx__AttributeProto *ap,
                           const struct ot_fn_scope *scope, int in_function) {
    char role[512];
    snprintf(role, sizeof role, "attribute '%s' of node '%s' (%s)", name, g->nodes[nid].name, g->nodes[nid].op_type);
    ot_tensor_ctx tc = L->tctx;
    tc.steal = !in_function;
    ot_attr_type type = attr_type_of(ap);
    ot_attr *a;
    OT_TRY(ot_node_add_attr(g, nid, name, type, &a));
    size_t n = 0;
    switch (type) {
    case OT_ATTR_FLOATS: n = ap->n_floats; break;
    case OT_ATTR_INTS: n = ap->n_ints; break;
    case OT_ATTR_STRINGS: n = ap->n_strings; break;
    case OT_ATTR_TENSORS: n = ap->n_tensors; break;
    case OT_ATTR_GRAPHS: n = ap->n_graphs; break;
    case OT_ATTR_SPARSE_TENSORS: n = ap->n_sparse_tensors; break;
    case OT_ATTR_TYPE_PROTOS: n = ap->n_type_protos; break;
    default: break;
    }
    if (n > INT_MAX / 16) return ot_error(OT_ERR_PARSE, "%s: %s has too many elements", L->what, role);
    switch (type) {
    case OT_ATTR_FLOAT: a->f = ap->f; return OT_OK;
    case OT_ATTR_INT: a->i = ap->i; return OT_OK;
    case OT_ATTR_STRING:
        a->s_len = ap->s.len;
        return (a->s = ot_strndup(ap->s.len ? (const char *)ap->s.data : "", ap->s.len)) ? OT_OK : oom();
    case OT_ATTR_TENSOR:
    case OT_ATTR_SPARSE_TENSOR:
        if (type == OT_ATTR_TENSOR ? !ap->t : !ap->sparse_tensor)
            return ot_error(OT_ERR_PARSE, "%s: %s has type %s but no value", L->what, role,
                            type == OT_ATTR_TENSOR ? "TENSOR" : "SPARSE_TENSOR");
        return type == OT_ATTR_TENSOR ? ot_tensor_from_proto(ap->t, &tc, role, &a->t)
                                      : ot_tensor_from_sparse_proto(ap->sparse_tensor, &tc, role, &a->t);
    case OT_ATTR_GRAPH:
        if (!ap->g) return ot_error(OT_ERR_PARSE, "%s: %s has type GRAPH but no graph", L->what, role);
        return sub_graph(L, g, ap->g, scope, &a->g);
    case OT_ATTR_TYPE_PROTO:
        if (!ap->tp) return ot_error(OT_ERR_PARSE, "%s: %s has type TYPE_PROTO but no type", L->what, role);
        return pack_type(ap->tp, &a->s, &a->s_len);
    case OT_ATTR_FLOATS:
        if (!(a->floats = ot_malloc(sizeof(float) * (n ? n : 1)))) return oom();
        if (n) memcpy(a->floats, ap->floats, sizeof(float) * n);
        a->n = (int)n;
        return OT_OK;
    case OT_ATTR_INTS:
        if (!(a->ints = ot_malloc(sizeof(int64_t) * (n ? n : 1)))) return oom();
        if (n) memcpy(a->ints, ap->ints, sizeof(int64_t) * n);
        a->n = (int)n;
        return OT_OK;
    case OT_ATTR_STRINGS:
    case OT_ATTR_TYPE_PROTOS:
        if (!(a->strings = ot_calloc(n ? n : 1, sizeof(char *)))) return oom();
        a->n = (int)n;
        for (size_t k = 0; k < n; k++) {
            if (type == OT_ATTR_TYPE_PROTOS) {
                OT_TRY(pack_type_hex(ap->type_protos[k], &a->strings[k]));
                continue;
            }
            const ProtobufCBinaryData *b = &ap->strings[k];
            if (!(a->strings[k] = ot_strndup(b->len ? (const char *)b->data : "", b->len))) return oom();
        }
        return OT_OK;
    case OT_ATTR_TENSORS:
    case OT_ATTR_SPARSE_TENSORS:
        if (!(a->tensors = ot_calloc(n ? n : 1, sizeof(ot_tensor *)))) return oom();
        a->n = (int)n;
        for (size_t k = 0; k < n; k++)
            OT_TRY(type == OT_ATTR_TENSORS ? ot_tensor_from_proto(ap->tensors[k], &tc, role, &a->tensors[k])
                                           : ot_tensor_from_sparse_proto(ap->sparse_tensors[k], &tc, role, &a->tensors[k]));
        return OT_OK;
    case OT_ATTR_GRAPHS:
        if (!(a->graphs = ot_calloc(n ? n : 1, sizeof(ot_graph *)))) return oom();
        a->n = (int)n;
        for (size_t k = 0; k < n; k++) OT_TRY(sub_graph(L, g, ap->graphs[k], scope, &a->graphs[k]));
        return OT_OK;
    default:
        return ot_error(OT_ERR_PARSE, "%s: %s has unknown type %d", L->what, role, (int)type);
    }
}

/* ---- nodes ------------------------------------------------------------------------ */

static ot_status value_ids(ot_graph *g, const struct ot_fn_scope *scope, size_t n, char **names, int *ids) {
    for (size_t i = 0; i < n; i++) {
        if (!names[i] || !*names[i]) { /* an omitted optional input/output */
            ids[i] = -1;
            continue;
        }
        char *nm;
        OT_TRY(ot_fn_rename(scope, names[i], &nm));
        ot_status s = ot_graph_value(g, nm, &ids[i]);
        ot_free(nm);
        OT_TRY(s);
    }
    return OT_OK;
}

ot_status ot_load_node(ot_loader *L, ot_graph *g, const Onnx__NodeProto *np, const struct ot_fn_scope *scope, int index) {
    const Onnx__FunctionProto *fn = ot_fn_find(L->mp, np);
    if (fn) return ot_fn_inline(L, g, np, fn, scope, index);
    if (!np->op_type || !*np->op_type)
        return ot_error(OT_ERR_PARSE, "%s: graph '%s': node %d ('%s') has no op_type", L->what, g->name, index,
                        str_or_empty(np->name));
    if (np->n_input > INT_MAX / 16 || np->n_output > INT_MAX / 16)
        return ot_error(OT_ERR_PARSE, "%s: node '%s' has too many inputs or outputs", L->what, str_or_empty(np->name));
    int *ids = ot_malloc(sizeof(int) * (np->n_input + np->n_output + 1));
    /* Inlined nodes get the call's prefix so that names stay unique (other
       runtimes reject duplicates) and say where they came from. */
    const char *base = str_or_empty(np->name);
    char unnamed[160];
    if (scope && !*base) {
        snprintf(unnamed, sizeof unnamed, "%.120s_%d", np->op_type, index);
        base = unnamed;
    }
    char *name = concat(ot_fn_prefix(scope), base);
    int nid;
    ot_status s = ids && name ? OT_OK : oom();
    if (!s) s = value_ids(g, scope, np->n_input, np->input, ids);
    if (!s) s = value_ids(g, scope, np->n_output, np->output, ids + np->n_input);
    if (!s)
        s = ot_graph_add_node(g, np->op_type, str_or_empty(np->domain), name, (int)np->n_input, ids, (int)np->n_output,
                              ids + np->n_input, &nid);
    ot_free(ids);
    ot_free(name);
    OT_TRY(s);
    if (np->doc_string && *np->doc_string && !(g->nodes[nid].doc = ot_strdup(np->doc_string))) return oom();
    for (size_t k = 0; k < np->n_attribute; k++) {
        const Onnx__AttributeProto *ap = np->attribute[k], *res;
        const struct ot_fn_scope *ascope;
        const ot_node *n = &g->nodes[nid];
        if (!ap->name || !*ap->name)
            return ot_error(OT_ERR_PARSE, "%s: node '%s' (%s): attribute %zu has no name", L->what, n->name, n->op_type, k);
        if (ot_node_attr(n, ap->name))
            return ot_error(OT_ERR_PARSE, "%s: node '%s' (%s): attribute '%s' is given twice", L->what, n->name, n->op_type,
                            ap->name);
        OT_TRY(ot_fn_attr(L, scope, ap, n->name, &res, &ascope));
        if (res) OT_TRY(load_attr(L, g, nid, ap->name, res, ascope, scope != NULL));
    }
    return OT_OK;
}

/* ---- graphs ------------------------------------------------------------------------- */

static ot_status push_id(int **arr, int *n, int id) {
    int *a = ot_realloc(*arr, sizeof(int) * (size_t)(*n + 1));
    if (!a) return oom();
    a[(*n)++] = id;
    *arr = a;
    return OT_OK;
}

/* Takes ownership of t. */
static ot_status add_init(ot_loader *L, ot_graph *g, const char *raw_name, ot_tensor *t, const struct ot_fn_scope *scope) {
    char *name = NULL;
    int vid;
    ot_status s = OT_OK;
    if (!*raw_name) s = ot_error(OT_ERR_PARSE, "%s: graph '%s': an initializer has no name", L->what, g->name);
    else if (!(s = ot_fn_rename(scope, raw_name, &name))) {
        if (ot_graph_find(g, name) >= 0)
            s = ot_error(OT_ERR_PARSE, "%s: graph '%s': initializer '%s' is given twice", L->what, g->name, name);
        else if (!(s = ot_graph_value(g, name, &vid)) && !(s = ot_tensor_set_name(t, name)) &&
                 !(s = push_id(&g->inits, &g->n_inits, vid))) {
            ot_value *v = &g->values[vid];
            v->role = OT_ROLE_INITIALIZER;
            v->init = t;
            v->dtype = t->dtype;
            v->rank = t->rank;
            for (int d = 0; d < t->rank; d++) v->dims[d] = t->dims[d];
            t = NULL;
        }
    }
    ot_free(name);
    ot_tensor_free(t);
    return s;
}

static ot_status graph_io(ot_loader *L, ot_graph *g, const Onnx__ValueInfoProto *vi, const struct ot_fn_scope *scope,
                          int is_input) {
    const char *kind = is_input ? "input" : "output";
    if (!vi->name || !*vi->name) return ot_error(OT_ERR_PARSE, "%s: graph '%s': an %s has no name", L->what, g->name, kind);
    char *name;
    int vid;
    OT_TRY(ot_fn_rename(scope, vi->name, &name));
    ot_status s = ot_graph_value(g, name, &vid);
    ot_free(name);
    OT_TRY(s);
    int *list = is_input ? g->inputs : g->outputs, n = is_input ? g->n_inputs : g->n_outputs;
    for (int i = 0; i < n; i++)
        if (list[i] == vid)
            return ot_error(OT_ERR_PARSE, "%s: graph '%s': %s '%s' is listed twice", L->what, g->name, kind, g->values[vid].name);
    ot_value *v = &g->values[vid];
    if (is_input) {
        v->is_input = true;
        if (v->role != OT_ROLE_INITIALIZER) v->role = OT_ROLE_INPUT;
    }
    if (vi->doc_string && *vi->doc_string && !v->doc && !(v->doc = ot_strdup(vi->doc_string))) return oom();
    if (v->role != OT_ROLE_INITIALIZER) OT_TRY(apply_type(L, g, vid, vi->type, 1));
    return is_input ? push_id(&g->inputs, &g->n_inputs, vid) : push_id(&g->outputs, &g->n_outputs, vid);
}

/* ---- ordering ------------------------------------------------------------------------ */

/* Values of g that subgraph `sub` (or a graph nested in it) captures; graphs
   between sub and g may shadow a name by defining it themselves. */
static ot_status collect_captures(const ot_graph *g, const ot_graph *sub, int **ids, int *n) {
    for (int v = 0; v < sub->n_values; v++) {
        if (sub->values[v].role != OT_ROLE_OUTER) continue;
        const char *name = sub->values[v].name;
        int shadowed = 0;
        for (const ot_graph *p = sub->parent; p && p != g && !shadowed; p = p->parent) {
            int id = ot_graph_find(p, name);
            shadowed = id >= 0 && p->values[id].role != OT_ROLE_OUTER;
        }
        int id = shadowed ? -1 : ot_graph_find(g, name);
        if (id < 0) continue;
        int dup = 0;
        for (int k = 0; k < *n && !dup; k++) dup = (*ids)[k] == id;
        if (!dup && push_id(ids, n, id)) return OT_ERR_NOMEM;
    }
    for (int i = 0; i < sub->n_nodes; i++)
        for (int k = 0; k < sub->nodes[i].n_attrs; k++) {
            const ot_attr *a = &sub->nodes[i].attrs[k];
            if (a->g) OT_TRY(collect_captures(g, a->g, ids, n));
            for (int j = 0; a->graphs && j < a->n; j++) OT_TRY(collect_captures(g, a->graphs[j], ids, n));
        }
    return OT_OK;
}

/* A node whose If/Loop/Scan body reads a value of g must run after that value's
   producer, a dependency its inputs do not show.  The captured values are appended
   to the node's inputs while ot_graph_toposort and ot_graph_verify run, then
   removed again (nodes keep their inputs array when sorted, so it identifies them). */
static ot_status sort_and_verify(ot_loader *L, ot_graph *g) {
    int n_ext = 0;
    struct ext { int *inputs; int n_orig; } *ext = NULL;
    ot_status s = OT_OK;
    for (int i = 0; i < g->n_nodes && !s; i++) {
        ot_node *nd = &g->nodes[i];
        int *ids = NULL, n = 0;
        for (int k = 0; k < nd->n_attrs && !s; k++) {
            const ot_attr *a = &nd->attrs[k];
            if (a->g) s = collect_captures(g, a->g, &ids, &n);
            for (int j = 0; !s && a->graphs && j < a->n; j++) s = collect_captures(g, a->graphs[j], &ids, &n);
        }
        if (!s && n) {
            int *in = ot_realloc(nd->inputs, sizeof(int) * (size_t)(nd->n_inputs + n));
            struct ext *e = ot_realloc(ext, sizeof *e * (size_t)(n_ext + 1));
            if (e) ext = e;
            if (in) nd->inputs = in;
            if (!in || !e) s = oom();
            else {
                memcpy(in + nd->n_inputs, ids, sizeof(int) * (size_t)n);
                ext[n_ext++] = (struct ext){in, nd->n_inputs};
                nd->n_inputs += n;
            }
        }
        if (s == OT_ERR_NOMEM) s = oom();
        ot_free(ids);
    }
    if (!s && g->n_nodes) s = ot_graph_toposort(g); /* (it memcpy's into g->nodes, NULL when empty) */
    if (!s) s = ot_graph_verify(g);
    for (int i = 0; i < g->n_nodes && n_ext; i++)
        for (int k = 0; k < n_ext; k++)
            if (g->nodes[i].inputs == ext[k].inputs) g->nodes[i].n_inputs = ext[k].n_orig;
    ot_free(ext);
    return s ? ot_error_context(s, "%s", L->what) : OT_OK;
}

static ot_status load_graph(ot_loader *L, const Onnx__GraphProto *gp, ot_graph *g, const struct ot_fn_scope *scope) {
    if (gp->doc_string && *gp->doc_string && !(g->doc = ot_strdup(gp->doc_string))) return oom();
    char role[300];
    snprintf(role, sizeof role, "initializer of graph '%s'", g->name);
    ot_tensor_ctx tc = L->tctx;
    tc.steal = scope == NULL;
    for (size_t i = 0; i < gp->n_initializer; i++) {
        ot_tensor *t;
        OT_TRY(ot_tensor_from_proto(gp->initializer[i], &tc, role, &t));
        OT_TRY(add_init(L, g, str_or_empty(gp->initializer[i]->name), t, scope));
    }
    for (size_t i = 0; i < gp->n_sparse_initializer; i++) {
        ot_tensor *t;
        OT_TRY(ot_tensor_from_sparse_proto(gp->sparse_initializer[i], &tc, role, &t));
        OT_TRY(add_init(L, g, t->name ? t->name : "", t, scope));
    }
    for (size_t i = 0; i < gp->n_input; i++) OT_TRY(graph_io(L, g, gp->input[i], scope, 1));
    if (gp->n_node > INT_MAX / 2) return ot_error(OT_ERR_PARSE, "%s: graph '%s' has too many nodes", L->what, g->name);
    for (size_t i = 0; i < gp->n_node; i++) OT_TRY(ot_load_node(L, g, gp->node[i], scope, (int)i));
    for (size_t i = 0; i < gp->n_output; i++) OT_TRY(graph_io(L, g, gp->output[i], scope, 0));
    for (size_t i = 0; i < gp->n_value_info; i++) OT_TRY(ot_load_value_info(L, g, gp->value_info[i], scope));
    /* A subgraph value that nothing in it defines comes from an enclosing graph. */
    if (g->parent) {
        char *produced = ot_calloc((size_t)g->n_values + 1, 1);
        if (!produced) return oom();
        for (int i = 0; i < g->n_nodes; i++)
            for (int k = 0; k < g->nodes[i].n_outputs; k++)
                if (g->nodes[i].outputs[k] >= 0) produced[g->nodes[i].outputs[k]] = 1;
        for (int v = 0; v < g->n_values; v++)
            if (g->values[v].role == OT_ROLE_ACTIVATION && !produced[v]) g->values[v].role = OT_ROLE_OUTER;
        ot_free(produced);
    }
    return sort_and_verify(L, g);
}

/* Every captured (OUTER) value must be defined by some enclosing graph. */
static ot_status check_outer(ot_loader *L, const ot_graph *g) {
    for (int v = 0; v < g->n_values; v++) {
        const ot_value *val = &g->values[v];
        if (val->role != OT_ROLE_OUTER) continue;
        const ot_graph *a = g->parent;
        int found = 0;
        for (; a && !found; a = a->parent) {
            int id = ot_graph_find(a, val->name);
            if (id < 0) continue;
            const ot_value *o = &a->values[id];
            if (o->role == OT_ROLE_OUTER) continue;
            found = o->role != OT_ROLE_ACTIVATION || o->producer >= 0 ? 1 : -1;
        }
        if (found <= 0)
            return ot_error(OT_ERR_PARSE, "%s: subgraph '%s' uses '%s', which neither it nor an enclosing graph defines", L->what,
                            g->name, val->name);
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_attrs; k++) {
            const ot_attr *a = &g->nodes[i].attrs[k];
            if (a->g) OT_TRY(check_outer(L, a->g));
            for (int j = 0; a->graphs && j < a->n; j++) OT_TRY(check_outer(L, a->graphs[j]));
        }
    return OT_OK;
}

/* ---- the model ------------------------------------------------------------------------ */

static ot_status load_opsets(ot_loader *L, const Onnx__ModelProto *mp, ot_graph *g) {
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        const char *dom = str_or_empty(o->domain);
        if (!o->has_version || o->version < 1)
            return ot_error(OT_ERR_PARSE, "%s: opset_import for domain '%s' has no valid version", L->what, dom);
        int64_t have = ot_graph_opset(g, dom);
        if (have == o->version) continue;
        if (have >= 0)
            return ot_error(OT_ERR_PARSE, "%s: opset_import lists domain '%s' twice (versions %lld and %lld)", L->what, dom,
                            (long long)have, (long long)o->version);
        ot_opset *os = ot_realloc(g->opsets, sizeof *os * (size_t)(g->n_opsets + 1));
        if (!os) return oom();
        g->opsets = os;
        if (!(os[g->n_opsets].domain = ot_strdup(dom))) return oom();
        os[g->n_opsets++].version = o->version;
    }
    if (g->n_opsets == 0) {
        if (mp->ir_version >= 3)
            return ot_error(OT_ERR_PARSE, "%s: the model has no opset_import, so the version of its ops is unknown", L->what);
        /* IR versions 1-2 predate opset_import: their ops are opset 1. */
        if (!(g->opsets = ot_calloc(1, sizeof *g->opsets)) || !(g->opsets[0].domain = ot_strdup(""))) return oom();
        g->opsets[0].version = 1;
        g->n_opsets = 1;
    }
    return OT_OK;
}

static ot_status load_meta(ot_model *m, const Onnx__ModelProto *mp) {
    m->ir_version = mp->ir_version;
    m->model_version = mp->model_version;
    if (!(m->producer_name = ot_strdup(str_or_empty(mp->producer_name))) ||
        !(m->producer_version = ot_strdup(str_or_empty(mp->producer_version))) ||
        !(m->domain = ot_strdup(str_or_empty(mp->domain))) || !(m->doc = ot_strdup(str_or_empty(mp->doc_string))))
        return oom();
    size_t n = mp->n_metadata_props;
    if (n > INT_MAX / 16) return ot_error(OT_ERR_PARSE, "too many metadata_props");
    if (!(m->meta_keys = ot_calloc(n + 1, sizeof(char *))) || !(m->meta_values = ot_calloc(n + 1, sizeof(char *))))
        return oom();
    for (size_t i = 0; i < n; i++) {
        const Onnx__StringStringEntryProto *kv = mp->metadata_props[i];
        m->n_meta = (int)i + 1;
        if (!(m->meta_keys[i] = ot_strdup(str_or_empty(kv->key))) || !(m->meta_values[i] = ot_strdup(str_or_empty(kv->value))))
            return oom();
    }
    return OT_OK;
}

void ot_model_free(ot_model *m);

ot_status ot_model_parse(const void *data, size_t size, const char *base_dir, const char *what, ot_model **out) {
    if (!out || (size && !data)) return ot_error(OT_ERR_INVALID_ARG, "ot_model_parse: NULL argument");
    *out = NULL;
    what = what ? what : "<buffer>";
    OT_TRY(ot_pb_check_wire(data, size, OT_PB_ROOT_MODEL, what));
    Onnx__ModelProto *mp = onnx__model_proto__unpack(&ot_pb_allocator, size, data);
    if (!mp) return ot_error(OT_ERR_PARSE, "%s: not a valid ONNX model (protobuf parse failed)", what);
    ot_status s;
    ot_model *m = ot_calloc(1, sizeof *m);
    ot_loader L = {.what = what, .model = m, .mp = mp};
    if (!m) {
        s = oom();
        goto out;
    }
    if (!mp->graph) {
        s = ot_error(OT_ERR_PARSE, "%s: not a valid ONNX model (it has no graph)", what);
        goto out;
    }
    L.tctx = (ot_tensor_ctx){.what = what, .base_dir = base_dir, .model = m, .steal = 0};
    if ((s = load_meta(m, mp))) goto out;
    if (!(m->base_dir = ot_strdup(base_dir ? base_dir : "."))) {
        s = oom();
        goto out;
    }
    if ((s = ot_graph_new("prefixes", &L.prefixes))) goto out;
    if ((s = ot_graph_new(mp->graph->name, &m->graph))) goto out;
    if ((s = load_opsets(&L, mp, m->graph))) goto out;
    if ((s = load_graph(&L, mp->graph, m->graph, NULL))) goto out;
    s = check_outer(&L, m->graph);
out:
    ot_graph_free(L.prefixes);
    onnx__model_proto__free_unpacked(mp, &ot_pb_allocator);
    if (s) {
        ot_model_free(m);
        return s;
    }
    *out = m;
    return OT_OK;
}
