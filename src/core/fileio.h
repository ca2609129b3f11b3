/* File plumbing shared by every reader and writer of files (models, tensors,
 * checkpoints): whole-file read views, atomic writes, path helpers.  Plain
 * POSIX; nothing here knows a file format. */
#ifndef OT_CORE_FILEIO_H
#define OT_CORE_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* A read-only view of a whole file (mapped; read into memory if mapping fails). */
typedef struct ot_file_view {
    const uint8_t *data;
    size_t size;
    void *map;   /* munmap on release when non-NULL */
    void *heap;  /* ot_free on release when non-NULL */
} ot_file_view;
ot_status ot_file_view_open(const char *path, ot_file_view *out);
void ot_file_view_close(ot_file_view *v);

/* Atomic writer, so that a crash never leaves a half-written file: data goes
   to "<path>.tmp.<pid>"; sync fsyncs it, rename moves it over `path` and
   fsyncs the folder; abort (or a failed commit) removes the temporary file. */
typedef struct ot_atomic_file {
    int fd;
    char *path;
    char *tmp;
    uint64_t written;
    ot_status err; /* first write error, reported by sync */
} ot_atomic_file;
ot_status ot_atomic_open(ot_atomic_file *f, const char *path);
void ot_atomic_write(ot_atomic_file *f, const void *data, size_t n);
void ot_atomic_pad_to(ot_atomic_file *f, uint64_t offset); /* zero bytes up to offset */
/* Data is durable at the temporary name; the rename is still pending. */
ot_status ot_atomic_sync(ot_atomic_file *f);
/* Renames (after ot_atomic_sync) and fsyncs the folder. */
ot_status ot_atomic_rename(ot_atomic_file *f);
void ot_atomic_abort(ot_atomic_file *f);
/* Sync then rename, aborting on failure: the end of a single-file write. */
ot_status ot_atomic_commit(ot_atomic_file *f);

/* Folder part of a path ("." when it has none) and the last component, as new strings. */
char *ot_path_dirname(const char *path);
char *ot_path_basename(const char *path);

#endif
