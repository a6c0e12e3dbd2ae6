/* The runtime manifest: which image to run and how to check its health. */
#pragma once

#include <stddef.h>

typedef struct Manifest {
        char *image_repo;        /* image.repo, required */
        char *container_name;    /* defaults.container_name, NULL when absent */
        char *health_endpoint;   /* health_check.endpoint, required, starts with "/" */
} Manifest;

int manifest_parse(const char *data, size_t len, Manifest *ret, char **ret_error);
void manifest_done(Manifest *m);
