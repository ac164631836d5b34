/* ft-run.c — see ft-run.h. Plain records and arithmetic: the comparison's
 * rules (which runs are compared, what is better, what makes runs unlike)
 * live here so they can be tested without a display.
 */
#include "ft-run.h"

#include "ft-file.h"

#include <math.h>
#include <string.h>

#define NAME_MAX_CHARS 120
#define CSV_HEADER "run_id,run_name,scenario,city,seed,started,progress,mismatch,kpi,label,value,baseline," \
                   "difference,difference_pct,verdict\n"

G_DEFINE_QUARK (ft-run-error-quark, ft_run_error)

FtRun *
ft_run_copy (const FtRun *run)
{
  g_return_val_if_fail (run != NULL, NULL);
  FtRun *c = g_new (FtRun, 1);
  *c = *run;
  c->name = g_strdup (run->name);
  c->scenario = g_strdup (run->scenario);
  c->city = g_strdup (run->city);
  return c;
}

void
ft_run_free (FtRun *run)
{
  if (run == NULL)
    return;
  g_free (run->name);
  g_free (run->scenario);
  g_free (run->city);
  g_free (run);
}

char *
ft_run_default_name (const char *scenario, guint64 seed, gint64 started)
{
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_local (started);
  g_autofree char *hm = t ? g_date_time_format (t, "%H:%M") : g_strdup ("--:--");
  return g_strdup_printf ("%s · seed %" G_GUINT64_FORMAT " · %s", scenario && *scenario ? scenario : "Unnamed scenario",
                          seed, hm);
}

static gboolean
name_taken (GPtrArray *runs, const char *name)
{
  for (guint i = 0; runs && i < runs->len; i++)
    if (g_strcmp0 (((FtRun *) runs->pdata[i])->name, name) == 0)
      return TRUE;
  return FALSE;
}

char *
ft_run_unique_name (GPtrArray *runs, const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);
  char *n = g_strdup (name);
  for (guint k = 2; name_taken (runs, n); k++)
    {
      g_free (n);
      n = g_strdup_printf ("%s (%u)", name, k);
    }
  return n;
}

char *
ft_run_check_name (const char *name, GError **error)
{
  if (name == NULL || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, FT_RUN_ERROR, FT_RUN_ERROR_NAME, "a run's name must be text (UTF-8)");
      return NULL;
    }
  g_autofree char *s = g_strstrip (g_strdup (name));
  if (*s == '\0')
    {
      g_set_error (error, FT_RUN_ERROR, FT_RUN_ERROR_NAME, "a run's name cannot be empty");
      return NULL;
    }
  glong n = g_utf8_strlen (s, -1);
  if (n > NAME_MAX_CHARS)
    {
      g_set_error (error, FT_RUN_ERROR, FT_RUN_ERROR_NAME,
                   "a run's name has at most %d characters (this one has %ld)", NAME_MAX_CHARS, n);
      return NULL;
    }
  for (const char *p = s; *p; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      {
        g_set_error (error, FT_RUN_ERROR, FT_RUN_ERROR_NAME,
                     "a run's name is one line without control characters");
        return NULL;
      }
  return g_steal_pointer (&s);
}

/* "09:40" for a time of day, the end of a day as "24:00" */
static char *
clock_text (FtTime t, gboolean end)
{
  gint64 min = t / FT_MINUTE;
  gint64 day_min = min % (24 * 60);
  if (end && day_min == 0 && min > 0)
    day_min = 24 * 60;
  return g_strdup_printf ("%02d:%02d", (int) (day_min / 60), (int) (day_min % 60));
}

char *
ft_run_dup_progress (const FtRun *run)
{
  g_return_val_if_fail (run != NULL, NULL);
  if (run->finished)
    return g_strdup ("finished");
  const char *verb = run->current ? "running:" : "stopped at";
  FtTime at = run->kpis.sim_time;
  g_autofree char *now = clock_text (at, FALSE);
  if (run->end_time <= 24 * FT_HOUR)
    {
      g_autofree char *end = clock_text (run->end_time, TRUE);
      return g_strdup_printf ("%s %s of %s", verb, now, end);
    }
  return g_strdup_printf ("%s day %d %s of %g days", verb, (int) (at / (24 * FT_HOUR)) + 1, now, run->days_planned);
}

GPtrArray *
ft_run_select (GPtrArray *runs, gboolean include_partial, GPtrArray **left_out)
{
  g_return_val_if_fail (runs != NULL, NULL);
  GPtrArray *shown = g_ptr_array_new ();
  if (left_out)
    *left_out = g_ptr_array_new ();
  for (guint i = 0; i < runs->len; i++)
    {
      FtRun *r = runs->pdata[i];
      if (r->finished || include_partial)
        g_ptr_array_add (shown, r);
      else if (left_out)
        g_ptr_array_add (*left_out, r);
    }
  return shown;
}

const FtRun *
ft_run_find (GPtrArray *runs, guint id)
{
  for (guint i = 0; runs && i < runs->len; i++)
    if (((FtRun *) runs->pdata[i])->id == id)
      return runs->pdata[i];
  return NULL;
}

guint
ft_run_mismatch (const FtRun *base, const FtRun *run)
{
  g_return_val_if_fail (base != NULL && run != NULL, 0);
  guint m = 0;
  if (g_strcmp0 (base->scenario, run->scenario) != 0)
    m |= FT_RUN_OTHER_SCENARIO;
  if (g_strcmp0 (base->city, run->city) != 0)
    m |= FT_RUN_OTHER_CITY;
  if (base->kpis.sim_time != run->kpis.sim_time)
    m |= FT_RUN_OTHER_LENGTH;
  if (strcmp (base->kpis.currency, run->kpis.currency) != 0)
    m |= FT_RUN_OTHER_CURRENCY;
  return m;
}

char *
ft_run_mismatch_text (const FtRun *base, const FtRun *run)
{
  guint m = ft_run_mismatch (base, run);
  if (m == 0)
    return NULL;
  GString *s = g_string_new (NULL);
  if (m & FT_RUN_OTHER_SCENARIO)
    g_string_append_printf (s, "other scenario (%s)", run->scenario ? run->scenario : "unnamed");
  if (m & FT_RUN_OTHER_CITY)
    g_string_append_printf (s, "%sother city (%s)", s->len ? " · " : "", run->city ? run->city : "unnamed");
  if (m & FT_RUN_OTHER_LENGTH)
    g_string_append_printf (s, "%s%.2f days against %.2f", s->len ? " · " : "", run->kpis.days, base->kpis.days);
  if (m & FT_RUN_OTHER_CURRENCY)
    g_string_append_printf (s, "%s%s, baseline in %s", s->len ? " · " : "", run->kpis.currency, base->kpis.currency);
  return g_string_free (s, FALSE);
}

/* ---- the KPIs ---- */

static const FtRunRow rows[] = {
  { "days", "Simulated days", 1, "%.2f", FALSE, FT_RUN_NEUTRAL },
  { "vehicles", "Vehicles", 1, "%.0f", FALSE, FT_RUN_NEUTRAL },
  { "trips_requested", "Trips requested", 1, "%.0f", FALSE, FT_RUN_NEUTRAL },
  { "trips_served", "Trips served", 1, "%.0f", FALSE, FT_RUN_HIGHER_BETTER },
  { "trips_lost", "Trips lost", 1, "%.0f", FALSE, FT_RUN_LOWER_BETTER },
  { "service_level", "Service level %", 100, "%.1f", FALSE, FT_RUN_HIGHER_BETTER },
  { "utilisation", "Utilisation %", 100, "%.1f", FALSE, FT_RUN_HIGHER_BETTER },
  { "trips_per_vehicle_day", "Trips / vehicle / day", 1, "%.2f", FALSE, FT_RUN_HIGHER_BETTER },
  { "revenue_minor", "Revenue", 0.01, "%.2f", TRUE, FT_RUN_HIGHER_BETTER },
  { "revenue_per_vehicle_day_minor", "Revenue / vehicle / day", 0.01, "%.2f", TRUE, FT_RUN_HIGHER_BETTER },
  { "cost_total_minor", "All costs", 0.01, "%.2f", TRUE, FT_RUN_LOWER_BETTER },
  { "contribution_margin_per_vehicle_day_minor", "Margin / vehicle / day", 0.01, "%.2f", TRUE,
    FT_RUN_HIGHER_BETTER },
  { "mean_walk_m", "Mean walk to vehicle (m)", 1, "%.0f", FALSE, FT_RUN_LOWER_BETTER },
  { "battery_unavailable_share", "Battery-unavailable %", 100, "%.1f", FALSE, FT_RUN_LOWER_BETTER },
  { "battery_swaps", "Battery swaps", 1, "%.0f", FALSE, FT_RUN_LOWER_BETTER },
  { "rebalances", "Rebalances", 1, "%.0f", FALSE, FT_RUN_LOWER_BETTER },
  { "staff_km", "Staff km", 1, "%.1f", FALSE, FT_RUN_LOWER_BETTER },
};

const FtRunRow *
ft_run_rows (guint *n)
{
  if (n)
    *n = G_N_ELEMENTS (rows);
  return rows;
}

double
ft_run_value (const FtRunRow *row, const FtRun *run)
{
  g_return_val_if_fail (row != NULL && run != NULL, NAN);
  double v = NAN;
  if (strcmp (row->kpi, "days") == 0)
    v = run->kpis.days;
  else if (strcmp (row->kpi, "vehicles") == 0)
    v = run->kpis.n_vehicles;
  else if (!ft_sim_kpi_value (&run->kpis, row->kpi, &v))
    g_return_val_if_reached (NAN);
  return v * row->scale;
}

void
ft_run_diff (const FtRunRow *row, const FtRun *base, const FtRun *run, FtRunDiff *out)
{
  g_return_if_fail (row != NULL && base != NULL && run != NULL && out != NULL);
  out->base = ft_run_value (row, base);
  out->value = ft_run_value (row, run);
  out->abs = out->value - out->base;
  out->pct = out->base != 0 ? out->abs / fabs (out->base) * 100 : NAN;
  if (row->money && strcmp (base->kpis.currency, run->kpis.currency) != 0)
    {
      out->abs = out->pct = NAN;
      out->verdict = FT_RUN_NOT_COMPARED;
      return;
    }
  double tol = fabs (out->base) * 5e-4;   /* 0.05 % */
  if (fabs (out->abs) <= tol || out->abs == 0)
    out->verdict = FT_RUN_SAME;
  else if (row->direction == FT_RUN_NEUTRAL)
    out->verdict = FT_RUN_CHANGED;
  else
    out->verdict = (out->abs > 0) == (row->direction == FT_RUN_HIGHER_BETTER) ? FT_RUN_BETTER : FT_RUN_WORSE;
}

const char *
ft_run_verdict_name (FtRunVerdict v)
{
  switch (v)
    {
    case FT_RUN_SAME: return "same";
    case FT_RUN_BETTER: return "better";
    case FT_RUN_WORSE: return "worse";
    case FT_RUN_CHANGED: return "changed";
    case FT_RUN_NOT_COMPARED: return "not compared";
    default: return "?";
    }
}

/* ---- CSV ---- */

/* A text field, quoted; a leading = + - @ is escaped with an apostrophe so
 * a spreadsheet does not take a run's name for a formula. */
static void
csv_text (GString *s, const char *text)
{
  g_string_append_c (s, '"');
  if (text && strchr ("=+-@", text[0]) && text[0])
    g_string_append_c (s, '\'');
  for (const char *p = text ? text : ""; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (s, '"');
      g_string_append_c (s, *p);
    }
  g_string_append_c (s, '"');
}

static void
csv_num (GString *s, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (isfinite (v))
    g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.6g", v));
}

char *
ft_run_comparison_csv (GPtrArray *runs, const FtRun *baseline)
{
  g_return_val_if_fail (runs != NULL, NULL);
  GString *s = g_string_new (CSV_HEADER);
  guint n_rows;
  const FtRunRow *rs = ft_run_rows (&n_rows);
  for (guint i = 0; i < runs->len; i++)
    {
      const FtRun *run = runs->pdata[i];
      g_autofree char *progress = ft_run_dup_progress (run);
      g_autofree char *mismatch = baseline ? ft_run_mismatch_text (baseline, run) : NULL;
      g_autoptr(GDateTime) t = g_date_time_new_from_unix_local (run->started);
      g_autofree char *started = t ? g_date_time_format_iso8601 (t) : g_strdup ("");
      for (guint r = 0; r < n_rows; r++)
        {
          g_string_append_printf (s, "%u,", run->id);
          csv_text (s, run->name);
          g_string_append_c (s, ',');
          csv_text (s, run->scenario);
          g_string_append_c (s, ',');
          csv_text (s, run->city);
          g_string_append_printf (s, ",%" G_GUINT64_FORMAT ",%s,", run->seed, started);
          csv_text (s, progress);
          g_string_append_c (s, ',');
          csv_text (s, mismatch ? mismatch : "");
          g_string_append_printf (s, ",%s,", rs[r].kpi);
          g_autofree char *label = rs[r].money ? g_strdup_printf ("%s (%s)", rs[r].label, run->kpis.currency)
                                               : g_strdup (rs[r].label);
          csv_text (s, label);
          g_string_append_c (s, ',');
          csv_num (s, ft_run_value (&rs[r], run));
          g_string_append_c (s, ',');
          if (baseline)
            {
              FtRunDiff d;
              ft_run_diff (&rs[r], baseline, run, &d);
              csv_num (s, d.base);
              g_string_append_c (s, ',');
              csv_num (s, d.abs);
              g_string_append_c (s, ',');
              csv_num (s, d.pct);
              g_string_append_printf (s, ",%s", run == baseline ? "baseline" : ft_run_verdict_name (d.verdict));
            }
          else
            g_string_append (s, ",,,");
          g_string_append_c (s, '\n');
        }
    }
  return g_string_free (s, FALSE);
}

static gboolean
csv_is_own (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!ft_file_read (path, 64 * 1024 * 1024, &data, &len, NULL))
    return FALSE;
  return len >= strlen (CSV_HEADER) && memcmp (data, CSV_HEADER, strlen (CSV_HEADER)) == 0;
}

gboolean
ft_run_write_csv (const char *path, GPtrArray *runs, const FtRun *baseline, gboolean force, GError **error)
{
  g_return_val_if_fail (path != NULL && runs != NULL, FALSE);
  g_autoptr(GError) local = NULL;
  g_autoptr(FtOutput) out = ft_output_begin (path, FT_OUTPUT_FILE, csv_is_own, force, &local);
  if (out == NULL)
    {
      if (g_error_matches (local, FT_FILE_ERROR, FT_FILE_ERROR_NOT_OURS))
        g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_NOT_OURS,
                     "%s exists and is not a run comparison: it was left as it was; choose another name", path);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_autofree char *csv = ft_run_comparison_csv (runs, baseline);
  if (!g_file_set_contents (ft_output_get_path (out), csv, -1, error))
    return FALSE;
  return ft_output_commit (g_steal_pointer (&out), error);
}
