/* The runtime manifest: which image to run and how to check its health. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define MANIFEST_MAX_REPO_BYTES     255  /* Docker's limit on a repository name */
#define MANIFEST_MAX_NAME_BYTES     128  /* container name */
#define MANIFEST_MAX_ENDPOINT_BYTES 1024 /* health check path */

typedef struct Manifest {
        char *image_repo;        /* image.repo, required */
        char *container_name;    /* defaults.container_name, NULL when absent */
        char *health_endpoint;   /* health_check.endpoint, required, starts with "/" */
} Manifest;

int manifest_parse(const char *data, size_t len, Manifest *ret, char **ret_error);
void manifest_done(Manifest *m);

/* The checks manifest_parse() applies, for callers that take these values
 * from elsewhere (a stored job, the command line). */
bool manifest_repo_is_valid(const char *s);
bool manifest_container_name_is_valid(const char *s);
bool manifest_endpoint_is_valid(const char *s);
