/* ft-live-json.c — JSON both ways. Incoming: field readers that refuse
 * wrong types and non-finite numbers, a nesting-depth guard, and the
 * payload field interface with its two back ends (a strict allocation-free
 * reader for flat objects, json-glib for the rest). Outgoing: every
 * payload is written with JsonBuilder / JsonGenerator, so strings are
 * always escaped.
 */
#include "ft-live-private.h"
#include "ft-json.h"

#include <stddef.h>
#include <string.h>
#include <stdio.h>
#include <errno.h>

gboolean
ft_live_json_number (JsonObject *o, const char *name, double *out, gboolean *bad)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (n))
    {
      *bad = TRUE;
      return FALSE;
    }
  GType t = json_node_get_value_type (n);
  double d;
  if (t == G_TYPE_INT64)
    d = (double) json_node_get_int (n);
  else if (t == G_TYPE_DOUBLE)
    d = json_node_get_double (n);
  else
    {
      *bad = TRUE;
      return FALSE;
    }
  if (!isfinite (d))
    {
      *bad = TRUE;
      return FALSE;
    }
  *out = d;
  return TRUE;
}

gboolean
ft_live_json_int64 (JsonObject *o, const char *name, gint64 *out, gboolean *bad)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (n))
    {
      *bad = TRUE;
      return FALSE;
    }
  GType t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    {
      *out = json_node_get_int (n);
      return TRUE;
    }
  if (t == G_TYPE_DOUBLE)
    {
      double d = json_node_get_double (n);
      /* within ±2^53 and integral: exact */
      if (isfinite (d) && fabs (d) < 9007199254740992.0 && d == floor (d))
        {
          *out = (gint64) d;
          return TRUE;
        }
    }
  *bad = TRUE;
  return FALSE;
}

const char *
ft_live_json_string (JsonObject *o, const char *name, gboolean *bad)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      *bad = TRUE;
      return NULL;
    }
  return json_node_get_string (n);
}

gboolean
ft_live_json_bool (JsonObject *o, const char *name, gboolean *out, gboolean *bad)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    {
      *bad = TRUE;
      return FALSE;
    }
  *out = json_node_get_boolean (n);
  return TRUE;
}

/* ------------------------------------------------------ outgoing JSON */

JsonBuilder *
ft_live_json_begin (void)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  return b;
}

void
ft_live_json_put_str (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
ft_live_json_put_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

void
ft_live_json_put_num (JsonBuilder *b, const char *name, double value, int decimals)
{
  json_builder_set_member_name (b, name);
  if (!isfinite (value))
    {
      json_builder_add_null_value (b);
      return;
    }
  double scale = pow (10.0, CLAMP (decimals, 0, 9));
  double r = round (value * scale) / scale;
  if (decimals == 0 && fabs (r) < 9007199254740992.0)
    json_builder_add_int_value (b, (gint64) r);
  else
    ft_json_builder_add_number (b, r);
}

char *
ft_live_json_end (JsonBuilder *b, gsize *len_out)
{
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, root);
  gsize len = 0;
  char *text = json_generator_to_data (gen, &len);
  g_object_unref (b);
  if (len_out)
    *len_out = len;
  return text;
}

static const char *const wire_kinds[FT_N_TASK_KINDS] = { "swap", "rebalance", "collect", "deploy", "inspect" };

char *
ft_live_command_payload (const FtLiveCommand *c, FtTime now, gsize *len_out)
{
  JsonBuilder *b = ft_live_json_begin ();
  ft_live_json_put_str (b, "command_id", c->id);
  ft_live_json_put_str (b, "command", ft_live_command_name (c->kind));
  ft_live_json_put_int (b, "timestamp", now);
  ft_live_json_put_int (b, "expires", c->expires);
  ft_live_json_put_int (b, "attempt", c->attempts + 1);
  if (c->kind == FT_CMD_SPEED_LIMIT)
    ft_live_json_put_num (b, "max_kph", c->max_kph >= 0 ? c->max_kph : NAN, 1);   /* null lifts */
  return ft_live_json_end (b, len_out);
}

char *
ft_live_assignment_payload (const FtLiveAssignment *a, FtTime now, gsize *len_out)
{
  JsonBuilder *b = ft_live_json_begin ();
  g_autofree char *task = g_strdup_printf ("task-%" G_GINT64_FORMAT, a->task);
  gboolean has_pos = isfinite (a->target.lat) && isfinite (a->target.lon);
  ft_live_json_put_str (b, "command_id", a->id);
  ft_live_json_put_str (b, "task_id", task);
  ft_live_json_put_str (b, "kind", (guint) a->kind < FT_N_TASK_KINDS ? wire_kinds[a->kind] : "unknown");
  ft_live_json_put_str (b, "device_id", a->device_id);
  ft_live_json_put_num (b, "lat", has_pos ? a->target.lat : NAN, 7);
  ft_live_json_put_num (b, "lon", has_pos ? a->target.lon : NAN, 7);
  ft_live_json_put_int (b, "priority", a->priority);
  ft_live_json_put_int (b, "timestamp", now);
  ft_live_json_put_int (b, "expires", a->expires);
  ft_live_json_put_int (b, "attempt", a->attempts + 1);
  return ft_live_json_end (b, len_out);
}

/* Stop list, version FT_LIVE_STOPS_VERSION (MQTT-CONTRACT.md). */
char *
ft_live_stops_payload (const FtLiveStopList *l, FtTime now, gsize *len_out)
{
  JsonBuilder *b = ft_live_json_begin ();
  ft_live_json_put_int (b, "version", FT_LIVE_STOPS_VERSION);
  ft_live_json_put_str (b, "command_id", l->id);
  ft_live_json_put_str (b, "staff_id", l->staff_id);
  ft_live_json_put_int (b, "timestamp", now);
  ft_live_json_put_int (b, "expires", l->expires);
  ft_live_json_put_int (b, "attempt", l->attempts + 1);
  json_builder_set_member_name (b, "stops");
  json_builder_begin_array (b);
  for (guint i = 0; i < l->n_stops && i < FT_LIVE_MAX_STOPS; i++)
    {
      const FtLiveStop *st = &l->stops[i];
      g_autofree char *task = g_strdup_printf ("task-%" G_GINT64_FORMAT, st->task);
      gboolean has_pos = isfinite (st->pos.lat) && isfinite (st->pos.lon);
      json_builder_begin_object (b);
      ft_live_json_put_int (b, "seq", i + 1);
      ft_live_json_put_str (b, "task_id", task);
      ft_live_json_put_str (b, "kind", (guint) st->kind < FT_N_TASK_KINDS ? wire_kinds[st->kind] : "unknown");
      ft_live_json_put_str (b, "device_id", st->device_id);
      ft_live_json_put_num (b, "lat", has_pos ? st->pos.lat : NAN, 7);
      ft_live_json_put_num (b, "lon", has_pos ? st->pos.lon : NAN, 7);
      if (isfinite (st->drop.lat) && isfinite (st->drop.lon))
        {
          /* a rebalance's drop point (added within version 1) */
          ft_live_json_put_num (b, "drop_lat", st->drop.lat, 7);
          ft_live_json_put_num (b, "drop_lon", st->drop.lon, 7);
        }
      json_builder_set_member_name (b, "started");
      json_builder_add_boolean_value (b, st->started);
      ft_live_json_put_int (b, "eta", st->eta);
      ft_live_json_put_str (b, "reason", st->reason);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return ft_live_json_end (b, len_out);
}

char *
ft_live_status_payload (const char *status, FtTime now, gsize *len_out)
{
  JsonBuilder *b = ft_live_json_begin ();
  ft_live_json_put_str (b, "status", status);
  if (now >= 0)
    ft_live_json_put_int (b, "timestamp", now);
  return ft_live_json_end (b, len_out);
}

/* --------------------------------------------------------------- fields */

/* The payload field interface (types in ft-live-private.h). */

static inline const char *
fast_ws (const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* A string without escapes or control characters; NUL-terminates it in
 * place (buf is our own copy). */
static const char *
fast_string (char *p, const char *end, const char **out)
{
  char *q = ++p;
  while (q < end && *q != '"')
    {
      if (*q == '\\' || (guchar) *q < 0x20)
        return NULL;
      q++;
    }
  if (q >= end)
    return NULL;
  *q = '\0';
  *out = p;
  return q + 1;
}

static const char *
fast_number (const char *p, const char *end, FastField *f)
{
  const char *st = p;
  gboolean is_int = TRUE;
  if (p < end && *p == '-')
    p++;
  if (p >= end || !g_ascii_isdigit (*p))
    return NULL;
  if (*p == '0')
    p++;
  else
    while (p < end && g_ascii_isdigit (*p))
      p++;
  if (p < end && *p == '.')
    {
      is_int = FALSE;
      p++;
      if (p >= end || !g_ascii_isdigit (*p))
        return NULL;
      while (p < end && g_ascii_isdigit (*p))
        p++;
    }
  if (p < end && (*p == 'e' || *p == 'E'))
    {
      is_int = FALSE;
      p++;
      if (p < end && (*p == '+' || *p == '-'))
        p++;
      if (p >= end || !g_ascii_isdigit (*p))
        return NULL;
      while (p < end && g_ascii_isdigit (*p))
        p++;
    }
  gsize n = p - st;
  if (n >= 32 || (is_int && n > 18))
    return NULL;               /* long: let json-glib decide */
  char buf[32];
  memcpy (buf, st, n);
  buf[n] = '\0';
  if (is_int)
    {
      f->type = FV_INT;
      f->i = g_ascii_strtoll (buf, NULL, 10);
    }
  else
    {
      f->type = FV_DBL;
      f->d = g_ascii_strtod (buf, NULL);
      if (!isfinite (f->d))
        return NULL;
    }
  return p;
}

gboolean
ft_live_fields_parse (char *buf, gsize len, Fields *F)
{
  const char *end = buf + len;
  char *p = (char *) fast_ws (buf, end);
  F->o = NULL;
  F->n = 0;
  if (p >= end || *p != '{')
    return FALSE;
  p = (char *) fast_ws (p + 1, end);
  if (p < end && *p == '}')
    return fast_ws (p + 1, end) == end;
  for (;;)
    {
      if (p >= end || *p != '"' || F->n >= FAST_MAX_FIELDS)
        return FALSE;
      FastField *f = &F->f[F->n];
      memset (f, 0, offsetof (FastField, ai));
      p = (char *) fast_string (p, end, &f->key);
      if (p == NULL)
        return FALSE;
      p = (char *) fast_ws (p, end);
      if (p >= end || *p != ':')
        return FALSE;
      p = (char *) fast_ws (p + 1, end);
      if (p >= end)
        return FALSE;
      if (*p == '"')
        {
          f->type = FV_STR;
          p = (char *) fast_string (p, end, &f->s);
        }
      else if (*p == '-' || g_ascii_isdigit (*p))
        p = (char *) fast_number (p, end, f);
      else if (end - p >= 4 && memcmp (p, "true", 4) == 0)
        {
          f->type = FV_BOOL;
          f->b = TRUE;
          p += 4;
        }
      else if (end - p >= 5 && memcmp (p, "false", 5) == 0)
        {
          f->type = FV_BOOL;
          f->b = FALSE;
          p += 5;
        }
      else if (end - p >= 4 && memcmp (p, "null", 4) == 0)
        {
          f->type = FV_NULL;
          p += 4;
        }
      else if (*p == '[')
        {
          f->type = FV_ARR;
          f->arr_type = FV_NULL;
          p = (char *) fast_ws (p + 1, end);
          if (p < end && *p == ']')
            p++;
          else
            for (;;)
              {
                if (p >= end || f->n >= FAST_MAX_ARR)
                  return FALSE;
                if (*p == '"' && f->arr_type != FV_INT)
                  {
                    f->arr_type = FV_STR;
                    p = (char *) fast_string (p, end, &f->as[f->n]);
                  }
                else if ((*p == '-' || g_ascii_isdigit (*p)) && f->arr_type != FV_STR)
                  {
                    FastField tmp = { 0 };
                    f->arr_type = FV_INT;
                    p = (char *) fast_number (p, end, &tmp);
                    if (p == NULL || tmp.type != FV_INT)
                      return FALSE;
                    f->ai[f->n] = tmp.i;
                  }
                else
                  return FALSE;
                if (p == NULL)
                  return FALSE;
                f->n++;
                p = (char *) fast_ws (p, end);
                if (p < end && *p == ',')
                  {
                    p = (char *) fast_ws (p + 1, end);
                    continue;
                  }
                if (p < end && *p == ']')
                  {
                    p++;
                    break;
                  }
                return FALSE;
              }
        }
      else
        return FALSE;
      if (p == NULL)
        return FALSE;
      F->n++;
      p = (char *) fast_ws (p, end);
      if (p < end && *p == ',')
        {
          p = (char *) fast_ws (p + 1, end);
          continue;
        }
      if (p < end && *p == '}')
        return fast_ws (p + 1, end) == end;
      return FALSE;
    }
}

static const FastField *
fast_find (const Fields *F, const char *name)
{
  for (guint i = F->n; i-- > 0;)          /* last one wins, as in json-glib */
    if (strcmp (F->f[i].key, name) == 0)
      return &F->f[i];
  return NULL;
}

gboolean
ft_live_fields_number (const Fields *F, const char *name, double *out, gboolean *bad)
{
  if (F->o)
    return ft_live_json_number (F->o, name, out, bad);
  const FastField *f = fast_find (F, name);
  if (f == NULL || f->type == FV_NULL)
    return FALSE;
  if (f->type == FV_INT)
    *out = (double) f->i;
  else if (f->type == FV_DBL)
    *out = f->d;
  else
    {
      *bad = TRUE;
      return FALSE;
    }
  return TRUE;
}

gboolean
ft_live_fields_int64 (const Fields *F, const char *name, gint64 *out, gboolean *bad)
{
  if (F->o)
    return ft_live_json_int64 (F->o, name, out, bad);
  const FastField *f = fast_find (F, name);
  if (f == NULL || f->type == FV_NULL)
    return FALSE;
  if (f->type == FV_INT)
    {
      *out = f->i;
      return TRUE;
    }
  if (f->type == FV_DBL && fabs (f->d) < 9007199254740992.0 && f->d == floor (f->d))
    {
      *out = (gint64) f->d;
      return TRUE;
    }
  *bad = TRUE;
  return FALSE;
}

const char *
ft_live_fields_string (const Fields *F, const char *name, gboolean *bad)
{
  if (F->o)
    return ft_live_json_string (F->o, name, bad);
  const FastField *f = fast_find (F, name);
  if (f == NULL || f->type == FV_NULL)
    return NULL;
  if (f->type != FV_STR)
    {
      *bad = TRUE;
      return NULL;
    }
  return f->s;
}

gboolean
ft_live_fields_bool (const Fields *F, const char *name, gboolean *out, gboolean *bad)
{
  if (F->o)
    return ft_live_json_bool (F->o, name, out, bad);
  const FastField *f = fast_find (F, name);
  if (f == NULL || f->type == FV_NULL)
    return FALSE;
  if (f->type != FV_BOOL)
    {
      *bad = TRUE;
      return FALSE;
    }
  *out = f->b;
  return TRUE;
}

/* Kind of a member: FV_NULL if absent or null. */
int
ft_live_fields_kind (const Fields *F, const char *name)
{
  if (F->o)
    {
      JsonNode *n = json_object_get_member (F->o, name);
      if (n == NULL || JSON_NODE_HOLDS_NULL (n))
        return FV_NULL;
      if (JSON_NODE_HOLDS_ARRAY (n))
        return FV_ARR;
      if (!JSON_NODE_HOLDS_VALUE (n))
        return FV_OTHER;
      GType t = json_node_get_value_type (n);
      return t == G_TYPE_INT64 ? FV_INT : t == G_TYPE_DOUBLE ? FV_DBL
           : t == G_TYPE_STRING ? FV_STR : t == G_TYPE_BOOLEAN ? FV_BOOL : FV_OTHER;
    }
  const FastField *f = fast_find (F, name);
  return f ? f->type : FV_NULL;
}

guint
ft_live_fields_array_len (const Fields *F, const char *name)
{
  if (F->o)
    return json_array_get_length (json_object_get_array_member (F->o, name));
  return fast_find (F, name)->n;
}

/* Element k: TRUE with *i set if it is an integer. */
gboolean
ft_live_fields_array_int (const Fields *F, const char *name, guint k, gint64 *i)
{
  if (F->o)
    {
      JsonNode *e = json_array_get_element (json_object_get_array_member (F->o, name), k);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_INT64)
        return FALSE;
      *i = json_node_get_int (e);
      return TRUE;
    }
  const FastField *f = fast_find (F, name);
  if (f->arr_type != FV_INT)
    return FALSE;
  *i = f->ai[k];
  return TRUE;
}

const char *
ft_live_fields_array_string (const Fields *F, const char *name, guint k)
{
  if (F->o)
    {
      JsonNode *e = json_array_get_element (json_object_get_array_member (F->o, name), k);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        return NULL;
      return json_node_get_string (e);
    }
  const FastField *f = fast_find (F, name);
  return f->arr_type == FV_STR ? f->as[k] : NULL;
}
