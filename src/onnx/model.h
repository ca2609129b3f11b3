/* A loaded model: the ModelProto's metadata plus the IR graph.
 * Model-local functions are inlined at load, so the graph holds only ops. */
#ifndef OT_ONNX_MODEL_H
#define OT_ONNX_MODEL_H

#include <stddef.h>

#include "../ir/graph.h"

/* A non-tensor value type (sequence, map, optional, sparse tensor) that the IR
   does not model: the packed TypeProto, so that save writes it back as read. */
typedef struct ot_kept_type {
    const ot_graph *graph; /* the graph (or subgraph) holding the value */
    char *name;
    uint8_t *bytes;
    size_t len;
} ot_kept_type;

struct ot_extdata_map;

struct ot_model {
    int64_t ir_version;
    char *producer_name;
    char *producer_version;
    char *domain;
    int64_t model_version;
    char *doc;
    int n_meta;
    char **meta_keys; /* metadata_props */
    char **meta_values;
    ot_graph *graph;  /* owns the opset imports (graph->opsets) */
    char *base_dir;   /* folder of the model file: external data resolves here */
    /* External data files mapped copy-on-write (MAP_PRIVATE): initializers
       whose data is aligned point into them with owns == false, so they stay
       valid only as long as the model (clone a tensor to keep it longer).
       Writes to them stay private; save replaces files by rename, so saving
       over the model's own data file is safe.  Unmapped by ot_model_free. */
    int n_maps;
    struct ot_extdata_map *maps;
    int n_kept_types;
    ot_kept_type *kept_types;
};

/* Parses a serialized ModelProto into *out: nesting is bounded before
 * unpacking, model-local functions are inlined, every graph is sorted and
 * verified.  base_dir (NULL: the current folder) resolves external data;
 * `what` (NULL: "<buffer>") names the model in messages. */
ot_status ot_model_parse(const void *data, size_t size, const char *base_dir, const char *what,
                         ot_model **out);

#endif
