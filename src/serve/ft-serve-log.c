/* ft-serve-log.c — GLib structured log records as JSON lines in a file:
 * one object per record with time, level, domain (the module) and
 * message plus the record's own fields; fields that name a secret are
 * dropped. Records still go to stderr as GLib would print them.
 */
#include "ft-config.h"
#include "ft-serve.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  GMutex lock;
  FILE  *file;
} JsonLog;

static JsonLog json_log = { 0 };   /* the process's log writer: there is one */

static gboolean
secret_field (const char *key)
{
  static const char *const words[] = { "AUTHORIZATION", "TOKEN", "PASSWORD", "SECRET", "KEY" };
  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    if (strstr (key, words[i]))
      return TRUE;
  return FALSE;
}

static const char *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR) return "error";
  if (level & G_LOG_LEVEL_CRITICAL) return "critical";
  if (level & G_LOG_LEVEL_WARNING) return "warning";
  if (level & G_LOG_LEVEL_MESSAGE) return "message";
  if (level & G_LOG_LEVEL_INFO) return "info";
  return "debug";
}

static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  (void) user_data;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *ts = g_date_time_format_iso8601 (now);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "time");
  json_builder_add_string_value (b, ts);
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b, level_name (level));
  for (gsize i = 0; i < n_fields; i++)
    {
      const char *k = fields[i].key;
      if (secret_field (k) || strcmp (k, "PRIORITY") == 0 || fields[i].length > 0 /* binary */)
        continue;
      g_autofree char *lower = g_ascii_strdown (strcmp (k, "GLIB_DOMAIN") == 0 ? "domain" : k, -1);
      json_builder_set_member_name (b, lower);
      json_builder_add_string_value (b, fields[i].value ? fields[i].value : "");
    }
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree char *line = json_to_string (root, FALSE);
  g_mutex_lock (&json_log.lock);
  if (json_log.file)
    {
      fputs (line, json_log.file);
      fputc ('\n', json_log.file);
      fflush (json_log.file);
    }
  g_mutex_unlock (&json_log.lock);
  /* Warnings and worse also reach the terminal; info and debug follow G_MESSAGES_DEBUG. */
  return g_log_writer_default (level, fields, n_fields, NULL);
}

gboolean
ft_serve_log_json_open (const char *path, GError **error)
{
  FILE *f = fopen (path, "a");
  if (f == NULL)
    {
      int err = errno;
      g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_LISTEN, "--log-json %s: %s", path, g_strerror (err));
      return FALSE;
    }
  g_mutex_lock (&json_log.lock);
  if (json_log.file)
    fclose (json_log.file);
  json_log.file = f;
  g_mutex_unlock (&json_log.lock);
  g_log_set_writer_func (writer, NULL, NULL);
  return TRUE;
}
