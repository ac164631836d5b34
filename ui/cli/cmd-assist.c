/* cmd-assist.c — `fleet-twin-cli assist`: the rider's support assistant
 * (src/assist). classify: utterances on standard input, one per line ->
 * "intent<TAB>confidence"; eval: the held-out set's accuracy, macro-F1 and
 * confusion matrix; ask: one answer for a rider of a store database, as
 * the app would show it; handoffs: the staff hand-off queue, and close.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-data.h"
#include "ft-assist.h"
#include "ft-assist-text.h"
#include "ft-file.h"
#include "ft-pricing.h"
#include "ft-inspect.h"
#include "ft-inspect-queue.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>


/* The assistant's corpus: installed in <datadir>/fleet-twin/assist, or the
 * source tree's src/assist/corpus when run uninstalled (the first folder
 * named when neither exists, so the error names a path). */
static char *
corpus_path (const char *name)
{
  g_autofree char *installed = g_build_filename ("assist", name, NULL);
  g_autofree char *source = g_build_filename ("src", "assist", "corpus", name, NULL);
  char *p = ft_data_find (installed);
  if (p == NULL)
    p = ft_data_find (source);
  if (p == NULL)
    p = g_build_filename (FT_DATADIR, installed, NULL);
  return p;
}
static int
usage (const char *prog)
{
  fprintf (stderr, "Usage: %s classify | eval [--file F] | ask --rider ID --db FILE TEXT | "
                   "handoffs --db FILE [--all] [--close ID --by STAFF]\n", prog);
  return 2;
}

/* Reads lines of standard input of any length; a line is returned whole
 * (the caller judges its size). */
static int
cmd_classify (int argc, char **argv)
{
  g_autoptr(GString) line = g_string_new (NULL);
  guint64 lineno = 0;
  int bad = 0, ch = 0;

  if (argc > 1)
    {
      fprintf (stderr, "%s: classify reads standard input and takes no arguments\n", argv[0]);
      return 2;
    }
  while (ch != EOF)
    {
      g_string_truncate (line, 0);
      while ((ch = getchar ()) != EOF && ch != '\n')
        if (line->len <= FT_ASSIST_MAX_MESSAGE)   /* keep one byte more than the bound to tell */
          g_string_append_c (line, (char) ch);
      if (ch == EOF && line->len == 0)
        break;
      lineno++;
      if (line->len > 0 && line->str[line->len - 1] == '\r')
        g_string_truncate (line, line->len - 1);
      const char *where = NULL;
      if (line->len > FT_ASSIST_MAX_MESSAGE)
        {
          fprintf (stderr, "%s: line %" G_GUINT64_FORMAT ": longer than %d bytes, not classified\n", argv[0],
                   lineno, FT_ASSIST_MAX_MESSAGE);
          printf ("out_of_scope\t0.000\n");
          bad++;
          continue;
        }
      if (!g_utf8_validate (line->str, (gssize) line->len, &where))
        {
          fprintf (stderr, "%s: line %" G_GUINT64_FORMAT ": not valid UTF-8 at byte %ld, not classified\n",
                   argv[0], lineno, (long) (where - line->str));
          printf ("out_of_scope\t0.000\n");
          bad++;
          continue;
        }
      double conf;
      FtIntent in = ft_intent_classify (line->str, line->len, &conf, NULL);
      printf ("%s\t%.3f\n", ft_intent_name (in), conf);
    }
  fflush (stdout);
  return bad ? 1 : 0;
}

/* Reads an INTENT<TAB>TEXT file; errors name the line. */
static gboolean
read_tsv (const char *path, GPtrArray *texts, GArray *labels, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_auto(GStrv) lines = NULL;

  if (!ft_file_read (path, 16 << 20, &data, &len, error))
    return FALSE;
  if (!g_utf8_validate (data, (gssize) len, NULL))
    {
      g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_INVALID, "%s is not valid UTF-8", path);
      return FALSE;
    }
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      char *l = g_strstrip (lines[i]), *tab;
      FtIntent in;
      if (!*l || *l == '#')
        continue;
      if (!(tab = strchr (l, '\t')))
        {
          g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_INVALID,
                       "%s:%u: expected INTENT<TAB>UTTERANCE", path, i + 1);
          return FALSE;
        }
      *tab = '\0';
      if (!ft_intent_from_name (l, &in))
        {
          g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_INVALID, "%s:%u: unknown intent '%s'",
                       path, i + 1, l);
          return FALSE;
        }
      g_ptr_array_add (texts, g_strdup (tab + 1));
      g_array_append_val (labels, in);
    }
  return TRUE;
}

static int
cmd_eval (int argc, char **argv)
{
  g_autofree char *file = NULL;
  double min_acc = 0, min_f1 = 0;
  GOptionEntry entries[] = {
    { "file", 0, 0, G_OPTION_ARG_FILENAME, &file, "Held-out set (INTENT<TAB>TEXT; default: the project's)", "FILE" },
    { "min-accuracy", 0, 0, G_OPTION_ARG_DOUBLE, &min_acc, "Fail (exit 1) below this accuracy", "X" },
    { "min-macro-f1", 0, 0, G_OPTION_ARG_DOUBLE, &min_f1, "Fail (exit 1) below this macro-F1", "X" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- score the intent classifier on a held-out set");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) labels = g_array_new (FALSE, FALSE, sizeof (FtIntent));
  g_autoptr(GPtrArray) train = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) train_labels = g_array_new (FALSE, FALSE, sizeof (FtIntent));
  guint conf[FT_N_INTENTS][FT_N_INTENTS] = { { 0 } };
  guint correct = 0, overlap = 0;
  double f1_sum = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (!file)
    file = corpus_path ("heldout.tsv");
  if (!read_tsv (file, texts, labels, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  if (texts->len == 0)
    {
      fprintf (stderr, "%s: %s holds no utterances\n", argv[0], file);
      return 1;
    }
  /* the held-out set must not repeat the training corpus */
  g_autofree char *train_path = corpus_path ("train.tsv");
  if (read_tsv (train_path, train, train_labels, NULL))
    {
      g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (guint i = 0; i < train->len; i++)
        g_hash_table_add (seen, g_utf8_strdown (train->pdata[i], -1));
      for (guint i = 0; i < texts->len; i++)
        {
          g_autofree char *l = g_utf8_strdown (texts->pdata[i], -1);
          overlap += g_hash_table_contains (seen, l);
        }
    }
  for (guint i = 0; i < texts->len; i++)
    {
      const char *t = texts->pdata[i];
      FtIntent want = g_array_index (labels, FtIntent, i);
      FtIntent got = ft_intent_classify (t, strlen (t), NULL, NULL);
      conf[want][got]++;
      correct += want == got;
    }
  printf ("held-out set: %s (%u utterances, %u also in the training corpus of %u)\n", file, texts->len,
          overlap, train->len);
  printf ("\n%-16s %9s %9s %9s %8s\n", "intent", "precision", "recall", "F1", "support");
  for (guint c = 0; c < FT_N_INTENTS; c++)
    {
      guint tp = conf[c][c], fp = 0, fn = 0;
      for (guint k = 0; k < FT_N_INTENTS; k++)
        if (k != c)
          {
            fp += conf[k][c];
            fn += conf[c][k];
          }
      double p = tp + fp ? (double) tp / (tp + fp) : 0, r = tp + fn ? (double) tp / (tp + fn) : 0;
      double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
      f1_sum += f1;
      printf ("%-16s %9.3f %9.3f %9.3f %8u\n", ft_intent_name (c), p, r, f1, tp + fn);
    }
  double acc = (double) correct / texts->len, macro = f1_sum / FT_N_INTENTS;
  printf ("\naccuracy %.3f (%u/%u)\nmacro-F1 %.3f\n", acc, correct, texts->len, macro);
  printf ("\nconfusion matrix (rows: true intent, columns: predicted, in the order above)\n%-18s", "");
  for (guint c = 0; c < FT_N_INTENTS; c++)
    printf (" %3u", c + 1);
  printf ("\n");
  for (guint r = 0; r < FT_N_INTENTS; r++)
    {
      printf ("%2u %-15s", r + 1, ft_intent_name (r));
      for (guint c = 0; c < FT_N_INTENTS; c++)
        printf (" %3u", conf[r][c]);
      printf ("\n");
    }
  if (acc < min_acc || macro < min_f1)
    {
      fprintf (stderr, "%s: accuracy %.3f / macro-F1 %.3f below the bound %.3f / %.3f\n", argv[0], acc, macro,
               min_acc, min_f1);
      return 1;
    }
  return 0;
}

/* The core of a store database, with geofences and pricing from GBFS files. */
static FtCore *
open_core (const char *prog, const char *db, const char *geofences, const char *pricing, GError **error)
{
  FtCoreConfig cfg;
  g_autoptr(FtGeofences) gf = NULL;
  g_autoptr(FtPricing) pr = NULL;
  g_autoptr(FtCore) core = NULL;

  if (!db)
    {
      g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_INVALID, "give --db FILE");
      return NULL;
    }
  if (!g_file_test (db, G_FILE_TEST_IS_REGULAR) || !ft_output_is_ft_sqlite (db))
    {
      g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_INVALID, "%s is not a Fleet Twin store", db);
      return NULL;
    }
  if (geofences && !(gf = ft_geofences_load_gbfs (geofences, error)))
    return NULL;
  if (pricing)
    {
      pr = ft_pricing_new ();
      if (!ft_pricing_load_gbfs (pr, pricing, error))
        return NULL;
    }
  ft_core_config_init (&cfg);
  core = ft_core_new (&cfg, g_steal_pointer (&gf), g_steal_pointer (&pr));
  if (!ft_core_attach_store (core, db, NULL, error))
    return NULL;
  return g_steal_pointer (&core);
}

/* The latest time the store's state mentions (the CLI has no clock of
 * the twin's): the last booking change or ledger transaction. */
static FtTime
state_now (FtCore *core)
{
  FtTime t = 0;
  for (guint i = 0; i < ft_booking_n (core->booking); i++)
    {
      const FtBookingRec *r = ft_booking_get (core->booking, i);
      if (r)
        t = MAX (t, MAX (r->reserved_at, MAX (r->unlocked_at, r->ended_at)));
    }
  for (guint i = 0; i < ft_ledger_n_tx (core->ledger); i++)
    {
      const FtLedgerTx *tx = ft_ledger_get_tx (core->ledger, i);   /* NULL: no journal */
      if (tx != NULL)
        t = MAX (t, tx->t);
    }
  return t;
}

static gboolean
parse_rider (FtCore *core, const char *s, guint *out, GError **error)
{
  char *end = NULL;
  guint64 v;
  if (s && ft_accounts_lookup_id (core->accounts, s, out))
    return TRUE;
  if (s && *s && (v = g_ascii_strtoull (s, &end, 10), *end == '\0') && v < ft_accounts_n (core->accounts))
    {
      *out = (guint) v;
      return TRUE;
    }
  g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_INVALID,
               "--rider %s: no such account (give an account index 0..%u or its id)", s ? s : "(none)",
               ft_accounts_n (core->accounts) - 1);
  return FALSE;
}

/* --photo with --reference: damage reports are checked by src/inspect
 * and queued for review there. */
typedef struct {
  FtCore     *core;
  const char *reference;
} PhotoCheck;

static gboolean
check_photo (guint vehicle, const char *photo_path, FtTime now, gint64 *review, const char **decision,
             gpointer user_data, GError **error)
{
  PhotoCheck *pc = user_data;
  return ft_inspect_queue_check_files (pc->core, vehicle, pc->reference, photo_path, now, review, decision,
                                       error);
}

static int
cmd_ask (int argc, char **argv)
{
  g_autofree char *db = NULL, *rider_s = NULL, *at_s = NULL, *gf = NULL, *pr = NULL, *url = NULL, *model = NULL;
  g_autofree char *photo = NULL, *reference = NULL;
  gint64 now = -1;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "Store database", "FILE" },
    { "rider", 0, 0, G_OPTION_ARG_STRING, &rider_s, "Rider: account index or id", "ID" },
    { "at", 0, 0, G_OPTION_ARG_STRING, &at_s, "The rider's position", "LAT,LON" },
    { "now", 0, 0, G_OPTION_ARG_INT64, &now, "Time of the question (ms; default: the store's latest)", "MS" },
    { "geofences", 0, 0, G_OPTION_ARG_FILENAME, &gf, "GBFS geofencing_zones.json of the city", "FILE" },
    { "pricing", 0, 0, G_OPTION_ARG_FILENAME, &pr, "GBFS system_pricing_plans.json of the city", "FILE" },
    { "llm-url", 0, 0, G_OPTION_ARG_STRING, &url, "OpenAI-compatible endpoint (off by default)", "URL" },
    { "llm-model", 0, 0, G_OPTION_ARG_STRING, &model, "Model name for --llm-url", "NAME" },
    { "photo", 0, 0, G_OPTION_ARG_FILENAME, &photo, "Photo the rider attaches to a damage report", "FILE" },
    { "reference", 0, 0, G_OPTION_ARG_FILENAME, &reference, "The vehicle's reference photo (checks --photo)", "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("TEXT - answer a rider's message");
  g_autoptr(GError) error = NULL;
  g_autoptr(FtCore) core = NULL;
  g_autoptr(FtAssist) a = NULL;
  g_autoptr(FtAssistReply) r = NULL;
  FtAssistConfig cfg;
  FtLatLon at, *where = NULL;
  guint rider;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (argc != 2)
    {
      fprintf (stderr, "%s: give the message as one argument\n", argv[0]);
      return 2;
    }
  if (at_s)
    {
      char *e1 = NULL, *e2 = NULL;
      at.lat = g_ascii_strtod (at_s, &e1);
      if (*e1 != ',' || (at.lon = g_ascii_strtod (e1 + 1, &e2), *e2 != '\0') || at.lat < -90 || at.lat > 90 ||
          at.lon < -180 || at.lon > 180)
        {
          fprintf (stderr, "%s: --at %s: expected LAT,LON in degrees\n", argv[0], at_s);
          return 2;
        }
      where = &at;
    }
  if (!(core = open_core (argv[0], db, gf, pr, &error)) || !parse_rider (core, rider_s, &rider, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  ft_assist_config_init (&cfg);
  cfg.llm_url = url;
  cfg.llm_model = model;
  if (!(a = ft_assist_new (core, &cfg, &error)))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  if (now < 0)
    now = state_now (core);
  PhotoCheck pc = { core, reference };
  if (photo)
    {
      if (!reference)
        {
          fprintf (stderr, "%s: --photo needs the vehicle's --reference photo to check it against\n", argv[0]);
          return 2;
        }
      ft_assist_attach_photo (a, rider, photo);
      ft_assist_set_photo_check (a, check_photo, &pc);
    }
  r = ft_assist_ask (a, rider, argv[1], -1, where, now, &error);
  if (!r)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  if (!ft_core_commit (core, &error))
    {
      fprintf (stderr, "%s: saving %s: %s\n", argv[0], db, error->message);
      return 1;
    }
  printf ("%s\n", r->text);
  fprintf (stderr, "intent %s (%.3f)%s%s%s\n", ft_intent_name (r->intent), r->confidence,
           r->pending ? ", waiting for confirmation" : "", r->handoff >= 0 ? ", handed off" : "",
           r->from_backend ? ", backend" : "");
  return 0;
}

static int
cmd_handoffs (int argc, char **argv)
{
  g_autofree char *db = NULL, *by_s = NULL;
  gboolean all = FALSE;
  gint64 close_id = -1, now = -1;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "Store database", "FILE" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "Closed ones too", NULL },
    { "close", 0, 0, G_OPTION_ARG_INT64, &close_id, "Close this hand-off", "ID" },
    { "by", 0, 0, G_OPTION_ARG_STRING, &by_s, "Dispatcher closing it (account index or id)", "ID" },
    { "now", 0, 0, G_OPTION_ARG_INT64, &now, "Time (ms; default: the store's latest)", "MS" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- the staff hand-off queue");
  g_autoptr(GError) error = NULL;
  g_autoptr(FtCore) core = NULL;
  g_autoptr(FtAssist) a = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (!(core = open_core (argv[0], db, NULL, NULL, &error)) || !(a = ft_assist_new (core, NULL, &error)))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  if (close_id >= 0)
    {
      guint by;
      if (!parse_rider (core, by_s, &by, &error) ||
          !ft_assist_close_handoff (a, close_id, by, now >= 0 ? now : state_now (core), &error))
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          return 1;
        }
      printf ("closed hand-off %" G_GINT64_FORMAT "\n", close_id);
      return 0;
    }
  g_autoptr(GPtrArray) list = ft_assist_list_handoffs (a, !all);
  printf ("id\ttime\trider\tintent\tvehicle\tbooking\tamount\tstatus\treason\tmessage\n");
  for (guint i = 0; i < list->len; i++)
    {
      const FtAssistHandoff *h = list->pdata[i];
      g_autofree char *t = ft_time_format (h->t);
      g_autofree char *amt = ft_money_format (h->amount_minor, core->config.currency);
      g_autofree char *msg = g_strdup (h->message);
      g_strdelimit (msg, "\t\r\n", ' ');
      printf ("%" G_GINT64_FORMAT "\t%s\t%u\t%s\t%s\t%" G_GINT64_FORMAT "\t%s\t%s\t%s\t%s\n", h->id, t, h->rider,
              ft_intent_name (h->intent),
              h->vehicle >= 0 && (guint) h->vehicle < ft_fleet_n_vehicles (core->fleet)
                ? ft_fleet_get_vehicle (core->fleet, (guint) h->vehicle)->name : "-",
              h->booking, amt, h->open ? "open" : "closed", h->reason, msg);
    }
  return 0;
}

int
ft_cli_assist (int argc, char **argv)
{
  if (argc < 2)
    return usage (argv[0]);
  g_autofree char *prog = g_strdup_printf ("%s %s", argv[0], argv[1]);
  argv[1] = prog;
  if (strcmp (argv[1] + strlen (argv[0]) + 1, "classify") == 0)
    return cmd_classify (argc - 1, argv + 1);
  if (strcmp (argv[1] + strlen (argv[0]) + 1, "eval") == 0)
    return cmd_eval (argc - 1, argv + 1);
  if (strcmp (argv[1] + strlen (argv[0]) + 1, "ask") == 0)
    return cmd_ask (argc - 1, argv + 1);
  if (strcmp (argv[1] + strlen (argv[0]) + 1, "handoffs") == 0)
    return cmd_handoffs (argc - 1, argv + 1);
  return usage (argv[0]);
}
