/* Semantic versions as Payram publishes them: MAJOR.MINOR.PATCH with an
 * optional leading "v" and optional "-prerelease" and "+build" parts
 * (semver.org 2.0 precedence; build metadata is ignored). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define VERSION_MAX_BYTES 128

typedef struct Version {
        uint64_t major, minor, patch;
        char prerelease[VERSION_MAX_BYTES]; /* "" when absent */
} Version;

/* Returns 0 or -EINVAL for anything that is not a semantic version. */
int version_parse(const char *s, Version *ret);

/* <0, 0, >0 like strcmp. */
int version_compare(const Version *a, const Version *b);

/* Parses both; returns -EINVAL when either does not parse, else 0 with
 * the comparison in *ret. */
int version_compare_strings(const char *a, const char *b, int *ret);

/* A Docker tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
bool version_is_valid_tag(const char *s);
