/* ft-json.h — the one strict JSON layer every reader and writer uses.
 *
 * Reading goes through json-glib, behind two limits it does not have: a
 * size limit (a file is read with ft_file_read, so a device or a runaway
 * file is refused) and a nesting-depth limit checked by a linear scan
 * before the recursive parser sees the text (depth 80,000 used to overflow
 * the stack). Errors name the source and, for syntax, the line.
 *
 * The typed getters never raise GLib criticals: a member of the wrong type
 * reads as missing, and ft_json_require_* say which member and what it
 * should have been. Writing uses json-glib's generator, so every string
 * written is escaped.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define FT_JSON_ERROR (ft_json_error_quark ())
GQuark ft_json_error_quark (void);

typedef enum {
  FT_JSON_ERROR_IO,
  FT_JSON_ERROR_TOO_LARGE,
  FT_JSON_ERROR_TOO_DEEP,
  FT_JSON_ERROR_SYNTAX,
  FT_JSON_ERROR_TYPE,       /* a member missing or of the wrong type */
} FtJsonError;

#define FT_JSON_MAX_DEPTH  64                               /* default nesting limit */
#define FT_JSON_MAX_SIZE   ((gsize) 512 * 1024 * 1024)      /* default size limit */

/* Deepest nesting of objects and arrays in text (strings are skipped), or
 * limit + 1 as soon as it passes limit. */
guint     ft_json_depth      (const char *text, gsize len, guint limit);

/* Parses text; `what` names the source in errors (a path, "MQTT payload").
 * max_depth 0 and max_size 0 mean the defaults. Returns a new root node. */
JsonNode *ft_json_parse      (const char *text, gssize len, const char *what,
                              guint max_depth, gsize max_size, GError **error);
/* Reads and parses a regular file with the default limits. */
JsonNode *ft_json_load_file  (const char *path, GError **error);

/* Getters that never warn. NULL / FALSE when missing or of another type. */
JsonObject  *ft_json_object_of  (JsonNode *node);
JsonArray   *ft_json_array_of   (JsonNode *node);
JsonObject  *ft_json_get_object (JsonObject *o, const char *member);
JsonArray   *ft_json_get_array  (JsonObject *o, const char *member);
const char  *ft_json_get_string (JsonObject *o, const char *member);
gboolean     ft_json_get_double (JsonObject *o, const char *member, double *out);  /* finite numbers only */
gboolean     ft_json_get_int    (JsonObject *o, const char *member, gint64 *out);  /* integral numbers only */
gboolean     ft_json_get_bool   (JsonObject *o, const char *member, gboolean *out);
/* Array elements, with the same rules. */
JsonObject  *ft_json_array_object (JsonArray *a, guint i);
gboolean     ft_json_array_double (JsonArray *a, guint i, double *out);

/* The same, with an error naming `where` (e.g. "zones.geojson feature 3")
 * and the member. */
const char  *ft_json_require_string (JsonObject *o, const char *member, const char *where, GError **error);
gboolean     ft_json_require_double (JsonObject *o, const char *member, const char *where, double *out,
                                     GError **error);

/* Writes node as text (pretty: two-space indent); every string escaped. */
char     *ft_json_to_string  (JsonNode *node, gboolean pretty);
/* Appends s as a quoted, escaped JSON string. */
void      ft_json_append_string (GString *out, const char *s);
/* Adds v as a JSON number that parses again: json-glib 1.6 writes a double
 * whose shortest form has an exponent and no point (2e41, 3e-05) as
 * "2e+41.0", which is not JSON. Such a value is written as an integer when
 * it is one and fits, else as its neighbour one ulp nearer zero; a value
 * that is not finite is written as null. Every other value is written as
 * json_builder_add_double_value writes it. */
void      ft_json_builder_add_number (JsonBuilder *b, double v);

G_END_DECLS
