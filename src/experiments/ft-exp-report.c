/* ft-exp-report.c — the comparisons of an experiment (every treatment
 * against the control, metric by metric), printed as a table and drawn as
 * interval charts of the relative change on PDF pages.
 */
#include "ft-exp-report.h"
#include "ft-chart.h"

#include <cairo-pdf.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void
ft_exp_comparison_free (FtExpComparison *c)
{
  if (c == NULL)
    return;
  g_free (c->variant);
  g_free (c->metric);
  g_free (c);
}

static FtExpComparison *
compare_one (const char *variant, const char *metric, const double *t, const double *c,
             const double *pre, guint n, const FtExpReportOptions *o, GError **error)
{
  g_autofree double *tv = g_new (double, MAX (n, 1)), *cv = g_new (double, MAX (n, 1)),
                    *xv = g_new (double, MAX (n, 1));
  guint m = 0;
  gboolean all_pre = TRUE;
  for (guint i = 0; i < n; i++)
    if (isfinite (t[i]) && isfinite (c[i]))
      {
        tv[m] = t[i];
        cv[m] = c[i];
        xv[m] = pre ? pre[i] : NAN;
        all_pre &= isfinite (xv[m]);
        m++;
      }
  FtExpComparison *k = g_new0 (FtExpComparison, 1);
  k->variant = g_strdup (variant);
  k->metric = g_strdup (metric);
  if (!ft_stats_paired (tv, cv, m, o->alpha, o->bootstrap, o->seed, &k->st, error))
    {
      g_prefix_error (error, "%s, %s: ", variant, metric);
      ft_exp_comparison_free (k);
      return NULL;
    }
  double mde = fabs (o->mde * k->st.control_mean);
  k->n_power = mde > 0 ? ft_stats_n_for_power (k->st.sd, mde, o->alpha, o->power) : 0;
  k->has_cuped = pre != NULL && all_pre && m >= 3;
  if (k->has_cuped)
    {
      g_autofree double *d = g_new (double, m), *adj = g_new (double, m);
      for (guint i = 0; i < m; i++)
        d[i] = tv[i] - cv[i];
      k->theta = ft_stats_cuped (d, xv, m, adj);
      double mean;
      ft_stats_mean_sd (adj, m, &mean, &k->cuped_sd);
      /* theta is estimated: one more degree of freedom spent */
      double q = gsl_cdf_tdist_Pinv (1 - o->alpha / 2, m - 2);
      k->cuped_mean = mean;
      k->cuped_lo = mean - q * k->cuped_sd / sqrt (m);
      k->cuped_hi = mean + q * k->cuped_sd / sqrt (m);
      k->var_reduction = k->st.sd > 0 ? 1 - (k->cuped_sd * k->cuped_sd) / (k->st.sd * k->st.sd) : 0;
      k->n_power_cuped = mde > 0 ? ft_stats_n_for_power (k->cuped_sd, mde, o->alpha, o->power) : 0;
    }
  return k;
}

GPtrArray *
ft_exp_report_compare (FtExpResults *r, const FtExpReportOptions *o, GError **error)
{
  g_return_val_if_fail (r != NULL && o != NULL, NULL);
  g_auto (GStrv) variants = ft_exp_results_variants (r);
  g_auto (GStrv) metrics = ft_exp_results_metrics (r);
  const char *control = ft_exp_results_get (r, "control");
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_exp_comparison_free);
  guint nm = g_strv_length (metrics);
  for (guint v = 0; variants[v]; v++)
    {
      if (g_strcmp0 (variants[v], control) == 0)
        continue;
      g_autofree double *praw = g_new (double, MAX (nm, 1));
      guint first = out->len;
      for (guint m = 0; metrics[m]; m++)
        {
          g_autofree double *t = NULL, *c = NULL, *pre = NULL, *tpre = NULL;
          guint n = 0, n2 = 0;
          if (!ft_exp_results_values (r, variants[v], metrics[m], &t, &tpre, &n, error)
              || !ft_exp_results_values (r, control, metrics[m], &c, &pre, &n2, error))
            return NULL;
          FtExpComparison *k = compare_one (variants[v], metrics[m], t, c, pre, n, o, error);
          if (k == NULL)
            return NULL;
          praw[m] = k->st.p;
          g_ptr_array_add (out, k);
        }
      g_autofree double *adj = g_new (double, MAX (nm, 1));
      ft_stats_holm (praw, nm, adj);
      for (guint m = 0; m < nm; m++)
        ((FtExpComparison *) out->pdata[first + m])->p_holm = adj[m];
    }
  return g_steal_pointer (&out);
}

static void
fmt_p (char *buf, gsize n, double p)
{
  if (p < 1e-4)
    g_snprintf (buf, n, "<1e-4");
  else
    g_snprintf (buf, n, "%.4f", p);
}

static void
fmt_n (char *buf, gsize n, guint v)
{
  if (v == 0)
    g_snprintf (buf, n, "-");
  else if (v == G_MAXUINT)
    g_snprintf (buf, n, ">1e7");
  else
    g_snprintf (buf, n, "%u", v);
}

void
ft_exp_field_bias_free (FtExpFieldBias *b)
{
  if (b == NULL)
    return;
  g_free (b->design);
  g_free (b->variant);
  g_free (b->metric);
  g_free (b);
}

GPtrArray *
ft_exp_report_field (FtExpResults *r, GError **error)
{
  g_return_val_if_fail (r != NULL, NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_exp_field_bias_free);
  g_auto (GStrv) designs = ft_exp_results_field_designs (r);
  g_auto (GStrv) variants = ft_exp_results_variants (r);
  g_auto (GStrv) metrics = ft_exp_results_metrics (r);
  const char *control = ft_exp_results_get (r, "control");
  for (guint d = 0; designs[d]; d++)
    for (guint v = 0; variants[v]; v++)
      {
        if (g_strcmp0 (variants[v], control) == 0)
          continue;
        for (guint m = 0; metrics[m]; m++)
          {
            g_autofree double *est = NULL, *tv = NULL, *cv = NULL;
            guint n = 0, nt = 0, nc = 0;
            if (!ft_exp_results_field_values (r, designs[d], variants[v], metrics[m], &est, &n))
              continue;
            if (!ft_exp_results_values (r, variants[v], metrics[m], &tv, NULL, &nt, error)
                || !ft_exp_results_values (r, control, metrics[m], &cv, NULL, &nc, error))
              {
                g_ptr_array_unref (out);
                return NULL;
              }
            g_autofree double *e = g_new (double, MAX (n, 1u)), *t = g_new (double, MAX (n, 1u)),
                              *err = g_new (double, MAX (n, 1u));
            guint k = 0;
            for (guint i = 0; i < n && i < nt && i < nc; i++)
              if (isfinite (est[i]) && isfinite (tv[i]) && isfinite (cv[i]))
                {
                  e[k] = est[i];
                  t[k] = tv[i] - cv[i];
                  err[k] = e[k] - t[k];
                  k++;
                }
            FtExpFieldBias *b = g_new0 (FtExpFieldBias, 1);
            b->design = g_strdup (designs[d]);
            b->variant = g_strdup (variants[v]);
            b->metric = g_strdup (metrics[m]);
            b->n = k;
            b->truth_mean = b->truth_sd = b->est_mean = b->est_sd = b->bias = b->bias_se = b->rmse = NAN;
            if (k > 0)
              {
                double esd;
                ft_stats_mean_sd (t, k, &b->truth_mean, &b->truth_sd);
                ft_stats_mean_sd (e, k, &b->est_mean, &b->est_sd);
                ft_stats_mean_sd (err, k, &b->bias, &esd);
                b->bias_se = k > 1 ? esd / sqrt (k) : NAN;
                double ss = 0;
                for (guint i = 0; i < k; i++)
                  ss += err[i] * err[i];
                b->rmse = sqrt (ss / k);
              }
            b->truth_lo = b->truth_hi = b->est_lo = b->est_hi = NAN;
            b->verdict = FT_EXP_FIELD_TOO_FEW;
            if (k > 1)
              {
                double q = ft_stats_t_quantile (0.975, k - 1);
                b->truth_lo = b->truth_mean - q * b->truth_sd / sqrt (k);
                b->truth_hi = b->truth_mean + q * b->truth_sd / sqrt (k);
                b->est_lo = b->est_mean - q * b->est_sd / sqrt (k);
                b->est_hi = b->est_mean + q * b->est_sd / sqrt (k);
                /* a paired t test at 5 %: with few replications two standard
                   errors would call chance a bias */
                b->verdict = fabs (b->bias) > q * b->bias_se ? FT_EXP_FIELD_BIASED : FT_EXP_FIELD_NO_BIAS;
              }
            g_ptr_array_add (out, b);
          }
      }
  return out;
}

char *
ft_exp_field_bias_describe (const FtExpFieldBias *b)
{
  g_return_val_if_fail (b != NULL, NULL);
  if (b->n == 0)
    return g_strdup_printf ("%s design (%s, %s): no replication has both the design's estimate and the "
                            "whole-fleet truth.", b->design, b->variant, b->metric);
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "%s design (%s, %s): it estimates the effect at %+.4g on average (sd %.4g over %u "
                          "replication%s) where the whole-fleet truth is %+.4g; bias %+.4g",
                          b->design, b->variant, b->metric, b->est_mean, b->est_sd, b->n, b->n == 1 ? "" : "s",
                          b->truth_mean, b->bias);
  if (b->truth_mean != 0 && isfinite (b->truth_mean))
    g_string_append_printf (s, " (%+.0f %% of the truth)", 100 * b->bias / fabs (b->truth_mean));
  switch (b->verdict)
    {
    case FT_EXP_FIELD_BIASED:
      g_string_append_printf (s, ", standard error %.4g: its 95 %% interval excludes zero (t test, %u replications), so "
                              "this design is biased here (it reads %s than the truth).",
                              b->bias_se, b->n, b->bias > 0 ? "higher" : "lower");
      break;
    case FT_EXP_FIELD_NO_BIAS:
      g_string_append_printf (s, ", standard error %.4g: its 95 %% interval covers zero (t test), so no bias is "
                              "shown at %u replications.", b->bias_se, b->n);
      break;
    case FT_EXP_FIELD_TOO_FEW:
    default:
      g_string_append (s, ": one replication cannot tell a bias from chance.");
      break;
    }
  g_string_append_printf (s, " rmse %.4g: one run of this design misses the truth by about that much.", b->rmse);
  return g_string_free (s, FALSE);
}

void
ft_exp_field_chart_draw (cairo_t *cr, double width, double height, GPtrArray *field, const char *metric,
                         const char *empty_title)
{
  g_return_if_fail (cr != NULL);
  g_autoptr (GPtrArray) rows = g_ptr_array_new ();
  gboolean by_variant = FALSE;
  for (guint i = 0; field && i < field->len; i++)
    {
      const FtExpFieldBias *b = field->pdata[i];
      if (metric && g_str_equal (b->metric, metric))
        g_ptr_array_add (rows, field->pdata[i]);
      if (i > 0 && !g_str_equal (b->variant, ((FtExpFieldBias *) field->pdata[0])->variant))
        by_variant = TRUE;
    }
  guint n = rows->len;
  g_autofree double *v = g_new (double, 6 * MAX (n, 1u));
  g_autoptr (GPtrArray) cats = g_ptr_array_new_with_free_func (g_free);
  guint reps = 0;
  for (guint i = 0; i < n; i++)
    {
      const FtExpFieldBias *b = rows->pdata[i];
      g_ptr_array_add (cats, by_variant ? g_strdup_printf ("%s · %s", b->design, b->variant) : g_strdup (b->design));
      v[0 * n + i] = b->truth_mean;
      v[1 * n + i] = b->truth_lo;
      v[2 * n + i] = b->truth_hi;
      v[3 * n + i] = b->est_mean;
      v[4 * n + i] = b->est_lo;
      v[5 * n + i] = b->est_hi;
      reps = MAX (reps, b->n);
    }
  FtChartSeries series[6] = {
    { "whole-fleet truth (crn)", v, { 0.35, 0.35, 0.35 } }, { NULL, v + n, { 0.35, 0.35, 0.35 } },
    { NULL, v + 2 * n, { 0.35, 0.35, 0.35 } },
    { "the design's estimate", v + 3 * n, { 0 } }, { NULL, v + 4 * n, { 0 } }, { NULL, v + 5 * n, { 0 } },
  };
  ft_chart_palette (1, series[3].rgb);
  ft_chart_palette (1, series[4].rgb);
  ft_chart_palette (1, series[5].rgb);
  g_autofree char *title = n ? g_strdup_printf ("%s: each design's estimate against the whole-fleet truth "
                                                "(mean, 95 %% t interval)", metric)
                             : g_strdup (empty_title ? empty_title : "No field design results");
  g_autofree char *y_label = n ? g_strdup_printf ("effect on %s (variant - control)", metric) : NULL;
  g_autofree char *note = n ? g_strdup_printf ("Over %u replication%s. An estimate whose interval misses the truth's "
                                               "is off beyond chance; the bias table gives the t test.", reps,
                                               reps == 1 ? " (no interval from one)" : "s")
                            : NULL;
  FtChart chart = {
    .title = title,
    .x_label = "field design",
    .y_label = y_label,
    .categories = n ? (const char *const *) cats->pdata : NULL,
    .n = n,
    .series = series,
    .n_series = n ? 6 : 0,
    .style = FT_CHART_INTERVALS,
    .y_percent = n && g_str_equal (metric, "service_level"),
    .note = note,
  };
  ft_chart_draw (cr, width, height, &chart);
}

static void
field_text (GString *s, FtExpResults *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) fb = ft_exp_report_field (r, &error);
  if (fb == NULL)
    {
      g_string_append_printf (s, "\nField designs: %s\n", error->message);
      return;
    }
  if (fb->len == 0)
    return;
  g_string_append_printf (s, "\nField designs against the whole-fleet truth (crn: variant world - control world), "
                          "over replications:\nbias = mean (estimate - truth) with its standard error; sd of the "
                          "estimate; rmse = sqrt (mean (estimate - truth)^2)\n");
  g_string_append_printf (s, "  %-11s %-16s %-18s %4s %12s %12s %12s %12s %12s %12s %8s\n", "design", "variant",
                          "metric", "n", "truth", "truth sd", "estimate", "estimate sd", "bias", "bias se", "rmse");
  for (guint i = 0; i < fb->len; i++)
    {
      FtExpFieldBias *b = fb->pdata[i];
      g_string_append_printf (s, "  %-11s %-16s %-18s %4u %12.4g %12.4g %12.4g %12.4g %12.4g %12.4g %8.4g%s\n",
                              b->design, b->variant, b->metric, b->n, b->truth_mean, b->truth_sd, b->est_mean,
                              b->est_sd, b->bias, b->bias_se, b->rmse,
                              b->verdict == FT_EXP_FIELD_BIASED ? "  biased" : "");
    }
  g_string_append (s, "biased: the bias's 95 % t interval excludes zero\nIn words:\n");
  for (guint i = 0; i < fb->len; i++)
    {
      g_autofree char *words = ft_exp_field_bias_describe (fb->pdata[i]);
      g_string_append_printf (s, "  · %s\n", words);
    }
}

char *
ft_exp_report_text (FtExpResults *r, GPtrArray *cmp, const FtExpReportOptions *o)
{
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "Experiment: %s (design %s, %u replications, control %s, hash %.12s)\n",
                          ft_exp_results_get (r, "name"), ft_exp_results_get (r, "design"),
                          ft_exp_results_replications (r), ft_exp_results_get (r, "control"),
                          ft_exp_results_get (r, "hash"));
  g_string_append_printf (s, "Paired differences (variant - control), %.0f %% intervals: t and percentile bootstrap "
                          "(%u resamples, seed %" G_GUINT64_FORMAT "); p two-sided, Holm across the metrics of a variant;\n"
                          "d_z = mean / sd of the differences; CUPED on the control's first %.3g day(s); "
                          "n = replications for %.0f %% power at an effect of %.3g %% of the control mean.\n",
                          100 * (1 - o->alpha), o->bootstrap, o->seed, ft_exp_results_pre_days (r),
                          100 * o->power, 100 * o->mde);
  const char *last = NULL;
  for (guint i = 0; i < cmp->len; i++)
    {
      FtExpComparison *k = cmp->pdata[i];
      if (g_strcmp0 (last, k->variant) != 0)
        {
          g_autofree char *ov = ft_exp_results_overrides (r, k->variant);
          g_strdelimit (ov, "\n", ';');
          g_string_append_printf (s, "\n%s vs %s  (%s)\n", k->variant, ft_exp_results_get (r, "control"),
                                  ov && *ov ? ov : "no overrides");
          g_string_append_printf (s, "  %-42s %12s %12s %8s %23s %23s %8s %8s %7s %23s %6s %6s %6s\n",
                                  "metric", "control", "difference", "rel.", "t interval", "bootstrap interval",
                                  "p", "p Holm", "d_z", "CUPED interval", "var-", "n", "n CUPED");
          last = k->variant;
        }
      const FtStatsPaired *p = &k->st;
      char pb[16], ph[16], nb[16], nc[16], cu[48] = "-", vr[16] = "-";
      fmt_p (pb, sizeof pb, p->p);
      fmt_p (ph, sizeof ph, k->p_holm);
      fmt_n (nb, sizeof nb, k->n_power);
      fmt_n (nc, sizeof nc, k->has_cuped ? k->n_power_cuped : 0);
      if (k->has_cuped)
        {
          g_snprintf (cu, sizeof cu, "[%.4g, %.4g]", k->cuped_lo, k->cuped_hi);
          g_snprintf (vr, sizeof vr, "%.0f%%", 100 * k->var_reduction);
        }
      g_autofree char *ti = g_strdup_printf ("[%.4g, %.4g]", p->t_lo, p->t_hi);
      g_autofree char *bi = g_strdup_printf ("[%.4g, %.4g]", p->boot_lo, p->boot_hi);
      char rel[24] = "-";
      if (p->control_mean != 0)
        g_snprintf (rel, sizeof rel, "%.2f%%", 100 * p->mean / fabs (p->control_mean));
      g_string_append_printf (s, "  %-42s %12.4g %12.4g %8s %23s %23s %8s %8s %7.2f %23s %6s %6s %6s%s\n",
                              k->metric, p->control_mean, p->mean, rel, ti, bi, pb, ph, p->cohen_dz, cu, vr, nb, nc,
                              k->p_holm < o->alpha ? "  *" : "");
    }
  g_string_append_printf (s, "\n* Holm-adjusted p below %.2g\n", o->alpha);
  field_text (s, r);
  for (guint i = 0; i < cmp->len; i++)
    {
      FtExpComparison *k = cmp->pdata[i];
      if (k->st.n < ft_exp_results_replications (r))
        g_string_append_printf (s, "note: %s, %s: %u of %u replications have both runs (the results are incomplete)\n",
                                k->variant, k->metric, k->st.n, ft_exp_results_replications (r));
    }
  return g_string_free (s, FALSE);
}

gboolean
ft_exp_report_pdf (FtExpResults *r, GPtrArray *cmp, const FtExpReportOptions *o, const char *path,
                   GError **error)
{
  const double W = 842, H = 595;   /* A4 landscape, points */
  cairo_surface_t *surf = cairo_pdf_surface_create (path, W, H);
  if (cairo_surface_status (surf) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_FILE, "%s: cannot write the PDF (%s)", path,
                   cairo_status_to_string (cairo_surface_status (surf)));
      cairo_surface_destroy (surf);
      return FALSE;
    }
  cairo_pdf_surface_set_metadata (surf, CAIRO_PDF_METADATA_CREATOR, "Fleet Twin experiment report");
  cairo_pdf_surface_set_metadata (surf, CAIRO_PDF_METADATA_TITLE, ft_exp_results_get (r, "name"));
  cairo_t *cr = cairo_create (surf);
  guint i = 0;
  while (i < cmp->len)
    {
      FtExpComparison *k0 = cmp->pdata[i];
      guint j = i;
      while (j < cmp->len && g_strcmp0 (((FtExpComparison *) cmp->pdata[j])->variant, k0->variant) == 0)
        j++;
      guint n = j - i;
      g_autofree double *est = g_new (double, n), *lo = g_new (double, n), *hi = g_new (double, n),
                        *cest = g_new (double, n), *clo = g_new (double, n), *chi = g_new (double, n);
      g_autofree const char **cats = g_new0 (const char *, n);
      for (guint m = 0; m < n; m++)
        {
          FtExpComparison *k = cmp->pdata[i + m];
          double base = fabs (k->st.control_mean) > 0 ? fabs (k->st.control_mean) : NAN;
          cats[m] = k->metric;
          est[m] = k->st.mean / base;
          lo[m] = k->st.t_lo / base;
          hi[m] = k->st.t_hi / base;
          cest[m] = k->has_cuped ? k->cuped_mean / base : NAN;
          clo[m] = k->has_cuped ? k->cuped_lo / base : NAN;
          chi[m] = k->has_cuped ? k->cuped_hi / base : NAN;
        }
      FtChartSeries series[6] = {
        { "difference (t interval)", est, { 0 } }, { NULL, lo, { 0 } }, { NULL, hi, { 0 } },
        { "CUPED", cest, { 0 } }, { NULL, clo, { 0 } }, { NULL, chi, { 0 } },
      };
      g_autofree char *title = g_strdup_printf ("%s vs %s: change relative to the control mean, %.0f %% intervals",
                                                k0->variant, ft_exp_results_get (r, "control"), 100 * (1 - o->alpha));
      g_autofree char *note = g_strdup_printf ("%s, %u replications, design %s; paired differences over replications",
                                               ft_exp_results_get (r, "name"), ft_exp_results_replications (r),
                                               ft_exp_results_get (r, "design"));
      FtChart chart = {
        .title = title, .x_label = "metric", .y_label = "change (% of control)",
        .categories = cats, .n = n, .series = series, .n_series = 6,
        .style = FT_CHART_INTERVALS, .y_percent = TRUE, .note = note,
      };
      ft_chart_draw (cr, W, H, &chart);
      cairo_show_page (cr);
      i = j;
    }
  if (cmp->len == 0)
    {
      FtChart chart = { .title = "no comparisons (one variant only)", .style = FT_CHART_INTERVALS };
      ft_chart_draw (cr, W, H, &chart);
      cairo_show_page (cr);
    }
  /* the field designs against the whole-fleet truth: a page per metric */
  g_autoptr (GError) ferr = NULL;
  g_autoptr (GPtrArray) field = ft_exp_report_field (r, &ferr);
  g_auto (GStrv) metrics = ft_exp_results_metrics (r);
  for (guint m = 0; field && metrics[m]; m++)
    {
      gboolean any = FALSE;
      for (guint f = 0; f < field->len && !any; f++)
        any = g_str_equal (((FtExpFieldBias *) field->pdata[f])->metric, metrics[m]);
      if (!any)
        continue;
      ft_exp_field_chart_draw (cr, W, H, field, metrics[m], NULL);
      cairo_show_page (cr);
    }
  cairo_destroy (cr);
  cairo_surface_finish (surf);
  cairo_status_t st = cairo_surface_status (surf);
  cairo_surface_destroy (surf);
  if (st != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_FILE, "%s: %s", path, cairo_status_to_string (st));
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  const char *name;
  double      x, y, y_lo, y_hi;
} ParetoPoint;

static int
cmp_point_x (const void *a, const void *b)
{
  const ParetoPoint *p = a, *q = b;
  return (p->x > q->x) - (p->x < q->x);
}

char *
ft_exp_report_pareto (FtExpResults *r, const char *xm, gboolean x_higher, const char *ym, gboolean y_higher,
                      double alpha, const char *pdf, GError **error)
{
  g_auto (GStrv) variants = ft_exp_results_variants (r);
  guint nv = g_strv_length (variants);
  g_autofree ParetoPoint *pts = g_new0 (ParetoPoint, MAX (nv, 1));
  for (guint v = 0; v < nv; v++)
    {
      g_autofree double *xs = NULL, *ys = NULL;
      guint n = 0;
      if (!ft_exp_results_values (r, variants[v], xm, &xs, NULL, &n, error))
        return NULL;
      if (!ft_exp_results_values (r, variants[v], ym, &ys, NULL, &n, error))
        return NULL;
      guint m = 0;
      g_autofree double *xv = g_new (double, MAX (n, 1)), *yv = g_new (double, MAX (n, 1));
      for (guint i = 0; i < n; i++)
        if (isfinite (xs[i]) && isfinite (ys[i]))
          {
            xv[m] = xs[i];
            yv[m] = ys[i];
            m++;
          }
      pts[v].name = variants[v];
      if (m == 0)
        {
          pts[v].x = pts[v].y = pts[v].y_lo = pts[v].y_hi = NAN;
          continue;
        }
      double sd;
      ft_stats_mean_sd (xv, m, &pts[v].x, NULL);
      ft_stats_mean_sd (yv, m, &pts[v].y, &sd);
      double h = m > 1 ? gsl_cdf_tdist_Pinv (1 - alpha / 2, m - 1) * sd / sqrt (m) : NAN;
      pts[v].y_lo = pts[v].y - h;
      pts[v].y_hi = pts[v].y + h;
    }
  qsort (pts, nv, sizeof *pts, cmp_point_x);
  g_autofree double *x = g_new (double, MAX (nv, 1)), *y = g_new (double, MAX (nv, 1));
  g_autofree gboolean *front = g_new (gboolean, MAX (nv, 1));
  for (guint v = 0; v < nv; v++)
    {
      x[v] = pts[v].x;
      y[v] = pts[v].y;
    }
  ft_stats_pareto_front (x, y, nv, x_higher, y_higher, front);
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "Pareto view of %s: %s (%s is better) against %s (%s is better), means over %u "
                          "replications; * = on the front\n",
                          ft_exp_results_get (r, "name"), ym, y_higher ? "higher" : "lower", xm,
                          x_higher ? "higher" : "lower", ft_exp_results_replications (r));
  g_string_append_printf (s, "  %-6s %14s %14s %25s  %s\n", "point", xm, ym, "interval of y", "overrides");
  for (guint v = 0; v < nv; v++)
    {
      g_autofree char *ov = ft_exp_results_overrides (r, pts[v].name);
      g_strdelimit (ov, "\n", ' ');
      g_autofree char *iv = g_strdup_printf ("[%.5g, %.5g]", pts[v].y_lo, pts[v].y_hi);
      g_string_append_printf (s, "  %-6s %14.5g %14.5g %25s  %s%s\n", pts[v].name, pts[v].x, pts[v].y, iv,
                              ov ? ov : "", front[v] ? "  *" : "");
    }
  if (pdf)
    {
      cairo_surface_t *surf = cairo_pdf_surface_create (pdf, 842, 595);
      cairo_pdf_surface_set_metadata (surf, CAIRO_PDF_METADATA_CREATOR, "Fleet Twin experiment report");
      cairo_t *cr = cairo_create (surf);
      g_autofree const char **cats = g_new0 (const char *, MAX (nv, 1));
      g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
      g_autofree double *fy = g_new (double, MAX (nv, 1)), *nanv = g_new (double, MAX (nv, 1)),
                        *lo = g_new (double, MAX (nv, 1)), *hi = g_new (double, MAX (nv, 1));
      for (guint v = 0; v < nv; v++)
        {
          char *lab = g_strdup_printf ("%.4g", pts[v].x);
          g_ptr_array_add (labels, lab);
          cats[v] = lab;
          fy[v] = front[v] ? y[v] : NAN;
          nanv[v] = NAN;
          lo[v] = pts[v].y_lo;
          hi[v] = pts[v].y_hi;
        }
      FtChartSeries series[6] = {
        { "every point (mean, t interval)", y, { 0.55, 0.55, 0.55 } }, { NULL, lo, { 0.55, 0.55, 0.55 } },
        { NULL, hi, { 0.55, 0.55, 0.55 } },
        { "Pareto front", fy, { 0.84, 0.15, 0.16 } }, { NULL, nanv, { 0.84, 0.15, 0.16 } },
        { NULL, nanv, { 0.84, 0.15, 0.16 } },
      };
      g_autofree char *title = g_strdup_printf ("%s: %s against %s", ft_exp_results_get (r, "name"), ym, xm);
      FtChart chart = { .title = title, .x_label = xm, .y_label = ym, .categories = cats, .n = nv,
                        .series = series, .n_series = 6, .style = FT_CHART_INTERVALS,
                        .note = "points sorted by the x metric; red: not dominated on both metrics" };
      ft_chart_draw (cr, 842, 595, &chart);
      cairo_show_page (cr);
      cairo_destroy (cr);
      cairo_surface_finish (surf);
      cairo_status_t st = cairo_surface_status (surf);
      cairo_surface_destroy (surf);
      if (st != CAIRO_STATUS_SUCCESS)
        {
          g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_FILE, "%s: %s", pdf, cairo_status_to_string (st));
          g_string_free (s, TRUE);
          return NULL;
        }
    }
  return g_string_free (s, FALSE);
}
