/*
 * arena.h - the bump allocator: allocations live until the arena is freed
 * (or reset), so trees and tables need no per-node free.
 */
#ifndef HTS_ARENA_H
#define HTS_ARENA_H

#include <stddef.h>

struct arena {
    struct arena_block *head;
};
void *arena_alloc(struct arena *a, size_t n); /* zeroed; exits on OOM */
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_free(struct arena *a);
/* Forgets every allocation but keeps one block for reuse. */
void arena_reset(struct arena *a);

#endif
