/* ft-demo-city.c — Demo City, the embedded default city, generated
 * deterministically from a small parameter key file (data/demo-city.ini,
 * also compiled in): a jittered street grid with arterials and diagonal
 * radials, a river crossed only at bridges, districts that give zones their
 * kind, pricing multipliers, geofences (no-parking park, slow zone,
 * operating area), depots, and a demand profile (hour-of-week arrival rates
 * by zone, gravity-model destination choice calibrated to a mean trip).
 * The generator keeps its own random stream, seeded from the file.
 */
#include "ft-city-private.h"
#include "ft-file.h"
#include "ft-demo-city-params.h"

#include <string.h>

/* ---- parameters ------------------------------------------------------- */

typedef struct {
  char    *key, *name;
  FtZoneKind kind;
  double   x, y, r;
} District;

typedef struct {
  char    *key, *name;
  double   x, y;
  guint    chargers, stock;
} DepotP;

typedef struct {
  char    *id, *name, currency[4];
  int      utc_offset_min;
  double   lat0, lon0, W, H;
  guint64  seed;
  double   block, jitter, removed_share, rcx, rcy;
  guint    arterial_every, secondary_every;
  gboolean radials;
  double   river_base, river_amp, river_wl, river_phase, river_w;
  double  *bridges; gsize n_bridges;
  guint    zcols, zrows;
  double   pricing[FT_N_ZONE_KINDS];
  District *districts; guint n_districts;
  char    *park_key, *slow_key;
  double   park_r, slow_r, slow_kph, op_margin, op_cut;
  DepotP  *depots; guint n_depots;
  double   per_day, mean_straight, weather, day_factors[7], night_boost;
  double   prod[FT_N_ZONE_KINDS], attr[FT_N_ZONE_KINDS][FT_DEMAND_N_BANDS];
  double   hourly[FT_N_ZONE_KINDS][2][24];
} Params;

static void
params_clear (Params *p)
{
  g_free (p->id);
  g_free (p->name);
  g_free (p->bridges);
  for (guint i = 0; i < p->n_districts; i++)
    {
      g_free (p->districts[i].key);
      g_free (p->districts[i].name);
    }
  g_free (p->districts);
  for (guint i = 0; i < p->n_depots; i++)
    {
      g_free (p->depots[i].key);
      g_free (p->depots[i].name);
    }
  g_free (p->depots);
  g_free (p->park_key);
  g_free (p->slow_key);
}

typedef struct {
  GKeyFile   *kf;
  const char *where;
  GError     *err;   /* first error */
} Reader;

static void
fail (Reader *rd, const char *group, const char *key, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

static void
fail (Reader *rd, const char *group, const char *key, const char *fmt, ...)
{
  if (rd->err)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  rd->err = g_error_new (FT_CITY_ERROR, FT_CITY_ERROR_PARSE, "%s: [%s] %s: %s",
                         rd->where, group, key, msg);
}

static double
rd_num (Reader *rd, const char *g, const char *k, double lo, double hi)
{
  if (rd->err)
    return lo;
  g_autoptr(GError) e = NULL;
  g_autofree char *s = g_key_file_get_value (rd->kf, g, k, &e);
  if (s == NULL)
    {
      fail (rd, g, k, "missing");
      return lo;
    }
  char *end = NULL;
  g_strstrip (s);
  double v = g_ascii_strtod (s, &end);
  if (end == s || *end != '\0' || !isfinite (v))
    {
      fail (rd, g, k, "\"%s\" is not a number", s);
      return lo;
    }
  if (v < lo || v > hi)
    {
      /* refused, and never handed on: a caller casts counts to guint */
      fail (rd, g, k, "%g is outside %g..%g", v, lo, hi);
      return lo;
    }
  return v;
}

static char *
rd_str (Reader *rd, const char *g, const char *k)
{
  if (rd->err)
    return g_strdup ("");
  g_autoptr(GError) e = NULL;
  char *s = ft_key_file_get_string (rd->kf, g, k, &e);
  if (e != NULL)
    {
      fail (rd, g, k, "%s", e->message);
      return g_strdup ("");
    }
  if (s == NULL || s[0] == '\0')
    {
      fail (rd, g, k, "missing or empty");
      g_free (s);
      return g_strdup ("");
    }
  return s;
}

static void
rd_list (Reader *rd, const char *g, const char *k, double *out, gsize n, double lo, double hi)
{
  if (rd->err)
    return;
  g_autofree char *s = g_key_file_get_value (rd->kf, g, k, NULL);
  if (s == NULL)
    {
      fail (rd, g, k, "missing");
      return;
    }
  g_auto(GStrv) parts = g_strsplit (s, ";", -1);
  gsize m = g_strv_length (parts);
  if (m > 0 && g_strstrip (parts[m - 1])[0] == '\0')
    m--;   /* trailing separator */
  if (m != n)
    {
      fail (rd, g, k, "expected %" G_GSIZE_FORMAT " numbers separated by ';', found %" G_GSIZE_FORMAT, n, m);
      return;
    }
  for (gsize i = 0; i < n; i++)
    {
      char *end = NULL;
      g_strstrip (parts[i]);
      out[i] = g_ascii_strtod (parts[i], &end);
      if (end == parts[i] || *end != '\0' || !isfinite (out[i]) || out[i] < lo || out[i] > hi)
        {
          fail (rd, g, k, "item %" G_GSIZE_FORMAT " (\"%s\") is not a number in %g..%g", i + 1, parts[i], lo, hi);
          out[i] = lo;
          return;
        }
    }
}

static gboolean
read_params (Params *p, const char *ini, gsize len, const char *where, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  if (!g_key_file_load_from_data (kf, ini, len, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_PARSE, "%s: %s", where, local->message);
      return FALSE;
    }
  Reader rd = { kf, where, NULL };
  p->id = rd_str (&rd, "city", "id");
  p->name = rd_str (&rd, "city", "name");
  g_autofree char *cur = rd_str (&rd, "city", "currency");
  if (!rd.err && strlen (cur) != 3)
    fail (&rd, "city", "currency", "\"%s\" is not a 3-letter code", cur);
  g_strlcpy (p->currency, cur, 4);
  p->utc_offset_min = (int) rd_num (&rd, "city", "utc_offset_min", -840, 840);
  p->lat0 = rd_num (&rd, "city", "origin_lat", -80, 80);
  p->lon0 = rd_num (&rd, "city", "origin_lon", -180, 179);
  p->W = rd_num (&rd, "city", "width_m", 500, 50000);
  p->H = rd_num (&rd, "city", "height_m", 500, 50000);
  p->seed = (guint64) rd_num (&rd, "city", "seed", 0, 9e15);

  p->block = rd_num (&rd, "streets", "block_m", 30, 2000);
  p->jitter = rd_num (&rd, "streets", "jitter_m", 0, p->block * 0.3);
  p->arterial_every = (guint) rd_num (&rd, "streets", "arterial_every", 1, 1000);
  p->secondary_every = (guint) rd_num (&rd, "streets", "secondary_every", 1, 1000);
  p->removed_share = rd_num (&rd, "streets", "removed_share", 0, 0.5);
  if (!rd.err)
    {
      g_autoptr(GError) e = NULL;
      p->radials = g_key_file_get_boolean (kf, "streets", "radials", &e);
      if (e)
        fail (&rd, "streets", "radials", "%s", e->message);
    }
  p->rcx = rd_num (&rd, "streets", "radial_center_x_m", 0, p->W);
  p->rcy = rd_num (&rd, "streets", "radial_center_y_m", 0, p->H);

  p->river_base = rd_num (&rd, "river", "base_y_m", 0, p->H);
  p->river_amp = rd_num (&rd, "river", "amplitude_m", 0, p->H);
  p->river_wl = rd_num (&rd, "river", "wavelength_m", 100, 1e6);
  p->river_phase = rd_num (&rd, "river", "phase", -100, 100);
  p->river_w = rd_num (&rd, "river", "width_m", 0, 2000);
  if (!rd.err)
    {
      g_autofree char *s = g_key_file_get_value (kf, "river", "bridges_x_m", NULL);
      g_auto(GStrv) parts = s ? g_strsplit (s, ";", -1) : NULL;
      gsize m = parts ? g_strv_length (parts) : 0;
      if (m == 0)
        fail (&rd, "river", "bridges_x_m", "missing");
      p->bridges = g_new0 (double, MAX (m, 1));
      p->n_bridges = m;
      if (m > 0)
        rd_list (&rd, "river", "bridges_x_m", p->bridges, m, 0, p->W);
    }
  p->zcols = (guint) rd_num (&rd, "zones", "cols", 1, 64);
  p->zrows = (guint) rd_num (&rd, "zones", "rows", 1, 64);
  for (guint k = 0; k < FT_N_ZONE_KINDS; k++)
    {
      p->pricing[k] = rd_num (&rd, "pricing", ft_zone_kind_name (k), 0.1, 10);
      p->prod[k] = rd_num (&rd, "demand.production", ft_zone_kind_name (k), 0, 1000);
      rd_list (&rd, "demand.attraction", ft_zone_kind_name (k), p->attr[k], FT_DEMAND_N_BANDS, 0, 1000);
      for (guint w = 0; w < 2; w++)
        {
          g_autofree char *key = g_strdup_printf ("%s_%s", ft_zone_kind_name (k), w ? "weekend" : "weekday");
          rd_list (&rd, "demand.hourly", key, p->hourly[k][w], 24, 0, 1000);
        }
    }
  p->per_day = rd_num (&rd, "demand", "requests_per_day", 0, 1e9);
  p->mean_straight = rd_num (&rd, "demand", "mean_straight_m", 100, 1e5);
  p->weather = rd_num (&rd, "demand", "weather_multiplier", 0, 100);
  rd_list (&rd, "demand", "day_factors", p->day_factors, 7, 0, 100);
  p->night_boost = rd_num (&rd, "demand", "weekend_night_boost", 0, 100);

  /* districts and depots, in file order */
  gsize ng = 0;
  g_auto(GStrv) groups = g_key_file_get_groups (kf, &ng);
  GArray *ds = g_array_new (FALSE, TRUE, sizeof (District));
  GArray *dp = g_array_new (FALSE, TRUE, sizeof (DepotP));
  for (gsize i = 0; i < ng && !rd.err; i++)
    {
      const char *g = groups[i];
      if (g_str_has_prefix (g, "district:"))
        {
          District d = { 0 };
          d.key = g_strdup (g + 9);
          d.name = rd_str (&rd, g, "name");
          g_autofree char *kind = rd_str (&rd, g, "kind");
          if (!rd.err && !ft_zone_kind_from_name (kind, &d.kind))
            fail (&rd, g, "kind", "\"%s\" is not a zone kind", kind);
          d.x = rd_num (&rd, g, "x_m", 0, p->W);
          d.y = rd_num (&rd, g, "y_m", 0, p->H);
          d.r = rd_num (&rd, g, "radius_m", 0, 1e5);
          g_array_append_val (ds, d);
        }
      else if (g_str_has_prefix (g, "depot:"))
        {
          DepotP d = { 0 };
          d.key = g_strdup (g + 6);
          d.name = rd_str (&rd, g, "name");
          d.x = rd_num (&rd, g, "x_m", 0, p->W);
          d.y = rd_num (&rd, g, "y_m", 0, p->H);
          d.chargers = (guint) rd_num (&rd, g, "chargers", 0, 1e6);
          d.stock = (guint) rd_num (&rd, g, "pack_stock", 0, 1e6);
          g_array_append_val (dp, d);
        }
    }
  p->n_districts = ds->len;
  p->districts = (District *) g_array_free (ds, FALSE);
  p->n_depots = dp->len;
  p->depots = (DepotP *) g_array_free (dp, FALSE);
  p->park_key = rd_str (&rd, "geofences", "no_parking_district");
  p->park_r = rd_num (&rd, "geofences", "park_radius_m", 10, 1e5);
  p->slow_key = rd_str (&rd, "geofences", "slow_district");
  p->slow_r = rd_num (&rd, "geofences", "slow_radius_m", 10, 1e5);
  p->slow_kph = rd_num (&rd, "geofences", "slow_speed_kph", 1, 100);
  p->op_margin = rd_num (&rd, "geofences", "operating_margin_m", 0, 1e5);
  p->op_cut = rd_num (&rd, "geofences", "operating_corner_cut_m", 0, MIN (p->W, p->H) / 2);
  if (!rd.err && p->n_depots == 0)
    fail (&rd, "depot:*", "-", "at least one [depot:NAME] group is needed");
  gboolean park_found = FALSE, slow_found = FALSE;
  for (guint i = 0; i < p->n_districts; i++)
    {
      park_found |= strcmp (p->districts[i].key, p->park_key) == 0;
      slow_found |= strcmp (p->districts[i].key, p->slow_key) == 0;
    }
  if (!rd.err && !park_found)
    fail (&rd, "geofences", "no_parking_district", "no [district:%s] group", p->park_key);
  if (!rd.err && !slow_found)
    fail (&rd, "geofences", "slow_district", "no [district:%s] group", p->slow_key);
  if (rd.err)
    {
      g_propagate_error (error, rd.err);
      return FALSE;
    }
  return TRUE;
}

/* ---- generation ------------------------------------------------------- */

typedef struct {
  guint64 s;
} Rng;

static guint64
rng_next (Rng *r)
{
  guint64 z = (r->s += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static double
rng_uniform (Rng *r)   /* [0, 1) */
{
  return (rng_next (r) >> 11) * (1.0 / 9007199254740992.0);
}

static double
river_y (const Params *p, double x)
{
  return p->river_base + p->river_amp * sin (2 * G_PI * x / p->river_wl + p->river_phase);
}

/* TRUE if the segment touches the water or has its ends on opposite banks. */
static gboolean
segment_crosses_river (const Params *p, double x1, double y1, double x2, double y2)
{
  double s1 = y1 - river_y (p, x1), s2 = y2 - river_y (p, x2);
  if ((s1 < 0) != (s2 < 0))
    return TRUE;
  for (int k = 0; k <= 16; k++)
    {
      double t = k / 16.0, x = x1 + t * (x2 - x1), y = y1 + t * (y2 - y1);
      if (fabs (y - river_y (p, x)) < p->river_w / 2)
        return TRUE;
    }
  return FALSE;
}

typedef struct {
  guint32 a, b;
  guint8  cls;
  gboolean alive;
} GEdge;

static FtMultiPolygon *
circle_mp (const FtProj *pr, double cx, double cy, double r, guint n)
{
  g_autofree FtLatLon *pts = g_new (FtLatLon, n);
  for (guint i = 0; i < n; i++)
    {
      double a = 2 * G_PI * i / n;
      pts[i] = ft_proj_to_ll (pr, cx + r * cos (a), cy + r * sin (a));
    }
  FtMultiPolygon *mp = ft_multipolygon_new ();
  ft_multipolygon_add_ring (mp, pts, n);
  return mp;
}

static const District *
find_district (const Params *p, const char *key)
{
  for (guint i = 0; i < p->n_districts; i++)
    if (strcmp (p->districts[i].key, key) == 0)
      return &p->districts[i];
  return NULL;
}

static void
build_streets (FtCity *c, const Params *p, const FtProj *pr)
{
  Rng rng = { ft_mix64 (p->seed ^ G_GUINT64_CONSTANT (0x5eed0001)) };
  guint nx = (guint) floor (p->W / p->block) + 1, ny = (guint) floor (p->H / p->block) + 1;
  guint n = nx * ny;
  g_autofree double *X = g_new (double, n), *Y = g_new (double, n);
  g_autofree gboolean *alive = g_new (gboolean, n);
  for (guint j = 0; j < ny; j++)
    for (guint i = 0; i < nx; i++)
      {
        guint v = j * nx + i;
        double jx = (rng_uniform (&rng) * 2 - 1) * p->jitter;
        double jy = (rng_uniform (&rng) * 2 - 1) * p->jitter;
        if (i % p->arterial_every == 0) jx *= 0.2;
        if (j % p->arterial_every == 0) jy *= 0.2;
        if (i == 0 || i == nx - 1) jx = 0;
        if (j == 0 || j == ny - 1) jy = 0;
        X[v] = i * p->block + jx;
        Y[v] = j * p->block + jy;
        alive[v] = fabs (Y[v] - river_y (p, X[v])) >= p->river_w / 2 + 15;
      }
  g_autoptr(GArray) edges = g_array_new (FALSE, FALSE, sizeof (GEdge));
#define CLS_OF_LINE(k) ((k) % p->arterial_every == 0 ? FT_ROAD_ARTERIAL : \
                        (k) % p->secondary_every == 0 ? FT_ROAD_SECONDARY : FT_ROAD_RESIDENTIAL)
  for (guint j = 0; j < ny; j++)
    for (guint i = 0; i + 1 < nx; i++)
      {
        GEdge e = { j * nx + i, j * nx + i + 1, (guint8) CLS_OF_LINE (j), TRUE };
        g_array_append_val (edges, e);
      }
  for (guint i = 0; i < nx; i++)
    for (guint j = 0; j + 1 < ny; j++)
      {
        GEdge e = { j * nx + i, (j + 1) * nx + i, (guint8) CLS_OF_LINE (i), TRUE };
        g_array_append_val (edges, e);
      }
#undef CLS_OF_LINE
  if (p->radials)
    {
      int ci = (int) lround (p->rcx / p->block), cj = (int) lround (p->rcy / p->block);
      const int dirs[4][2] = { { 1, 1 }, { -1, 1 }, { -1, -1 }, { 1, -1 } };
      for (int d = 0; d < 4; d++)
        for (int k = 0; ; k++)
          {
            int i0 = ci + k * dirs[d][0], j0 = cj + k * dirs[d][1];
            int i1 = i0 + dirs[d][0], j1 = j0 + dirs[d][1];
            if (i1 < 0 || j1 < 0 || i1 >= (int) nx || j1 >= (int) ny || i0 < 0 || j0 < 0 ||
                i0 >= (int) nx || j0 >= (int) ny)
              break;
            GEdge e = { (guint32) (j0 * (int) nx + i0), (guint32) (j1 * (int) nx + i1), FT_ROAD_ARTERIAL, TRUE };
            g_array_append_val (edges, e);
          }
    }
  /* water: drop edges touching dead nodes or crossing the river */
  for (guint k = 0; k < edges->len; k++)
    {
      GEdge *e = &g_array_index (edges, GEdge, k);
      if (!alive[e->a] || !alive[e->b] || segment_crosses_river (p, X[e->a], Y[e->a], X[e->b], Y[e->b]))
        e->alive = FALSE;
    }
  /* bridges: on the grid column nearest each x, join the last node south of
   * the river to the first node north of it */
  for (gsize b = 0; b < p->n_bridges; b++)
    {
      guint i = (guint) CLAMP (lround (p->bridges[b] / p->block), 0, (long) nx - 1);
      int south = -1, north = -1;
      for (guint j = 0; j < ny; j++)
        {
          guint v = j * nx + i;
          if (!alive[v])
            continue;
          if (Y[v] < river_y (p, X[v]))
            south = (int) v;
          else if (north < 0)
            north = (int) v;
        }
      if (south >= 0 && north >= 0)
        {
          GEdge e = { (guint32) south, (guint32) north, FT_ROAD_BRIDGE, TRUE };
          g_array_append_val (edges, e);
        }
    }
  /* parks: streets inside park districts become paths */
  for (guint k = 0; k < edges->len; k++)
    {
      GEdge *e = &g_array_index (edges, GEdge, k);
      for (guint d = 0; d < p->n_districts; d++)
        {
          const District *ds = &p->districts[d];
          if (ds->kind != FT_ZONE_PARK || e->cls == FT_ROAD_BRIDGE)
            continue;
          if (hypot (X[e->a] - ds->x, Y[e->a] - ds->y) < ds->r &&
              hypot (X[e->b] - ds->x, Y[e->b] - ds->y) < ds->r)
            e->cls = FT_ROAD_PATH;
        }
    }
  /* vary the blocks: remove some residential segments, keeping degree >= 2 */
  g_autofree guint *deg = g_new0 (guint, n);
  for (guint k = 0; k < edges->len; k++)
    {
      GEdge *e = &g_array_index (edges, GEdge, k);
      if (e->alive)
        deg[e->a]++, deg[e->b]++;
    }
  g_autoptr(GArray) removed = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint k = 0; k < edges->len; k++)
    {
      GEdge *e = &g_array_index (edges, GEdge, k);
      double u = rng_uniform (&rng);
      if (e->alive && e->cls == FT_ROAD_RESIDENTIAL && u < p->removed_share &&
          deg[e->a] > 2 && deg[e->b] > 2)
        {
          e->alive = FALSE;
          deg[e->a]--, deg[e->b]--;
          g_array_append_val (removed, k);
        }
    }
  /* connectivity: put back removed segments that join components, then keep
   * only the largest component */
  g_autofree guint32 *parent = g_new (guint32, n);
  for (guint v = 0; v < n; v++)
    parent[v] = v;
#define FIND(x) ({ guint32 _x = (x); while (parent[_x] != _x) _x = parent[_x] = parent[parent[_x]]; _x; })
  for (guint k = 0; k < edges->len; k++)
    {
      GEdge *e = &g_array_index (edges, GEdge, k);
      if (e->alive)
        {
          guint32 a = FIND (e->a), b = FIND (e->b);
          if (a != b)
            parent[MAX (a, b)] = MIN (a, b);
        }
    }
  for (guint r = 0; r < removed->len; r++)
    {
      GEdge *e = &g_array_index (edges, GEdge, g_array_index (removed, guint, r));
      guint32 a = FIND (e->a), b = FIND (e->b);
      if (a != b)
        {
          e->alive = TRUE;
          parent[MAX (a, b)] = MIN (a, b);
        }
    }
  g_autofree guint *csize = g_new0 (guint, n);
  guint32 best = 0;
  for (guint v = 0; v < n; v++)
    if (alive[v])
      {
        guint32 r = FIND (v);
        if (++csize[r] > csize[best])
          best = r;
      }
  g_autofree guint32 *newidx = g_new (guint32, n);
  g_autoptr(GArray) nodes = g_array_new (FALSE, FALSE, sizeof (FtLatLon));
  for (guint v = 0; v < n; v++)
    {
      if (alive[v] && FIND (v) == best)
        {
          newidx[v] = nodes->len;
          FtLatLon ll = ft_proj_to_ll (pr, X[v], Y[v]);
          g_array_append_val (nodes, ll);
        }
      else
        newidx[v] = G_MAXUINT32;
    }
#undef FIND
  g_autoptr(GArray) streets = g_array_new (FALSE, FALSE, sizeof (FtStreet));
  for (guint k = 0; k < edges->len; k++)
    {
      GEdge *e = &g_array_index (edges, GEdge, k);
      if (!e->alive || newidx[e->a] == G_MAXUINT32 || newidx[e->b] == G_MAXUINT32)
        continue;
      FtStreet s = { newidx[e->a], newidx[e->b], 0, e->cls, 0 };
      FtLatLon a = g_array_index (nodes, FtLatLon, s.from), b = g_array_index (nodes, FtLatLon, s.to);
      s.length_m = (float) ft_city_haversine_m (a, b);
      g_array_append_val (streets, s);
    }
  ft_road_graph_build (&c->graph, (FtLatLon *) nodes->data, nodes->len,
                       (FtStreet *) streets->data, streets->len);
}

/* Share of a rectangle that is land (not river), by sampling. */
static double
land_share (const Params *p, double x0, double y0, double x1, double y1)
{
  guint land = 0, total = 0;
  for (guint a = 0; a < 20; a++)
    for (guint b = 0; b < 20; b++)
      {
        double x = x0 + (a + 0.5) / 20 * (x1 - x0), y = y0 + (b + 0.5) / 20 * (y1 - y0);
        total++;
        if (fabs (y - river_y (p, x)) >= p->river_w / 2)
          land++;
      }
  return (double) land / total;
}

static void
build_zones (FtCity *c, const Params *p, const FtProj *pr, double *land_km2)
{
  guint nz = p->zcols * p->zrows;
  c->n_zones = nz;
  c->zones = g_new0 (FtZone, nz);
  double zw = p->W / p->zcols, zh = p->H / p->zrows;
  g_autofree int *dist_of = g_new (int, nz);
  for (guint z = 0; z < nz; z++)
    dist_of[z] = -1;
  /* district centres first, then radii, earlier districts winning */
  for (guint d = 0; d < p->n_districts; d++)
    {
      guint zc = (guint) MIN (p->districts[d].x / zw, p->zcols - 1);
      guint zr = (guint) MIN (p->districts[d].y / zh, p->zrows - 1);
      if (dist_of[zr * p->zcols + zc] < 0)
        dist_of[zr * p->zcols + zc] = (int) d;
    }
  for (guint d = 0; d < p->n_districts; d++)
    for (guint z = 0; z < nz; z++)
      {
        double cx = (z % p->zcols + 0.5) * zw, cy = (z / p->zcols + 0.5) * zh;
        if (dist_of[z] < 0 && hypot (cx - p->districts[d].x, cy - p->districts[d].y) <= p->districts[d].r)
          dist_of[z] = (int) d;
      }
  g_autofree guint *serial = g_new0 (guint, p->n_districts);
  for (guint z = 0; z < nz; z++)
    {
      guint col = z % p->zcols, row = z / p->zcols;
      double x0 = col * zw, y0 = row * zh, x1 = x0 + zw, y1 = y0 + zh;
      FtLatLon ring[4] = { ft_proj_to_ll (pr, x0, y0), ft_proj_to_ll (pr, x1, y0),
                           ft_proj_to_ll (pr, x1, y1), ft_proj_to_ll (pr, x0, y1) };
      FtZone *zone = &c->zones[z];
      zone->id = g_strdup_printf ("Z%02u", z + 1);
      char cell[8];
      g_snprintf (cell, sizeof cell, "%c%u", 'A' + (char) MIN (col, 25u), row + 1);
      if (dist_of[z] >= 0)
        {
          const District *d = &p->districts[dist_of[z]];
          zone->kind = d->kind;
          guint s = ++serial[dist_of[z]];
          zone->name = s == 1 ? g_strdup (d->name) : g_strdup_printf ("%s %u", d->name, s);
        }
      else
        {
          zone->kind = FT_ZONE_RESIDENTIAL;
          zone->name = g_strdup_printf ("Residential %s", cell);
        }
      zone->area = ft_multipolygon_new ();
      ft_multipolygon_add_ring (zone->area, ring, 4);
      zone->centroid = ft_multipolygon_centroid (zone->area);
      zone->area_km2 = ft_multipolygon_area_m2 (zone->area) / 1e6;
      zone->pricing_multiplier = p->pricing[zone->kind];
      land_km2[z] = zw * zh / 1e6 * land_share (p, x0, y0, x1, y1);
    }
}

static double
expected_trip (const FtCity *c, const double *band_w, const double *attr_area,
               const double *dmat, double L, double *dest_out)
{
  guint nz = c->n_zones;
  double num = 0, den = 0;
  for (guint b = 0; b < FT_DEMAND_N_BANDS; b++)
    for (guint i = 0; i < nz; i++)
      {
        double s = 0, sd = 0;
        for (guint j = 0; j < nz; j++)
          {
            double w = attr_area[b * nz + j] * exp (-dmat[i * nz + j] / L);
            s += w;
            sd += w * dmat[i * nz + j];
            if (dest_out)
              dest_out[((gsize) b * nz + i) * nz + j] = w;
          }
        if (s <= 0)
          continue;
        if (dest_out)
          for (guint j = 0; j < nz; j++)
            dest_out[((gsize) b * nz + i) * nz + j] /= s;
        num += band_w[b * nz + i] * sd / s;
        den += band_w[b * nz + i];
      }
  return den > 0 ? num / den : 0;
}

static void
build_demand (FtCity *c, const Params *p, const double *land_km2)
{
  guint nz = c->n_zones;
  FtDemandProfile *d = &c->demand;
  d->n_zones = nz;
  d->rate = g_new0 (double, nz * 168);
  d->dest = g_new0 (double, FT_DEMAND_N_BANDS * nz * nz);
  d->weather_multiplier = p->weather;
  double total = 0;
  for (guint z = 0; z < nz; z++)
    {
      FtZoneKind k = c->zones[z].kind;
      for (guint h = 0; h < 168; h++)
        {
          guint day = h / 24, hh = h % 24;
          double r = p->hourly[k][day >= 5 ? 1 : 0][hh] * p->day_factors[day] * p->prod[k] * land_km2[z];
          if (k == FT_ZONE_NIGHTLIFE &&
              (((day == 4 || day == 5) && hh >= 20) || ((day == 5 || day == 6) && hh < 4)))
            r *= p->night_boost;
          d->rate[z * 168 + h] = r;
          total += r;
        }
    }
  double scale = total > 0 ? p->per_day * 7 / total : 0;
  for (guint i = 0; i < nz * 168; i++)
    d->rate[i] *= scale;

  /* gravity model: attraction(kind, band) x land area x exp(-distance / L),
   * with L chosen so the expected straight-line trip is mean_straight_m */
  g_autofree double *band_w = g_new0 (double, FT_DEMAND_N_BANDS * nz);
  g_autofree double *attr_area = g_new0 (double, FT_DEMAND_N_BANDS * nz);
  g_autofree double *dmat = g_new0 (double, nz * nz);
  for (guint z = 0; z < nz; z++)
    {
      for (guint h = 0; h < 168; h++)
        band_w[ft_demand_band_of_hour (h) * nz + z] += d->rate[z * 168 + h];
      for (guint b = 0; b < FT_DEMAND_N_BANDS; b++)
        attr_area[b * nz + z] = p->attr[c->zones[z].kind][b] * land_km2[z];
      for (guint j = 0; j < nz; j++)
        dmat[z * nz + j] = z == j ? 0.5214 * sqrt (c->zones[z].area_km2 * 1e6)
                                  : ft_city_haversine_m (c->zones[z].centroid, c->zones[j].centroid);
    }
  double lo = 50, hi = 1e6;
  if (expected_trip (c, band_w, attr_area, dmat, hi, NULL) <= p->mean_straight)
    lo = hi;
  else
    for (int it = 0; it < 60; it++)
      {
        double mid = sqrt (lo * hi);
        if (expected_trip (c, band_w, attr_area, dmat, mid, NULL) < p->mean_straight)
          lo = mid;
        else
          hi = mid;
      }
  d->mean_trip_m = expected_trip (c, band_w, attr_area, dmat, lo, d->dest);
}

void
ft_demand_build_default (FtCity *c, const double *weight, double per_day, double mean_straight_m)
{
  Params p = { 0 };
  const char *ini = ft_city_demo_params ();
  gboolean ok = read_params (&p, ini, strlen (ini), "demo-city.ini (built in)", NULL);
  g_assert (ok);
  p.per_day = per_day;
  p.mean_straight = mean_straight_m;
  ft_demand_profile_clear (&c->demand);
  build_demand (c, &p, weight);
  params_clear (&p);
}

static FtCity *
generate (const Params *p)
{
  FtProj pr;
  ft_proj_init (&pr, (FtLatLon) { p->lat0, p->lon0 });
  g_autoptr(FtCity) c = g_new0 (FtCity, 1);
  c->id = g_strdup (p->id);
  c->name = g_strdup (p->name);
  memcpy (c->currency, p->currency, 4);
  c->utc_offset_min = p->utc_offset_min;
  c->center = ft_proj_to_ll (&pr, p->W / 2, p->H / 2);

  build_streets (c, p, &pr);
  g_autofree double *land_km2 = g_new0 (double, p->zcols * p->zrows);
  build_zones (c, p, &pr, land_km2);
  build_demand (c, p, land_km2);

  /* operating area: city rectangle grown by the margin, corners cut */
  double m = p->op_margin, k = p->op_cut;
  double ox0 = -m, oy0 = -m, ox1 = p->W + m, oy1 = p->H + m;
  FtLatLon oct[8] = {
    ft_proj_to_ll (&pr, ox0 + k, oy0), ft_proj_to_ll (&pr, ox1 - k, oy0),
    ft_proj_to_ll (&pr, ox1, oy0 + k), ft_proj_to_ll (&pr, ox1, oy1 - k),
    ft_proj_to_ll (&pr, ox1 - k, oy1), ft_proj_to_ll (&pr, ox0 + k, oy1),
    ft_proj_to_ll (&pr, ox0, oy1 - k), ft_proj_to_ll (&pr, ox0, oy0 + k),
  };
  c->operating_area = ft_multipolygon_new ();
  ft_multipolygon_add_ring (c->operating_area, oct, 8);

  /* geofences: first listed wins */
  const District *park = find_district (p, p->park_key), *slow = find_district (p, p->slow_key);
  c->geofences = ft_geofences_new ();
  FtZoneRules no_park = ft_zone_rules_all_allowed ();
  no_park.ride_end_allowed = FALSE;
  g_autofree char *park_id = g_strdup_printf ("no-parking-%s", park->key);
  g_autofree char *park_name = g_strdup_printf ("%s (no parking)", park->name);
  ft_geofences_add (c->geofences, park_id, park_name,
                    circle_mp (&pr, park->x, park->y, p->park_r, 32), &no_park);
  FtZoneRules slow_r = ft_zone_rules_all_allowed ();
  slow_r.maximum_speed_kph = p->slow_kph;
  g_autofree char *slow_id = g_strdup_printf ("slow-%s", slow->key);
  g_autofree char *slow_name = g_strdup_printf ("%s (slow zone, %g km/h)", slow->name, p->slow_kph);
  ft_geofences_add (c->geofences, slow_id, slow_name,
                    circle_mp (&pr, slow->x, slow->y, p->slow_r, 32), &slow_r);
  FtZoneRules inside = ft_zone_rules_all_allowed ();
  ft_geofences_add (c->geofences, "operating-area", "Operating area",
                    ft_multipolygon_copy (c->operating_area), &inside);
  FtZoneRules outside = ft_zone_rules_all_allowed ();
  outside.ride_start_allowed = FALSE;
  outside.ride_end_allowed = FALSE;
  ft_geofences_set_global_rules (c->geofences, &outside);

  /* depots at the nearest street crossing */
  ft_city_build_index (c);
  c->n_depots = p->n_depots;
  c->depots = g_new0 (FtDepot, MAX (p->n_depots, 1));
  for (guint i = 0; i < p->n_depots; i++)
    {
      FtLatLon want = ft_proj_to_ll (&pr, p->depots[i].x, p->depots[i].y);
      c->depots[i].id = g_strdup_printf ("depot-%s", p->depots[i].key);
      c->depots[i].name = g_strdup (p->depots[i].name);
      c->depots[i].pos = c->graph.nodes[ft_city_nearest_node (c, want)];
      c->depots[i].chargers = p->depots[i].chargers;
      c->depots[i].pack_stock = p->depots[i].stock;
    }

  /* drawing: the river as an area, and the park districts */
  guint nr = (guint) ((p->W + 600) / 50) + 1;
  g_autofree FtLatLon *band = g_new (FtLatLon, 2 * nr);
  for (guint i = 0; i < nr; i++)
    {
      double x = -300 + i * 50.0;
      band[i] = ft_proj_to_ll (&pr, x, river_y (p, x) + p->river_w / 2);
      band[2 * nr - 1 - i] = ft_proj_to_ll (&pr, x, river_y (p, x) - p->river_w / 2);
    }
  c->water = ft_multipolygon_new ();
  ft_multipolygon_add_ring (c->water, band, 2 * nr);
  c->parks = ft_multipolygon_new ();
  for (guint i = 0; i < p->n_districts; i++)
    if (p->districts[i].kind == FT_ZONE_PARK)
      {
        g_autoptr(FtMultiPolygon) circ = circle_mp (&pr, p->districts[i].x, p->districts[i].y,
                                                    p->districts[i].r, 32);
        ft_multipolygon_add_ring (c->parks, circ->polys[0].rings[0].pts, circ->polys[0].rings[0].n);
      }

  /* bbox: operating area and streets */
  FtBBox bb = c->operating_area->bbox;
  for (guint v = 0; v < c->graph.n_nodes; v++)
    ft_bbox_extend (&bb, c->graph.nodes[v]);
  c->bbox = bb;
  return g_steal_pointer (&c);
}

FtCity *
ft_city_generate_demo_from_data (const char *ini, gsize len, const char *where, GError **error)
{
  g_return_val_if_fail (ini != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  Params p = { 0 };
  if (!read_params (&p, ini, len, where ? where : "demo city parameters", error))
    {
      params_clear (&p);
      return NULL;
    }
  FtCity *c = generate (&p);
  params_clear (&p);
  g_autoptr(GError) local = NULL;
  if (!ft_city_check (c, &local))
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_INVALID, "%s: generated city is invalid: %s",
                   where ? where : "demo city parameters", local->message);
      ft_city_free (c);
      return NULL;
    }
  return c;
}

FtCity *
ft_city_generate_demo (const char *params_path, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (params_path == NULL)
    {
      const char *ini = ft_city_demo_params ();
      return ft_city_generate_demo_from_data (ini, strlen (ini), "demo-city.ini (built in)", error);
    }
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) local = NULL;
  if (!ft_file_read (params_path, FT_FILE_MAX_TEXT, &text, &len, &local))
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO, "%s", local->message);
      return NULL;
    }
  return ft_city_generate_demo_from_data (text, len, params_path, error);
}

const char *
ft_city_demo_params (void)
{
  return ft_demo_city_ini;
}

FtCity *
ft_city_new_demo (void)
{
  g_autoptr(GError) error = NULL;
  FtCity *c = ft_city_generate_demo (NULL, &error);
  if (c == NULL)
    g_error ("the built-in Demo City parameters are broken: %s", error->message);
  return c;
}
