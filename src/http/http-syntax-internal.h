/* Character classes of the HTTP grammar (RFC 9110 section 5.6), shared by the
 * request parser and the chunked decoder so that header fields and trailer
 * fields are held to exactly the same syntax. */
#pragma once

#include <stdbool.h>
#include <string.h>

/* tchar: the characters of a token (method, field name, coding). */
static inline bool http_is_tchar(char c) {
        unsigned char u = (unsigned char) c;

        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9'))
                return true;
        return u != 0 && strchr("!#$%&'*+-.^_`|~", u) != NULL;
}

/* OWS / BWS: optional whitespace is SP or HTAB, nothing else. */
static inline bool http_is_ows(char c) {
        return c == ' ' || c == '\t';
}

/* A byte allowed inside a field value: VCHAR, obs-text, SP, HTAB.  Every other
 * control byte (NUL, CR, LF, DEL, ...) is refused. */
static inline bool http_is_field_byte(char c) {
        unsigned char u = (unsigned char) c;

        return u == '\t' || (u >= 0x20 && u != 0x7f);
}

/* Visible ASCII, what a request-target may consist of. */
static inline bool http_is_vchar(char c) {
        unsigned char u = (unsigned char) c;

        return u > 0x20 && u < 0x7f;
}
