/* The pieces of the checkpoint format (docs/formats.md, "Checkpoints"): a
 * JSON writer and a strict JSON reader for checkpoint.json, and a writer of
 * uncompressed .npz archives (read back with src/data/npz.h, and with
 * numpy.load) for the tensors. */
#ifndef OT_TRAIN_CHECKPOINT_FORMAT_H
#define OT_TRAIN_CHECKPOINT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/tensor.h"
#include "onnxtrain.h"

/* ---- JSON text out ---------------------------------------------------------- */
/* A growing string; an allocation failure is remembered and reported by
   ot_jbuf_status, so building code need not check every append. */
typedef struct ot_jbuf {
    char *s;
    size_t n, cap;
    bool oom;
} ot_jbuf;

void ot_jbuf_printf(ot_jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string literal (quotes included); bytes >= 0x80 pass through. */
void ot_jbuf_str(ot_jbuf *b, const char *s);
ot_status ot_jbuf_status(const ot_jbuf *b);
void ot_jbuf_free(ot_jbuf *b);

/* ---- JSON text in ------------------------------------------------------------ */
typedef enum ot_json_kind { OT_JSON_NULL, OT_JSON_BOOL, OT_JSON_NUMBER, OT_JSON_STRING, OT_JSON_ARRAY, OT_JSON_OBJECT } ot_json_kind;

typedef struct ot_json {
    ot_json_kind kind;
    bool b;
    char *text;            /* STRING: the decoded bytes (NUL-terminated); NUMBER: the literal */
    size_t len;            /* STRING: bytes, excluding the NUL */
    int n;                 /* ARRAY / OBJECT: members */
    struct ot_json *items; /* n values */
    char **keys;           /* OBJECT: n keys */
} ot_json;

/* Parses a whole document (RFC 8259; nesting at most 32 deep).  OT_ERR_PARSE
   naming `what` and the byte offset otherwise. */
ot_status ot_json_parse(const char *text, size_t n, const char *what, ot_json **out);
void ot_json_free(ot_json *j);
/* Member `key` of an object, or NULL (also when j is not an object). */
const ot_json *ot_json_get(const ot_json *j, const char *key);
/* Exact integer conversions: false unless j is an integer literal in range. */
bool ot_json_int64(const ot_json *j, int64_t *out);
bool ot_json_uint64(const ot_json *j, uint64_t *out);
/* The string, or NULL when j is not a string. */
const char *ot_json_string(const ot_json *j);

/* ---- .npz out ------------------------------------------------------------------ */
typedef struct ot_npz_writer ot_npz_writer;

/* Entries and the archive switch to ZIP64 records for sizes and offsets of
   at least zip64_threshold bytes (the zip limit is 0xffffffff; tests pass a
   small value to exercise ZIP64 without writing 4 GiB). */
#define OT_NPZ_ZIP64_LIMIT 0xffffffffull

/* Writes to a temporary file beside `path` (src/core/fileio.h). */
ot_status ot_npz_writer_open(const char *path, uint64_t zip64_threshold, ot_npz_writer **out);
/* Appends `t` as member "<name>.npy" (stored).  A bfloat16 tensor is stored
   as its uint16 bit patterns (numpy has no bfloat16).  *data_crc receives
   the CRC-32 of the raw data bytes (without the .npy header). */
ot_status ot_npz_writer_add(ot_npz_writer *w, const char *name, const ot_tensor *t, uint32_t *data_crc);
/* Writes the central directory, fsyncs, renames over `path` and fsyncs the
   folder; frees w whatever the outcome (the temporary is removed on failure). */
ot_status ot_npz_writer_commit(ot_npz_writer *w);
/* Removes the temporary file and frees w (NULL is fine). */
void ot_npz_writer_abort(ot_npz_writer *w);

/* CRC-32 (zlib's) of n bytes. */
uint32_t ot_crc32(const void *data, size_t n);

/* ot_trainer_save_checkpoint with the archive's ZIP64 threshold as a
   parameter (tests); the public function passes OT_NPZ_ZIP64_LIMIT. */
ot_status ot_checkpoint_save(const ot_trainer *t, const char *dir, const char *config, const ot_loop_state *loop,
                             uint64_t zip64_threshold);

#endif
