/* ft-json.c — strict JSON reading (size and depth limits before json-glib's
 * recursive parser), typed getters that never warn, and an escaping writer.
 */
#include "ft-json.h"
#include "ft-file.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (ft-json-error-quark, ft_json_error)

guint
ft_json_depth (const char *s, gsize len, guint limit)
{
  guint depth = 0, max = 0;
  gboolean in_string = FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = s[i];
      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > max)
            {
              max = depth;
              if (max > limit)
                return limit + 1;
            }
        }
      else if ((c == '}' || c == ']') && depth > 0)
        depth--;
    }
  return max;
}

/* json-glib's scanner also takes C escapes ("\222" is the byte 0x92, not
 * UTF-8, which its writer then emits as is). Accept only JSON's own: \" \\
 * \/ \b \f \n \r \t and \u with four hex digits. Returns the 1-based line
 * of the first other escape, or 0. */
static guint
bad_escape_line (const char *s, gsize len)
{
  gboolean in_string = FALSE;
  guint line = 1;
  for (gsize i = 0; i < len; i++)
    {
      char c = s[i];
      if (c == '\n')
        line++;
      if (!in_string)
        {
          in_string = c == '"';
          continue;
        }
      if (c == '"')
        in_string = FALSE;
      else if (c == '\\')
        {
          if (i + 1 >= len)
            return line;
          char e = s[++i];
          if (e == 'u')
            {
              for (int k = 1; k <= 4; k++)
                if (i + k >= len || !g_ascii_isxdigit (s[i + k]))
                  return line;
              i += 4;
            }
          else if (strchr ("\"\\/bfnrt", e) == NULL || e == '\0')
            return line;
        }
    }
  return 0;
}

JsonNode *
ft_json_parse (const char *text, gssize len_in, const char *what, guint max_depth, gsize max_size,
               GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  if (what == NULL)
    what = "JSON";
  gsize len = len_in < 0 ? strlen (text) : (gsize) len_in;
  if (max_depth == 0)
    max_depth = FT_JSON_MAX_DEPTH;
  if (max_size == 0)
    max_size = FT_JSON_MAX_SIZE;
  if (len > max_size)
    {
      g_set_error (error, FT_JSON_ERROR, FT_JSON_ERROR_TOO_LARGE,
                   "%s: %" G_GSIZE_FORMAT " bytes of JSON, more than the limit of %" G_GSIZE_FORMAT,
                   what, len, max_size);
      return NULL;
    }
  if (memchr (text, '\0', len) != NULL)
    {
      g_set_error (error, FT_JSON_ERROR, FT_JSON_ERROR_SYNTAX, "%s: not JSON text (it holds a NUL byte)", what);
      return NULL;
    }
  if (ft_json_depth (text, len, max_depth) > max_depth)
    {
      g_set_error (error, FT_JSON_ERROR, FT_JSON_ERROR_TOO_DEEP,
                   "%s: JSON nested deeper than %u levels is refused", what, max_depth);
      return NULL;
    }
  guint esc_line = bad_escape_line (text, len);
  if (esc_line > 0)
    {
      g_set_error (error, FT_JSON_ERROR, FT_JSON_ERROR_SYNTAX,
                   "%s: not valid JSON: line %u: a string holds an escape JSON does not have "
                   "(only \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", what, esc_line);
      return NULL;
    }
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local = NULL;
  if (!json_parser_load_from_data (parser, text, (gssize) len, &local))
    {
      g_set_error (error, FT_JSON_ERROR, FT_JSON_ERROR_SYNTAX, "%s: not valid JSON: %s", what, local->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error (error, FT_JSON_ERROR, FT_JSON_ERROR_SYNTAX, "%s: empty, no JSON value", what);
      return NULL;
    }
  return json_node_ref (root);   /* outlives the parser */
}

JsonNode *
ft_json_load_file (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) local = NULL;
  if (!ft_file_read (path, FT_JSON_MAX_SIZE, &text, &len, &local))
    {
      g_set_error_literal (error, FT_JSON_ERROR,
                           local->code == FT_FILE_ERROR_TOO_LARGE ? FT_JSON_ERROR_TOO_LARGE : FT_JSON_ERROR_IO,
                           local->message);
      return NULL;
    }
  return ft_json_parse (text, (gssize) len, path, 0, 0, error);
}

JsonObject *
ft_json_object_of (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

JsonArray *
ft_json_array_of (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static JsonNode *
member (JsonObject *o, const char *name)
{
  return o != NULL && name != NULL ? json_object_get_member (o, name) : NULL;
}

JsonObject *
ft_json_get_object (JsonObject *o, const char *name)
{
  return ft_json_object_of (member (o, name));
}

JsonArray *
ft_json_get_array (JsonObject *o, const char *name)
{
  return ft_json_array_of (member (o, name));
}

const char *
ft_json_get_string (JsonObject *o, const char *name)
{
  JsonNode *n = member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static gboolean
node_double (JsonNode *n, double *out)
{
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  GType t = json_node_get_value_type (n);
  double v;
  if (t == G_TYPE_DOUBLE)
    v = json_node_get_double (n);
  else if (t == G_TYPE_INT64)
    v = (double) json_node_get_int (n);
  else
    return FALSE;
  if (!isfinite (v))
    return FALSE;
  *out = v;
  return TRUE;
}

gboolean
ft_json_get_double (JsonObject *o, const char *name, double *out)
{
  return node_double (member (o, name), out);
}

gboolean
ft_json_get_int (JsonObject *o, const char *name, gint64 *out)
{
  JsonNode *n = member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  GType t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    {
      *out = json_node_get_int (n);
      return TRUE;
    }
  if (t == G_TYPE_DOUBLE)
    {
      double v = json_node_get_double (n);
      if (!isfinite (v) || v != floor (v) || v < -9.2e18 || v > 9.2e18)
        return FALSE;
      *out = (gint64) v;
      return TRUE;
    }
  return FALSE;
}

gboolean
ft_json_get_bool (JsonObject *o, const char *name, gboolean *out)
{
  JsonNode *n = member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return FALSE;
  *out = json_node_get_boolean (n);
  return TRUE;
}

JsonObject *
ft_json_array_object (JsonArray *a, guint i)
{
  if (a == NULL || i >= json_array_get_length (a))
    return NULL;
  return ft_json_object_of (json_array_get_element (a, i));
}

gboolean
ft_json_array_double (JsonArray *a, guint i, double *out)
{
  if (a == NULL || i >= json_array_get_length (a))
    return FALSE;
  return node_double (json_array_get_element (a, i), out);
}

const char *
ft_json_require_string (JsonObject *o, const char *name, const char *where, GError **error)
{
  const char *s = ft_json_get_string (o, name);
  if (s == NULL)
    g_set_error (error, FT_JSON_ERROR, FT_JSON_ERROR_TYPE, "%s: \"%s\" must be a string%s", where, name,
                 member (o, name) ? "" : " (it is missing)");
  return s;
}

gboolean
ft_json_require_double (JsonObject *o, const char *name, const char *where, double *out, GError **error)
{
  if (ft_json_get_double (o, name, out))
    return TRUE;
  g_set_error (error, FT_JSON_ERROR, FT_JSON_ERROR_TYPE, "%s: \"%s\" must be a finite number%s", where, name,
               member (o, name) ? "" : " (it is missing)");
  return FALSE;
}

char *
ft_json_to_string (JsonNode *node, gboolean pretty)
{
  g_return_val_if_fail (node != NULL, NULL);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, pretty);
  json_generator_set_indent (gen, 2);
  return json_generator_to_data (gen, NULL);
}

static gboolean
dtostr_breaks_json_glib (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_dtostr (buf, sizeof buf, v);
  return strchr (buf, '.') == NULL && strpbrk (buf, "eE") != NULL;
}

void
ft_json_builder_add_number (JsonBuilder *b, double v)
{
  if (!isfinite (v))
    {
      json_builder_add_null_value (b);
      return;
    }
  if (!dtostr_breaks_json_glib (v))
    {
      json_builder_add_double_value (b, v);
      return;
    }
  if (v == floor (v) && fabs (v) < 9.2e18)
    {
      json_builder_add_int_value (b, (gint64) v);
      return;
    }
  double w = v;
  do
    w = nextafter (w, 0.0);
  while (dtostr_breaks_json_glib (w));
  json_builder_add_double_value (b, w);
}

void
ft_json_append_string (GString *out, const char *s)
{
  g_return_if_fail (out != NULL);
  g_autofree char *valid = g_utf8_make_valid (s ? s : "", -1);
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *) valid; *p; p++)
    {
      switch (*p)
        {
        case '"':  g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        default:
          if (*p < 0x20)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (char) *p);
        }
    }
  g_string_append_c (out, '"');
}
