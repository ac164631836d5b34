/* cmd-inspect.c — `fleet-twin-cli inspect REFERENCE PHOTO`: the damage
 * check of a rider's photo against the vehicle's reference photo, printed
 * as one tab-separated line (decision, score, regions, reason) or, with
 * --json, in detail; with --db and --vehicle the photo is recorded (a reused
 * photo is caught) and queued for staff review unless ok. `inspect queue`,
 * `confirm` and `dismiss` work the review queue of a database.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-core.h"
#include "ft-file.h"
#include "ft-inspect.h"
#include "ft-inspect-queue.h"

#include <stdio.h>
#include <string.h>

static int
usage_error (const char *msg)
{
  fprintf (stderr, "fleet-twin-cli inspect: %s\n", msg);
  return 2;
}

static int
fail (const GError *error)
{
  fprintf (stderr, "fleet-twin-cli inspect: %s\n", error->message);
  return 1;
}

/* The core of an existing Fleet Twin database (never a new file). */
static FtCore *
open_db (const char *path, GError **error)
{
  return ft_cli_open_db_core (path, error);
}

static void
close_db (FtCore *core)
{
  if (core == NULL)
    return;
  g_autoptr(GError) error = NULL;
  if (!ft_core_detach_store (core, &error))
    fprintf (stderr, "fleet-twin-cli inspect: closing the database: %s\n", error->message);
  ft_core_free (core);
}
/* an open database: its store detached (committed) before the core is freed */
typedef FtCore FtInspectDb;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtInspectDb, close_db)

static gboolean
find_vehicle (FtCore *core, const char *key, guint *v, GError **error)
{
  if (ft_fleet_lookup_device (core->fleet, key, v))
    return TRUE;
  guint n = ft_fleet_n_vehicles (core->fleet);
  for (guint i = 0; i < n; i++)
    if (strcmp (ft_fleet_get_vehicle (core->fleet, i)->name, key) == 0)
      {
        *v = i;
        return TRUE;
      }
  g_set_error (error, FT_FILE_ERROR, 0, "no vehicle named or with device id '%s' (%u vehicles)", key, n);
  return FALSE;
}

static gboolean
find_account (FtCore *core, const char *key, guint *a, GError **error)
{
  if (ft_accounts_lookup_id (core->accounts, key, a))
    return TRUE;
  char *end = NULL;
  guint64 i = g_ascii_strtoull (key, &end, 10);
  if (end != key && *end == '\0' && i < ft_accounts_n (core->accounts))
    {
      *a = (guint) i;
      return TRUE;
    }
  g_set_error (error, FT_FILE_ERROR, 0, "no account '%s' (give its id or index)", key);
  return FALSE;
}

static void
print_line (const FtInspectResult *r)
{
  GString *regions = g_string_new (NULL);
  for (guint i = 0; i < r->n_regions; i++)
    g_string_append_printf (regions, "%s%d,%d,%dx%d:%s", i ? ";" : "", r->regions[i].x,
                            r->regions[i].y, r->regions[i].w, r->regions[i].h,
                            ft_damage_kind_name (r->regions[i].kind));
  printf ("%s\t%.2f\t%s\t%s\n", ft_inspect_decision_name (r->decision), r->score,
          regions->len ? regions->str : "-", r->reason[0] ? r->reason : "-");
  g_string_free (regions, TRUE);
}

static int
check (int argc, char **argv)
{
  gboolean json = FALSE;
  g_autofree char *db = NULL, *vehicle = NULL;
  gint64 at = -1;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the details as JSON", NULL },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "Record the photo in this database and queue it for review unless ok", "FILE" },
    { "vehicle", 0, 0, G_OPTION_ARG_STRING, &vehicle, "The vehicle photographed (name or device id; with --db)", "ID" },
    { "at", 0, 0, G_OPTION_ARG_INT64, &at, "When the photo was taken, ms of the database's clock (default: now)", "MS" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("REFERENCE PHOTO — check a rider's photo for damage");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Prints one tab-separated line: the decision (ok, review or damaged), the\n"
    "score (per mille of the view changed, weighted by 1 - SSIM), the regions\n"
    "(x,y,WxH:kind in reference pixels, ';'-separated, '-' if none) and the\n"
    "reason ('-' if none). JPEG or PNG, at most 48 MB and 50 megapixels;\n"
    "images are compared at 1024 px on the long side.\n\n"
    "Other commands:\n"
    "  inspect queue --db FILE [--all] [--json]   the staff review queue\n"
    "  inspect confirm --db FILE --review N --by ACCOUNT\n"
    "                      damage confirmed: vehicle out of service, repair task\n"
    "  inspect dismiss --db FILE --review N --by ACCOUNT\n");
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc != 3)
    return usage_error ("usage: fleet-twin-cli inspect REFERENCE PHOTO [--json] [--db FILE --vehicle ID]");
  if ((db == NULL) != (vehicle == NULL))
    return usage_error ("--db and --vehicle go together");

  g_autoptr(FtInspectImage) ref = ft_inspect_image_load (argv[1], &error);
  if (ref == NULL)
    return fail (error);
  g_autoptr(FtInspectImage) photo = ft_inspect_image_load (argv[2], &error);
  if (photo == NULL)
    return fail (error);
  g_autoptr(FtInspector) insp = ft_inspector_new (NULL);
  FtInspectResult r;
  if (!ft_inspect_check (insp, ref, photo, &r, &error))
    return fail (error);

  gint64 review = -1;
  if (db != NULL)
    {
      g_autoptr(FtInspectDb) core = open_db (db, &error);
      guint v = 0;
      if (core == NULL || !find_vehicle (core, vehicle, &v, &error))
        return fail (error);
      FtTime now = at >= 0 ? at : g_get_real_time () / 1000;
      g_autofree char *abs = g_canonicalize_filename (argv[2], NULL);
      if (!ft_inspect_queue_submit (core, v, abs, &r, now, &review, &error))
        return fail (error);
    }
  if (json)
    {
      g_autofree char *j = ft_inspect_result_to_json (&r);
      if (review >= 0)
        {
          j[strlen (j) - 1] = '\0';
          printf ("%s,\"review\":%" G_GINT64_FORMAT "}\n", j, review);
        }
      else
        printf ("%s\n", j);
    }
  else
    print_line (&r);
  return 0;
}

static int
queue (int argc, char **argv)
{
  g_autofree char *db = NULL;
  gboolean all = FALSE, json = FALSE;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "The database", "FILE" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "Also confirmed and dismissed reviews", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per line", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— the staff review queue of damage checks");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error (error->message);
  if (db == NULL || argc != 1)
    return usage_error ("usage: fleet-twin-cli inspect queue --db FILE [--all] [--json]");
  g_autoptr(FtInspectDb) core = open_db (db, &error);
  if (core == NULL)
    return fail (error);
  g_autoptr(GArray) rows = ft_review_array_new ();
  if (!ft_inspect_queue_list (core, all ? -1 : FT_REVIEW_OPEN, rows, &error))
    return fail (error);
  static const char *states[] = { "open", "confirmed", "dismissed" };
  for (guint i = 0; i < rows->len; i++)
    {
      const FtReview *r = &g_array_index (rows, FtReview, i);
      const char *name = r->vehicle < ft_fleet_n_vehicles (core->fleet)
                         ? ft_fleet_get_vehicle (core->fleet, r->vehicle)->name : "?";
      if (json)
        {
          g_autofree char *path = g_strescape (r->path, NULL);
          g_autofree char *reason = g_strescape (r->reason, NULL);
          printf ("{\"review\":%" G_GINT64_FORMAT ",\"vehicle\":\"%s\",\"t\":%" G_GINT64_FORMAT
                  ",\"decision\":\"%s\",\"score\":%.3f,\"state\":\"%s\",\"task\":%" G_GINT64_FORMAT
                  ",\"photo\":\"%s\",\"reason\":\"%s\",\"regions\":%s}\n",
                  r->id, name, r->t, ft_inspect_decision_name (r->decision), r->score,
                  states[CLAMP (r->state, 0, 2)], r->task, path, reason, r->regions);
        }
      else
        printf ("%" G_GINT64_FORMAT "\t%s\t%s\t%.2f\t%s\t%s\t%s\n", r->id, name,
                ft_inspect_decision_name (r->decision), r->score, states[CLAMP (r->state, 0, 2)],
                r->path, r->reason);
    }
  if (!json)
    fprintf (stderr, "%u review%s\n", rows->len, rows->len == 1 ? "" : "s");
  return 0;
}

static int
decide (int argc, char **argv, gboolean confirm)
{
  g_autofree char *db = NULL, *by = NULL;
  gint64 review = -1, at = -1;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "The database", "FILE" },
    { "review", 0, 0, G_OPTION_ARG_INT64, &review, "The review's number (inspect queue)", "N" },
    { "by", 0, 0, G_OPTION_ARG_STRING, &by, "The dispatcher deciding (account id or index)", "ACCOUNT" },
    { "at", 0, 0, G_OPTION_ARG_INT64, &at, "When, ms of the database's clock (default: now)", "MS" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (confirm
    ? "— confirm a damage: the vehicle goes out of service and a repair task opens"
    : "— dismiss a review: no damage");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error (error->message);
  if (db == NULL || by == NULL || review < 0 || argc != 1)
    return usage_error ("usage: fleet-twin-cli inspect confirm|dismiss --db FILE --review N --by ACCOUNT");
  g_autoptr(FtInspectDb) core = open_db (db, &error);
  guint a = 0;
  if (core == NULL || !find_account (core, by, &a, &error))
    return fail (error);
  FtTime now = at >= 0 ? at : g_get_real_time () / 1000;
  gint64 task = -1;
  if (confirm ? !ft_inspect_queue_confirm (core, review, a, now, &task, &error)
              : !ft_inspect_queue_dismiss (core, review, a, now, &error))
    return fail (error);
  if (confirm)
    printf ("review %" G_GINT64_FORMAT " confirmed: vehicle out of service, task %" G_GINT64_FORMAT
            " (collect_repair)\n", review, task);
  else
    printf ("review %" G_GINT64_FORMAT " dismissed\n", review);
  return 0;
}

int
ft_cli_inspect (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "queue") == 0)
    return queue (argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "confirm") == 0)
    return decide (argc - 1, argv + 1, TRUE);
  if (argc >= 2 && strcmp (argv[1], "dismiss") == 0)
    return decide (argc - 1, argv + 1, FALSE);
  return check (argc, argv);
}
