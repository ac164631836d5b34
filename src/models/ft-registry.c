/* ft-registry.c — model kinds and statuses, zonings (nearest centre; a
 * grid for stores without one), demand per zone and hour from a store's
 * event log, storing and loading forecast versions through the store, and
 * the held-back evaluation a candidate must win to be promoted.
 */
#include "ft-config.h"
#include "ft-registry.h"
#include "ft-json.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

G_DEFINE_QUARK (ft-registry-error-quark, ft_registry_error)

static const char *const kind_names[FT_N_MODEL_KINDS] = {
  "forecast-mean", "forecast-glm", "forecast-xgb", "maint-weibull", "maint-xgb",
  "maint-baseline",
};

const char *
ft_model_kind_name (FtModelKind kind)
{
  return (guint) kind < FT_N_MODEL_KINDS ? kind_names[kind] : "unknown";
}

gboolean
ft_model_kind_from_name (const char *name, FtModelKind *kind)
{
  for (guint k = 0; k < FT_N_MODEL_KINDS; k++)
    if (g_strcmp0 (name, kind_names[k]) == 0)
      {
        *kind = (FtModelKind) k;
        return TRUE;
      }
  return FALSE;
}

FtModelKind
ft_model_kind_for_forecast (FtForecastKind kind)
{
  return kind == FT_FORECAST_MEAN ? FT_MODEL_FORECAST_MEAN
       : kind == FT_FORECAST_GLM ? FT_MODEL_FORECAST_GLM : FT_MODEL_FORECAST_XGB;
}

gboolean
ft_model_kind_to_forecast (FtModelKind kind, FtForecastKind *out)
{
  switch (kind)
    {
    case FT_MODEL_FORECAST_MEAN: *out = FT_FORECAST_MEAN; return TRUE;
    case FT_MODEL_FORECAST_GLM:  *out = FT_FORECAST_GLM;  return TRUE;
    case FT_MODEL_FORECAST_XGB:  *out = FT_FORECAST_XGB;  return TRUE;
    default: return FALSE;
    }
}

FtModelKind
ft_model_kind_for_maint (FtMaintKind kind)
{
  return kind == FT_MAINT_WEIBULL ? FT_MODEL_MAINT_WEIBULL
       : kind == FT_MAINT_XGB ? FT_MODEL_MAINT_XGB : FT_MODEL_MAINT_BASELINE;
}

gboolean
ft_model_kind_to_maint (FtModelKind kind, FtMaintKind *out)
{
  switch (kind)
    {
    case FT_MODEL_MAINT_WEIBULL:  *out = FT_MAINT_WEIBULL;  return TRUE;
    case FT_MODEL_MAINT_XGB:      *out = FT_MAINT_XGB;      return TRUE;
    case FT_MODEL_MAINT_BASELINE: *out = FT_MAINT_BASELINE; return TRUE;
    default: return FALSE;
    }
}

gboolean
ft_model_status_valid (const char *status)
{
  return g_strcmp0 (status, "candidate") == 0 || g_strcmp0 (status, "shadow") == 0
         || g_strcmp0 (status, "active") == 0 || g_strcmp0 (status, "retired") == 0;
}

/* ---- zonings ------------------------------------------------------------ */

/* A grid over the centres' bounding box (a tenth wider on every side),
 * each cell with the zones that can be nearest to some point in it: those
 * whose least distance to the cell is no more than the least, over the
 * zones, of the greatest distance to it (the metric's east-west scale,
 * cos (latitude), taken at its smallest for the one and its largest for
 * the other). A look-up scans its cell's candidates, a few, in zone order
 * as a scan of every centre would; a position outside the grid scans them
 * all. */
#define ZONING_GRID_MAX_ZONES 4096
struct _FtZoningGrid {
  double lat0, lon0, dlat, dlon;
  guint  rows, cols;
  guint *first;   /* [cell .. cell + 1): the cell's candidates, in zone order */
  guint *zone;
  /* per cell with one candidate: the greatest squared distance from it
   * to the cell (cos (latitude) at its largest, the cell a little wider
   * and the square a little larger than rounding can make one), else
   * INFINITY. Within max_m of every point, it is the answer without the
   * cosine a distance needs. */
  double *far2;
};

static struct _FtZoningGrid *
zoning_grid_new (const FtZoning *zn)
{
  if (zn->n > ZONING_GRID_MAX_ZONES)
    return NULL;   /* building it would cost more than the scans it saves */
  const double m_per_deg = 111320.0;
  struct _FtZoningGrid *g = g_new0 (struct _FtZoningGrid, 1);
  double lat0 = zn->lat[0], lon0 = zn->lon[0], lat1 = lat0, lon1 = lon0;
  for (guint z = 1; z < zn->n; z++)
    {
      lat0 = MIN (lat0, zn->lat[z]);
      lon0 = MIN (lon0, zn->lon[z]);
      lat1 = MAX (lat1, zn->lat[z]);
      lon1 = MAX (lon1, zn->lon[z]);
    }
  double mlat = MAX ((lat1 - lat0) * 0.1, 1e-3), mlon = MAX ((lon1 - lon0) * 0.1, 1e-3);
  g->lat0 = MAX (lat0 - mlat, -90.0);
  g->lon0 = lon0 - mlon;
  lat1 = MIN (lat1 + mlat, 90.0);
  lon1 += mlon;
  /* about a zone every eight cells (a few candidates per cell), as long
   * as building it (cells x zones) stays under a few million steps, and
   * never coarser than a zone every two cells */
  guint side = MAX (1u, (guint) ceil (sqrt (2.0 * zn->n)));
  side = MAX (side, MIN ((guint) ceil (sqrt (8.0 * zn->n)), (guint) sqrt (4e6 / zn->n)));
  g->rows = g->cols = side;
  g->dlat = (lat1 - g->lat0) / side;
  g->dlon = (lon1 - g->lon0) / side;
  guint nc = g->rows * g->cols;
  g->first = g_new0 (guint, nc + 1);
  g->far2 = g_new (double, nc);
  GArray *cand = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint r = 0; r < g->rows; r++)
    {
      double lo = g->lat0 + r * g->dlat, hi = lo + g->dlat;
      double c_lo = cos (lo * G_PI / 180.0), c_hi = cos (hi * G_PI / 180.0);
      double kx_min = MIN (c_lo, c_hi) * m_per_deg;
      double kx_max = (lo <= 0 && hi >= 0 ? 1.0 : MAX (c_lo, c_hi)) * m_per_deg;
      for (guint c = 0; c < g->cols; c++)
        {
          double w = g->lon0 + c * g->dlon, e = w + g->dlon;
          double bound = INFINITY;   /* the least greatest distance (squared) */
          for (guint z = 0; z < zn->n; z++)
            {
              double dy = MAX (fabs (zn->lat[z] - lo), fabs (zn->lat[z] - hi)) * m_per_deg;
              double dx = MAX (fabs (zn->lon[z] - w), fabs (zn->lon[z] - e)) * kx_max;
              bound = MIN (bound, dx * dx + dy * dy);
            }
          bound = bound * (1 + 1e-9) + 1e-6;   /* rounding may not drop a zone */
          for (guint z = 0; z < zn->n; z++)
            {
              double dy = (zn->lat[z] < lo ? lo - zn->lat[z] : zn->lat[z] > hi ? zn->lat[z] - hi : 0) * m_per_deg;
              double dx = (zn->lon[z] < w ? w - zn->lon[z] : zn->lon[z] > e ? zn->lon[z] - e : 0) * kx_min;
              if (dx * dx + dy * dy <= bound)
                g_array_append_val (cand, z);
            }
          guint cell = r * g->cols + c;
          g->first[cell + 1] = cand->len;
          g->far2[cell] = INFINITY;
          if (cand->len - g->first[cell] == 1)
            {
              guint z = g_array_index (cand, guint, g->first[cell]);
              double slack_lat = 1e-6 * g->dlat + 1e-9, slack_lon = 1e-6 * g->dlon + 1e-9;
              double dy = MAX (fabs (zn->lat[z] - (lo - slack_lat)), fabs (zn->lat[z] - (hi + slack_lat))) * m_per_deg;
              double dx = MAX (fabs (zn->lon[z] - (w - slack_lon)), fabs (zn->lon[z] - (e + slack_lon))) * kx_max;
              g->far2[cell] = (dx * dx + dy * dy) * (1 + 1e-6) + 1e-6;
            }
        }
    }
  g->zone = (guint *) g_array_free (cand, FALSE);
  return g;
}

static void
zoning_grid_free (struct _FtZoningGrid *g)
{
  if (g == NULL)
    return;
  g_free (g->first);
  g_free (g->zone);
  g_free (g->far2);
  g_free (g);
}

FtZoning *
ft_zoning_new (guint n, const char *const *ids, const double *lat, const double *lon, GError **error)
{
  if (n == 0)
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_EMPTY, "a zoning needs at least one zone");
      return NULL;
    }
  for (guint z = 0; z < n; z++)
    if (!isfinite (lat[z]) || !isfinite (lon[z]) || fabs (lat[z]) > 90 || fabs (lon[z]) > 180)
      {
        g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID,
                     "zone %u (%s) has its centre at %g, %g: not a position", z,
                     ids && ids[z] ? ids[z] : "unnamed", lat[z], lon[z]);
        return NULL;
      }
  FtZoning *zn = g_new0 (FtZoning, 1);
  zn->n = n;
  zn->ids = g_new0 (char *, n + 1);
  for (guint z = 0; z < n; z++)
    zn->ids[z] = ids && ids[z] ? g_strdup (ids[z]) : g_strdup_printf ("zone-%u", z);
  zn->lat = g_memdup2 (lat, n * sizeof (double));
  zn->lon = g_memdup2 (lon, n * sizeof (double));
  zn->max_m = 2000;
  zn->grid = zoning_grid_new (zn);
  return zn;
}

void
ft_zoning_free (FtZoning *z)
{
  if (z == NULL)
    return;
  g_strfreev (z->ids);
  zoning_grid_free (z->grid);
  g_free (z->lat);
  g_free (z->lon);
  g_free (z);
}

FtZoning *
ft_zoning_grid (const double *lat, const double *lon, gsize n, double cell_m, GError **error)
{
  if (!isfinite (cell_m) || cell_m < 10)
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID,
                   "grid cell of %g m: must be at least 10 m", cell_m);
      return NULL;
    }
  double lat0 = G_MAXDOUBLE, lon0 = G_MAXDOUBLE, lat_sum = 0;
  gsize used = 0;
  for (gsize i = 0; i < n; i++)
    if (isfinite (lat[i]) && isfinite (lon[i]) && fabs (lat[i]) <= 90 && fabs (lon[i]) <= 180)
      {
        lat0 = MIN (lat0, lat[i]);
        lon0 = MIN (lon0, lon[i]);
        lat_sum += lat[i];
        used++;
      }
  if (used == 0)
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_EMPTY,
                   "no positions to lay a zone grid over");
      return NULL;
    }
  double dlat = cell_m / 111320.0;
  double dlon = cell_m / (111320.0 * MAX (cos (lat_sum / used * G_PI / 180.0), 0.05));
  GHashTable *cells = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  GArray *keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (gsize i = 0; i < n; i++)
    {
      if (!(isfinite (lat[i]) && isfinite (lon[i]) && fabs (lat[i]) <= 90 && fabs (lon[i]) <= 180))
        continue;
      gint64 r = (gint64) floor ((lat[i] - lat0) / dlat), c = (gint64) floor ((lon[i] - lon0) / dlon);
      gint64 key = r * 1000000 + c;
      if (!g_hash_table_contains (cells, &key))
        {
          g_array_append_val (keys, key);
          g_hash_table_add (cells, g_memdup2 (&key, sizeof key));
        }
    }
  g_hash_table_unref (cells);
  guint nz = keys->len;
  g_autofree double *clat = g_new (double, nz), *clon = g_new (double, nz);
  g_auto(GStrv) ids = g_new0 (char *, nz + 1);
  for (guint k = 0; k < nz; k++)
    {
      gint64 key = g_array_index (keys, gint64, k), r = key / 1000000, c = key % 1000000;
      clat[k] = lat0 + (r + 0.5) * dlat;
      clon[k] = lon0 + (c + 0.5) * dlon;
      ids[k] = g_strdup_printf ("g%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT, r, c);
    }
  g_array_unref (keys);
  FtZoning *z = ft_zoning_new (nz, (const char *const *) ids, clat, clon, error);
  if (z)
    z->max_m = cell_m;   /* nearest centre of an occupied cell, within a cell */
  return z;
}

int
ft_zoning_zone_of (const FtZoning *z, double lat, double lon)
{
  if (!isfinite (lat) || !isfinite (lon))
    return -1;
  /* nearest centre on the local plane (squared metres, no square roots or
   * trigonometry per zone: this runs for every request in shadow mode) */
  const double m_per_deg = 111320.0;
  double best_d2 = z->max_m * z->max_m;
  int best = -1;
  const struct _FtZoningGrid *g = z->grid;
  guint from = 0, to = z->n;
  const guint *cand = NULL;
  if (g)
    {
      double fr = (lat - g->lat0) / g->dlat, fc = (lon - g->lon0) / g->dlon;
      if (fr >= 0 && fr < g->rows && fc >= 0 && fc < g->cols)
        {
          guint cell = (guint) fr * g->cols + (guint) fc;
          if (g->far2[cell] <= best_d2)
            return (int) g->zone[g->first[cell]];   /* its only candidate, within max_m */
          cand = g->zone;
          from = g->first[cell];
          to = g->first[cell + 1];
        }
    }
  double kx = cos (lat * G_PI / 180.0) * m_per_deg;
  for (guint k = from; k < to; k++)
    {
      guint i = cand ? cand[k] : k;
      double dy = (lat - z->lat[i]) * m_per_deg, dx = (lon - z->lon[i]) * kx;
      double d2 = dx * dx + dy * dy;
      if (d2 <= best_d2)
        {
          best_d2 = d2;
          best = (int) i;
        }
    }
  return best;
}

char *
ft_zoning_to_json (const FtZoning *z)
{
  GString *s = g_string_new ("{\"max_m\": ");
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append (s, g_ascii_dtostr (buf, sizeof buf, z->max_m));
  g_string_append (s, ", \"zones\": [");
  for (guint i = 0; i < z->n; i++)
    {
      g_string_append (s, i ? ", {\"id\": " : "{\"id\": ");
      ft_json_append_string (s, z->ids[i]);
      g_string_append (s, ", \"lat\": ");
      g_string_append (s, g_ascii_dtostr (buf, sizeof buf, z->lat[i]));
      g_string_append (s, ", \"lon\": ");
      g_string_append (s, g_ascii_dtostr (buf, sizeof buf, z->lon[i]));
      g_string_append (s, "}");
    }
  g_string_append (s, "]}");
  return g_string_free (s, FALSE);
}

FtZoning *
ft_zoning_from_json (const char *json, GError **error)
{
  g_autoptr(JsonNode) root = ft_json_parse (json, -1, "zoning", 0, 0, error);
  if (!root)
    return NULL;
  JsonObject *o = ft_json_object_of (root);
  JsonArray *a = o ? ft_json_get_array (o, "zones") : NULL;
  double max_m = 2000;
  if (a == NULL || (ft_json_get_object (o, "max_m") == NULL && json_object_has_member (o, "max_m")
                    && !ft_json_get_double (o, "max_m", &max_m)))
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID,
                   "zoning: expected {\"zones\": [{\"id\", \"lat\", \"lon\"}, …]}");
      return NULL;
    }
  guint n = json_array_get_length (a);
  g_autofree double *lat = g_new0 (double, MAX (n, 1)), *lon = g_new0 (double, MAX (n, 1));
  g_autofree const char **ids = g_new0 (const char *, n + 1);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *zo = ft_json_array_object (a, i);
      g_autofree char *where = g_strdup_printf ("zoning zone %u", i);
      if (!zo || !(ids[i] = ft_json_require_string (zo, "id", where, error))
          || !ft_json_require_double (zo, "lat", where, &lat[i], error)
          || !ft_json_require_double (zo, "lon", where, &lon[i], error))
        {
          if (error && *error == NULL)
            g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID, "%s is not an object", where);
          return NULL;
        }
    }
  FtZoning *z = ft_zoning_new (n, ids, lat, lon, error);
  if (z && isfinite (max_m) && max_m > 0)
    z->max_m = max_m;
  return z;
}

/* ---- demand from a store ------------------------------------------------ */

FtDemandSeries *
ft_registry_demand_from_store (FtStore *s, const FtZoning *zoning, double cell_m,
                               FtZoning **zoning_out, GError **error)
{
  g_return_val_if_fail (s != NULL, NULL);
  sqlite3 *db = ft_store_get_db (s);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT seq, t, lat, lon FROM events WHERE kind IN (?, ?) ORDER BY seq",
                          -1, &st, NULL) != SQLITE_OK)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SQL, "reading the event log: %s",
                   sqlite3_errmsg (db));
      return NULL;
    }
  sqlite3_bind_int (st, 1, FT_EV_BOOKING_RESERVED);
  sqlite3_bind_int (st, 2, FT_EV_RIDER_LOST);
  GArray *t = g_array_new (FALSE, FALSE, sizeof (FtTime));
  GArray *lat = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *lon = g_array_new (FALSE, FALSE, sizeof (double));
  int rc;
  gboolean ok = TRUE;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      FtTime tt = sqlite3_column_int64 (st, 1);
      double la = sqlite3_column_double (st, 2), lo = sqlite3_column_double (st, 3);
      if (!isfinite (la) || !isfinite (lo) || fabs (la) > 90 || fabs (lo) > 180)
        {
          g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID,
                       "event %" G_GINT64_FORMAT " (a request) is at %g, %g: not a position; "
                       "the event log is damaged, nothing was trained",
                       (gint64) sqlite3_column_int64 (st, 0), la, lo);
          ok = FALSE;
          break;
        }
      g_array_append_val (t, tt);
      g_array_append_val (lat, la);
      g_array_append_val (lon, lo);
    }
  if (ok && rc != SQLITE_DONE)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SQL, "reading the event log: %s",
                   sqlite3_errmsg (db));
      ok = FALSE;
    }
  sqlite3_finalize (st);
  FtDemandSeries *series = NULL;
  g_autoptr(FtZoning) own = NULL;
  if (ok && t->len == 0)
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_EMPTY,
                   "the event log holds no requests (reservations or lost riders): nothing to train on");
      ok = FALSE;
    }
  if (ok && zoning == NULL)
    {
      g_autofree char *json = ft_store_dup_meta (s, "models.zoning");
      if (json)
        own = ft_zoning_from_json (json, error);
      else
        own = ft_zoning_grid ((double *) lat->data, (double *) lon->data, lat->len, cell_m, error);
      ok = own != NULL;
      zoning = own;
    }
  if (ok)
    {
      g_autofree int *zone = g_new (int, t->len);
      for (guint i = 0; i < t->len; i++)
        zone[i] = ft_zoning_zone_of (zoning, g_array_index (lat, double, i), g_array_index (lon, double, i));
      series = ft_demand_series_from_events (zoning->n, (const char *const *) zoning->ids,
                                             (FtTime *) t->data, zone, t->len, error);
      /* the clock shadow mode read hours of week from (the simulator's
       * t = 0 is a Monday) */
      g_autofree char *off = ft_store_dup_meta (s, "models.how_offset");
      gint64 how_offset = off ? g_ascii_strtoll (off, NULL, 10) : 0;
      if (series && how_offset % FT_HOUR == 0)
        series->t0 += how_offset;
    }
  g_array_unref (t);
  g_array_unref (lat);
  g_array_unref (lon);
  if (series && zoning_out)
    *zoning_out = own ? g_steal_pointer (&own)
                      : ft_zoning_new (zoning->n, (const char *const *) zoning->ids, zoning->lat,
                                       zoning->lon, NULL);
  return series;
}

/* ---- versions ----------------------------------------------------------- */

static char *
params_json (const FtForecastParams *p)
{
  return g_strdup_printf ("{\"mean_shrink_weeks\": %.6g, \"glm_lambda\": %.6g, \"glm_max_iter\": %u, "
                          "\"xgb_rounds\": %u, \"xgb_max_depth\": %u, \"xgb_eta\": %.6g, "
                          "\"horizon\": %u}", p->mean_shrink_weeks, p->glm_lambda, p->glm_max_iter,
                          p->xgb_rounds, p->xgb_max_depth, p->xgb_eta, p->horizon);
}

gint64
ft_registry_put_forecast (FtStore *s, const FtForecaster *f, const FtRegistryEntry *e, GError **error)
{
  g_return_val_if_fail (s != NULL && f != NULL && e != NULL && e->city != NULL, 0);
  if (e->status && (!ft_model_status_valid (e->status) || g_strcmp0 (e->status, "active") == 0))
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID,
                   "a new version is a candidate or a shadow, not '%s'", e->status);
      return 0;
    }
  g_autoptr(GBytes) blob = ft_forecaster_save (f, error);
  if (!blob)
    return 0;
  g_autofree char *zones = e->zoning ? ft_zoning_to_json (e->zoning) : g_strdup ("null");
  g_autofree char *features = g_strdup_printf (
      "{\"target\": \"requests per zone and hour (reservations + lost riders)\", "
      "\"features\": [\"hour_of_week\", \"hour_of_day x day_type\", \"zone\", \"lags 1,2,3,24,168\", "
      "\"anomalies\", \"recent zone and city activity\"], \"zoning\": %s}", zones);
  g_autofree char *params = params_json (ft_forecaster_get_params (f));
  FtStoreModel m = {
    .kind = (char *) ft_model_kind_name (ft_model_kind_for_forecast (ft_forecaster_get_kind (f))),
    .city = (char *) e->city,
    .trained_city = (char *) (e->trained_city ? e->trained_city : e->city),
    .status = (char *) (e->status ? e->status : "candidate"),
    .created = e->created, .train_start = e->train_start, .train_end = e->train_end,
    .features = features, .params = params,
    .metrics = (char *) (e->metrics_json ? e->metrics_json : "{}"),
    .blob = blob,
  };
  if (!ft_store_model_put (s, &m, error))
    return 0;
  return m.id;
}

FtForecaster *
ft_registry_load_forecast (FtStore *s, gint64 id, FtStoreModel **meta_out, GError **error)
{
  g_autoptr(FtStoreModel) m = ft_store_model_get (s, id, error);
  if (!m)
    return NULL;
  FtModelKind mk;
  FtForecastKind fk;
  if (!ft_model_kind_from_name (m->kind, &mk) || !ft_model_kind_to_forecast (mk, &fk))
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_KIND,
                   "model version %" G_GINT64_FORMAT " is a %s model, not a demand forecast", id, m->kind);
      return NULL;
    }
  g_autoptr(GError) local = NULL;
  FtForecaster *f = ft_forecaster_load (m->blob, &local);
  if (!f)
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID,
                   "model version %" G_GINT64_FORMAT ": %s", id, local->message);
      return NULL;
    }
  if (ft_forecaster_get_kind (f) != fk)
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_KIND,
                   "model version %" G_GINT64_FORMAT " is registered as %s but its blob holds a %s model",
                   id, m->kind, ft_forecast_kind_name (ft_forecaster_get_kind (f)));
      ft_forecaster_free (f);
      return NULL;
    }
  if (meta_out)
    *meta_out = g_steal_pointer (&m);
  return f;
}

gint64
ft_registry_put_maint (FtStore *s, const FtMaintModel *mm, const FtMaintParams *params,
                       const FtRegistryEntry *e, GError **error)
{
  g_return_val_if_fail (s != NULL && mm != NULL && e != NULL && e->city != NULL, 0);
  if (e->status && (!ft_model_status_valid (e->status) || g_strcmp0 (e->status, "active") == 0))
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID,
                   "a new version is a candidate or a shadow, not '%s'", e->status);
      return 0;
    }
  g_autoptr(GBytes) blob = ft_maint_model_to_blob (mm, error);
  if (!blob)
    return 0;
  FtMaintParams def;
  ft_maint_params_init (&def);
  const FtMaintParams *p = params ? params : &def;
  g_autoptr(GString) features = g_string_new ("{\"target\": \"fault within the horizon, per vehicle\", "
                                              "\"horizons_h\": [24, 168], \"features\": [");
  for (guint f = 0; f < FT_MAINT_N_FEATURES; f++)
    g_string_append_printf (features, "%s\"%s\"", f ? ", " : "", ft_maint_feature_name ((FtMaintFeature) f));
  g_string_append (features, "]}");
  g_autofree char *pj = g_strdup_printf ("{\"ridge\": %.6g, \"max_iter\": %u, \"grad_tol\": %.6g, "
                                         "\"xgb_rounds\": %u, \"xgb_max_depth\": %u, \"xgb_eta\": %.6g}",
                                         p->ridge, p->max_iter, p->grad_tol, p->xgb_rounds, p->xgb_max_depth,
                                         p->xgb_eta);
  FtStoreModel m = {
    .kind = (char *) ft_model_kind_name (ft_model_kind_for_maint (ft_maint_model_get_kind (mm))),
    .city = (char *) e->city,
    .trained_city = (char *) (e->trained_city ? e->trained_city : e->city),
    .status = (char *) (e->status ? e->status : "candidate"),
    .created = e->created, .train_start = e->train_start, .train_end = e->train_end,
    .features = features->str, .params = pj,
    .metrics = (char *) (e->metrics_json ? e->metrics_json : "{}"),
    .blob = blob,
  };
  if (!ft_store_model_put (s, &m, error))
    return 0;
  return m.id;
}

FtMaintModel *
ft_registry_load_maint (FtStore *s, gint64 id, FtStoreModel **meta_out, GError **error)
{
  g_autoptr(FtStoreModel) m = ft_store_model_get (s, id, error);
  if (!m)
    return NULL;
  FtModelKind mk;
  FtMaintKind k;
  if (!ft_model_kind_from_name (m->kind, &mk) || !ft_model_kind_to_maint (mk, &k))
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_KIND,
                   "model version %" G_GINT64_FORMAT " is a %s model, not a maintenance model", id, m->kind);
      return NULL;
    }
  g_autoptr(GError) local = NULL;
  FtMaintModel *mm = ft_maint_model_from_blob (m->blob, &local);
  if (!mm)
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID,
                   "model version %" G_GINT64_FORMAT ": %s", id, local->message);
      return NULL;
    }
  if (ft_maint_model_get_kind (mm) != k)
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_KIND,
                   "model version %" G_GINT64_FORMAT " is registered as %s but its blob holds a %s model",
                   id, m->kind, ft_maint_kind_name (ft_maint_model_get_kind (mm)));
      ft_maint_model_free (mm);
      return NULL;
    }
  if (meta_out)
    *meta_out = g_steal_pointer (&m);
  return mm;
}

gint64
ft_registry_champion (FtStore *s, FtModelKind kind, const char *city, GError **error)
{
  return ft_store_model_champion (s, ft_model_kind_name (kind), city, error);
}

gboolean
ft_registry_promote (FtStore *s, gint64 id, GError **error)
{
  return ft_store_model_set_status (s, id, "active", error);
}

gboolean
ft_registry_retire (FtStore *s, gint64 id, GError **error)
{
  return ft_store_model_set_status (s, id, "retired", error);
}

const char *
ft_registry_origin_label (const FtStoreModel *m)
{
  return g_strcmp0 (m->city, m->trained_city) == 0 ? "local" : "transferred";
}

/* ---- evaluation --------------------------------------------------------- */

gboolean
ft_registry_evaluate (FtForecaster *f, const FtDemandSeries *s, guint start, guint end, guint horizon,
                      guint every, double *rmse, double *mae, guint *n_out, GError **error)
{
  g_return_val_if_fail (f != NULL && s != NULL && rmse != NULL && mae != NULL, FALSE);
  if (start >= end || end > s->n_hours || horizon < 1 || every < 1)
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID,
                   "held-back window hours [%u, %u) is empty or past the data (%u hours)",
                   start, end, s->n_hours);
      return FALSE;
    }
  g_autofree double *out = g_new (double, (gsize) s->n_zones * horizon);
  double se = 0, ae = 0;
  guint n = 0;
  for (guint o = start; o < end; o += every)
    {
      guint h = MIN (horizon, end - o);
      if (!ft_forecaster_predict (f, s, o, h, out, error))
        return FALSE;
      for (guint z = 0; z < s->n_zones; z++)
        for (guint k = 0; k < h; k++)
          {
            double e = out[z * h + k] - ft_demand_series_demand (s, z, o + k);
            se += e * e;
            ae += fabs (e);
            n++;
          }
    }
  *rmse = sqrt (se / MAX (n, 1));
  *mae = ae / MAX (n, 1);
  if (n_out)
    *n_out = n;
  return TRUE;
}
