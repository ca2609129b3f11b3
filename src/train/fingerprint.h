/* Model identity for checkpoints: a 64-bit hash of what makes two models the
 * same model to train (docs/formats.md, "Model identity").
 *
 * Hashed: the opset imports, the graph's inputs (name, element type, shape;
 * symbolic dimensions count as unknown), outputs (names), initializers (name,
 * element type, shape and every byte of the value), and every node (op type,
 * domain, input and output value names, attributes with their values,
 * subgraphs recursively).  Not hashed: producer, doc strings, metadata and
 * node names, which change nothing a trainer computes.  The trainer takes the
 * fingerprint when it is created, before any update, so it identifies the
 * model file as loaded, not the trained values.
 *
 * The hash is XXH64 (seed 0) of a canonical byte stream in which every string
 * and list is length-prefixed, so no two different graphs give the same
 * stream.  Written here (no dependency); fast enough (several GB/s) that
 * hashing a large model's weights costs little next to loading them. */
#ifndef OT_TRAIN_FINGERPRINT_H
#define OT_TRAIN_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "../ir/graph.h"

/* Streaming XXH64. */
typedef struct ot_hash64 {
    uint64_t v[4];
    uint64_t total;  /* bytes fed so far */
    uint64_t seed;
    uint8_t buf[32]; /* the stripe not yet consumed */
    size_t n;        /* bytes in buf */
} ot_hash64;

void ot_hash64_init(ot_hash64 *h, uint64_t seed);
void ot_hash64_update(ot_hash64 *h, const void *data, size_t n);
uint64_t ot_hash64_final(const ot_hash64 *h);
/* One-shot XXH64 of a buffer. */
uint64_t ot_hash64_of(const void *data, size_t n, uint64_t seed);

/* "xxh64:" and 16 lower-case hex digits, NUL-terminated. */
#define OT_MODEL_ID_SIZE 24

/* The model identity of graph g (a top-level graph: its opsets are hashed)
   as text in id (OT_MODEL_ID_SIZE bytes). */
void ot_model_fingerprint(const ot_graph *g, char id[OT_MODEL_ID_SIZE]);

#endif
