/* ft-wall-draw.c — draws an FtWallScene with SDL: cached MBTiles textures,
 * vehicles as one batch per layer (SDL_RenderGeometry quads on a GPU, one
 * SDL_RenderFillRects call on SDL's software renderer), vans with their legs,
 * and cairo-drawn KPI tiles, ticker, charts and messages uploaded as
 * textures. Works the same on a window's renderer and on a software
 * renderer over a surface (headless export).
 */
#include "ft-wall-draw.h"
#include "ft-tiles.h"
#include "ft-file.h"

#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <string.h>

#define MAX_CACHED_TILES 768
#define TILE_MISSING ((SDL_Texture *) GINT_TO_POINTER (1))

struct _FtWallDraw {
  SDL_Renderer   *r;
  FtTiles        *tiles;
  int             tmin, tmax;
  GHashTable     *tex;            /* guint64 key → SDL_Texture* or TILE_MISSING */
  GHashTable     *notices;        /* key → message */
  gboolean        notices_dirty;
  SDL_Vertex     *verts;
  int            *idx;
  gsize           cap;            /* quads the arrays hold */
  /* overlay textures */
  SDL_Texture    *map;            /* the tiles of the current view, drawn once */
  FtWallView      map_view;
  int             map_w, map_h;
  gboolean        map_valid;
  SDL_Texture    *top, *ticker, *label, *notice, *charts;
  int             top_w, top_h, ticker_w, ticker_h, label_w, label_h, notice_w, notice_h, charts_w, charts_h;
  int             bar_h, tick_h;
  guint           interval_ms;
  gint64          last_overlay_us;
  guint64         ticker_serial;
  gboolean        ticker_valid;
  char           *shown_notice;
  char           *footer;
  double          ticker_px;
  gboolean        rect_markers;   /* vehicles as filled rectangles (software renderer) */
  SDL_FRect      *rects;
  gsize           rect_cap;
  FtWallViewKind  last_kind;
  int             last_w, last_h;
  FtWallDrawStats stats;
};

typedef struct { guint8 r, g, b; } Rgb;

static const Rgb layer_rgb[FT_WALL_N_LAYERS] = {
  [FT_WALL_LAYER_AVAILABLE] = {  34, 160,  70 },
  [FT_WALL_LAYER_BUSY]      = {  30, 100, 230 },
  [FT_WALL_LAYER_LOW]       = { 240, 150,  20 },
  [FT_WALL_LAYER_DOWN]      = { 215,  35,  45 },
};
static const char *layer_label[FT_WALL_N_LAYERS] = { "available", "reserved / on trip", "low battery", "fault / down" };
/* drawn in this order: problems on top */
static const FtWallLayer layer_order[FT_WALL_N_LAYERS] = {
  FT_WALL_LAYER_AVAILABLE, FT_WALL_LAYER_BUSY, FT_WALL_LAYER_LOW, FT_WALL_LAYER_DOWN };
static const Rgb van_rgb = { 140, 60, 200 };
static const Rgb land_rgb = { 242, 239, 233 };

FtWallDraw *
ft_wall_draw_new (SDL_Renderer *renderer)
{
  g_return_val_if_fail (renderer != NULL, NULL);
  FtWallDraw *d = g_new0 (FtWallDraw, 1);
  d->r = renderer;
  d->tex = g_hash_table_new (g_int64_hash, g_int64_equal);
  d->notices = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  d->interval_ms = 250;
  d->last_kind = FT_WALL_N_VIEWS;
  /* SDL's software renderer rasterises every triangle of a geometry batch
   * alone (bounding box, edge tests, colour per pixel), while it fills a
   * batch of rectangles row by row: the same square markers cost a fraction
   * there. A GPU takes quads as cheaply. FT_WALL_MARKERS=rect|quad
   * overrides (benchmarks, tests). */
  SDL_RendererInfo info;
  const char *m = g_getenv ("FT_WALL_MARKERS");
  d->rect_markers = m ? g_str_equal (m, "rect")
                      : SDL_GetRendererInfo (renderer, &info) == 0 && (info.flags & SDL_RENDERER_SOFTWARE);
  return d;
}

static void
clear_tiles (FtWallDraw *d)
{
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, d->tex);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      if (v != TILE_MISSING)
        SDL_DestroyTexture (v);
      g_free (k);
    }
  g_hash_table_remove_all (d->tex);
}

void
ft_wall_draw_free (FtWallDraw *d)
{
  if (d == NULL)
    return;
  clear_tiles (d);
  g_hash_table_unref (d->tex);
  g_hash_table_unref (d->notices);
  if (d->tiles)
    ft_tiles_free (d->tiles);
  g_free (d->verts);
  g_free (d->idx);
  g_free (d->rects);
  SDL_Texture *texs[] = { d->map, d->top, d->ticker, d->label, d->notice, d->charts };
  for (guint i = 0; i < G_N_ELEMENTS (texs); i++)
    if (texs[i])
      SDL_DestroyTexture (texs[i]);
  g_free (d->shown_notice);
  g_free (d->footer);
  g_free (d);
}

void
ft_wall_draw_set_notice (FtWallDraw *d, const char *key, const char *message)
{
  g_return_if_fail (d != NULL && key != NULL);
  const char *old = g_hash_table_lookup (d->notices, key);
  if (g_strcmp0 (old, message) == 0)
    return;
  if (message)
    g_hash_table_insert (d->notices, g_strdup (key), g_strdup (message));
  else
    g_hash_table_remove (d->notices, key);
  d->notices_dirty = TRUE;
}

char *
ft_wall_draw_dup_notices (FtWallDraw *d)
{
  g_return_val_if_fail (d != NULL, NULL);
  if (g_hash_table_size (d->notices) == 0)
    return NULL;
  GList *keys = g_list_sort (g_hash_table_get_keys (d->notices), (GCompareFunc) strcmp);
  GString *s = g_string_new (NULL);
  for (GList *l = keys; l; l = l->next)
    g_string_append_printf (s, "%s%s", s->len ? "\n" : "", (char *) g_hash_table_lookup (d->notices, l->data));
  g_list_free (keys);
  return g_string_free (s, FALSE);
}

void
ft_wall_draw_set_overlay_interval (FtWallDraw *d, guint interval_ms)
{
  d->interval_ms = interval_ms;
}

void
ft_wall_draw_set_footer (FtWallDraw *d, const char *text)
{
  if (g_strcmp0 (d->footer, text) == 0)
    return;
  g_free (d->footer);
  d->footer = g_strdup (text);
  d->last_overlay_us = 0;
}

gboolean
ft_wall_draw_set_tiles (FtWallDraw *d, const char *mbtiles_path, GError **error)
{
  g_return_val_if_fail (d != NULL, FALSE);
  clear_tiles (d);
  g_clear_pointer (&d->tiles, ft_tiles_free);
  d->map_valid = FALSE;
  if (mbtiles_path == NULL)
    {
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_SOURCE,
                   "no map tiles for this city: pass --tiles FILE.mbtiles (bake them with `fleet-twin-cli tiles`)");
      ft_wall_draw_set_notice (d, "tiles", (*error)->message);
      return FALSE;
    }
  GError *local = NULL;
  d->tiles = ft_tiles_open (mbtiles_path, &local);
  if (d->tiles && ft_tiles_get_max_zoom (d->tiles) < 0)
    {
      g_set_error (&local, FT_WALL_ERROR, FT_WALL_ERROR_SOURCE, "map tiles “%s” hold no tiles", mbtiles_path);
      g_clear_pointer (&d->tiles, ft_tiles_free);
    }
  if (d->tiles == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("Map unavailable: %s", local->message);
      ft_wall_draw_set_notice (d, "tiles", msg);
      g_propagate_error (error, local);
      return FALSE;
    }
  d->tmin = ft_tiles_get_min_zoom (d->tiles);
  d->tmax = ft_tiles_get_max_zoom (d->tiles);
  ft_wall_draw_set_notice (d, "tiles", NULL);
  return TRUE;
}

/* ---- views ---------------------------------------------------------------- */

static double
fit_zoom (double ex, double ey, int w, int h)
{
  double zx = log2 (MAX (w, 1) / (MAX (ex, 1e-9) * 256.0));
  double zy = log2 (MAX (h, 1) / (MAX (ey, 1e-9) * 256.0));
  return CLAMP (MIN (zx, zy), 1.0, 19.0);
}

void
ft_wall_view_city (FtWallView *v, const FtWallScene *scene, int w, int h)
{
  memset (v, 0, sizeof *v);
  v->kind = FT_WALL_VIEW_CITY;
  g_strlcpy (v->title, "City", sizeof v->title);
  double x0, y0, x1, y1;
  if (!ft_wall_scene_extent (scene, &x0, &y0, &x1, &y1))
    {
      v->cx = v->cy = 0.5;
      v->zoom = 2;
      return;
    }
  v->cx = (x0 + x1) / 2;
  v->cy = (y0 + y1) / 2;
  /* the bars take the top and bottom of the screen: fit into what is left */
  v->zoom = fit_zoom ((x1 - x0) * 1.08, (y1 - y0) * 1.08, w, (int) (h * 0.80));
}

gboolean
ft_wall_view_district (FtWallView *v, const FtWallScene *scene, guint i, int w, int h)
{
  double mx[8], my[8];
  guint n = ft_wall_scene_districts (scene, mx, my, G_N_ELEMENTS (mx));
  ft_wall_view_city (v, scene, w, h);
  v->kind = FT_WALL_VIEW_DISTRICT;
  v->district = G_MAXUINT;
  if (n == 0)
    {
      g_strlcpy (v->title, "District", sizeof v->title);
      return FALSE;
    }
  i %= MIN (n, 4u);
  v->district = i;
  v->cx = mx[i];
  v->cy = my[i];
  v->zoom = MIN (v->zoom + 2.0, 19.0);
  FtLatLon c = ft_wall_unproject (mx[i], my[i]);
  g_snprintf (v->title, sizeof v->title, "District %u of %u  (%.3f, %.3f)", i + 1, MIN (n, 4u), c.lat, c.lon);
  return TRUE;
}

gboolean
ft_wall_view_settle (FtWallView *shown, const FtWallView *fresh, int w, int h)
{
  g_return_val_if_fail (shown != NULL && fresh != NULL, FALSE);
  if (shown->kind == fresh->kind && shown->kind < FT_WALL_N_VIEWS)
    {
      if (fresh->kind == FT_WALL_VIEW_CHARTS)
        return FALSE;
      if (fresh->kind == FT_WALL_VIEW_DISTRICT && (fresh->district != G_MAXUINT || shown->district != G_MAXUINT))
        {
          if (fresh->district == shown->district)
            return FALSE;
          *shown = *fresh;
          return TRUE;
        }
      /* within 0.05 zoom (3.5 %) and 1.5 % of the screen, the city view's
       * 4 % margins still hold every vehicle: keep the map as it is */
      double world = 256.0 * exp2 (fresh->zoom);
      if (fabs (fresh->zoom - shown->zoom) <= 0.05 && fabs (fresh->cx - shown->cx) * world <= 0.015 * w
          && fabs (fresh->cy - shown->cy) * world <= 0.015 * h)
        return FALSE;
    }
  *shown = *fresh;
  return TRUE;
}

void
ft_wall_view_charts (FtWallView *v)
{
  memset (v, 0, sizeof *v);
  v->kind = FT_WALL_VIEW_CHARTS;
  g_strlcpy (v->title, "KPI charts", sizeof v->title);
}

/* ---- tiles ------------------------------------------------------------------ */

typedef struct { const guint8 *p; gsize n, off; } PngReader;

static cairo_status_t
png_read_cb (void *closure, unsigned char *data, unsigned int len)
{
  PngReader *rd = closure;
  if (rd->off + len > rd->n)
    return CAIRO_STATUS_READ_ERROR;
  memcpy (data, rd->p + rd->off, len);
  rd->off += len;
  return CAIRO_STATUS_SUCCESS;
}

static SDL_Texture *
tile_texture (FtWallDraw *d, int z, int x, int y)
{
  guint64 key = ((guint64) z << 56) | ((guint64) (guint32) x << 28) | (guint64) (guint32) y;
  SDL_Texture *t = g_hash_table_lookup (d->tex, &key);
  if (t)
    return t;
  if (g_hash_table_size (d->tex) >= MAX_CACHED_TILES)
    clear_tiles (d);
  t = TILE_MISSING;
  g_autoptr (GBytes) png = ft_tiles_get (d->tiles, z, x, y);
  if (png)
    {
      gsize n;
      PngReader rd = { g_bytes_get_data (png, &n), 0, 0 };
      rd.n = n;
      cairo_surface_t *img = cairo_image_surface_create_from_png_stream (png_read_cb, &rd);
      if (cairo_surface_status (img) == CAIRO_STATUS_SUCCESS)
        {
          cairo_surface_flush (img);
          int w = cairo_image_surface_get_width (img), h = cairo_image_surface_get_height (img);
          gboolean alpha = cairo_image_surface_get_format (img) == CAIRO_FORMAT_ARGB32;
          SDL_Texture *tex = SDL_CreateTexture (d->r, alpha ? SDL_PIXELFORMAT_ARGB8888 : SDL_PIXELFORMAT_RGB888,
                                                SDL_TEXTUREACCESS_STATIC, w, h);
          if (tex)
            {
              SDL_UpdateTexture (tex, NULL, cairo_image_surface_get_data (img), cairo_image_surface_get_stride (img));
              SDL_SetTextureBlendMode (tex, alpha ? SDL_BLENDMODE_BLEND : SDL_BLENDMODE_NONE);
              t = tex;
            }
        }
      cairo_surface_destroy (img);
    }
  if (t == TILE_MISSING)
    d->stats.tiles_missing++;
  g_hash_table_insert (d->tex, g_memdup2 (&key, sizeof key), t);
  return t;
}

static void
draw_tiles (FtWallDraw *d, const FtWallView *v, int w, int h)
{
  if (d->tiles == NULL)
    return;
  int z = CLAMP ((int) lround (v->zoom), d->tmin, d->tmax);
  double world = 256.0 * exp2 (v->zoom);     /* screen px per Mercator unit */
  double n = exp2 (z);
  double ts = world / n;                     /* one tile on screen */
  double left = v->cx - (w / 2.0) / world, top = v->cy - (h / 2.0) / world;
  int x0 = (int) floor (left * n), y0 = (int) floor (top * n);
  int x1 = (int) floor ((left + w / world) * n), y1 = (int) floor ((top + h / world) * n);
  int lim = (1 << z) - 1;
  x0 = MAX (x0, 0); y0 = MAX (y0, 0); x1 = MIN (x1, lim); y1 = MIN (y1, lim);
  if ((gint64) (x1 - x0 + 1) * (y1 - y0 + 1) > 4096)
    return;   /* zoomed far out of the baked range: plain land */
  for (int ty = y0; ty <= y1; ty++)
    for (int tx = x0; tx <= x1; tx++)
      {
        SDL_Texture *t = tile_texture (d, z, tx, ty);
        if (t == TILE_MISSING)
          continue;
        double sx = (tx / n - left) * world, sy = (ty / n - top) * world;
        SDL_Rect dst = { (int) floor (sx), (int) floor (sy), 0, 0 };
        dst.w = (int) floor (sx + ts) - dst.x;
        dst.h = (int) floor (sy + ts) - dst.y;
        SDL_RenderCopy (d->r, t, NULL, &dst);
        d->stats.tiles_drawn++;
      }
}

/* The map layer: tiles scaled to the view's zoom cost a stretch blit each
 * on a software renderer, so they are drawn once per view into a target
 * texture and copied 1:1 on every frame after. */
static void
draw_map (FtWallDraw *d, const FtWallView *v, int w, int h)
{
  if (d->tiles == NULL)
    return;
  if (!SDL_RenderTargetSupported (d->r))
    {
      draw_tiles (d, v, w, h);
      return;
    }
  if (d->map_valid && d->map_w == w && d->map_h == h && d->map_view.cx == v->cx && d->map_view.cy == v->cy
      && d->map_view.zoom == v->zoom)
    {
      SDL_RenderCopy (d->r, d->map, NULL, NULL);
      return;
    }
  if (d->map == NULL || d->map_w != w || d->map_h != h)
    {
      if (d->map)
        SDL_DestroyTexture (d->map);
      d->map = SDL_CreateTexture (d->r, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_TARGET, w, h);
      d->map_w = w;
      d->map_h = h;
    }
  if (d->map == NULL || SDL_SetRenderTarget (d->r, d->map) != 0)
    {
      SDL_RenderClear (d->r);   /* the frame was not cleared under the map */
      draw_tiles (d, v, w, h);
      return;
    }
  SDL_SetTextureBlendMode (d->map, SDL_BLENDMODE_NONE);
  SDL_SetRenderDrawColor (d->r, land_rgb.r, land_rgb.g, land_rgb.b, 255);
  SDL_RenderClear (d->r);
  draw_tiles (d, v, w, h);
  SDL_SetRenderTarget (d->r, NULL);
  d->map_view = *v;
  d->map_valid = TRUE;
  d->stats.map_redrawn = TRUE;
  SDL_RenderCopy (d->r, d->map, NULL, NULL);
}

/* ---- vehicles and vans ---------------------------------------------------------- */

static void
ensure_quads (FtWallDraw *d, gsize n)
{
  if (n <= d->cap)
    return;
  gsize cap = MAX (n, d->cap * 2);
  d->verts = g_renew (SDL_Vertex, d->verts, cap * 4);
  d->idx = g_renew (int, d->idx, cap * 6);
  for (gsize i = d->cap; i < cap; i++)
    {
      int b = (int) (i * 4);
      int *q = d->idx + i * 6;
      q[0] = b; q[1] = b + 1; q[2] = b + 2; q[3] = b + 2; q[4] = b + 1; q[5] = b + 3;
    }
  d->cap = cap;
}

static inline void
put_quad (SDL_Vertex *v, float x, float y, float r, Rgb c)
{
  SDL_Color col = { c.r, c.g, c.b, 255 };
  v[0].position.x = x - r; v[0].position.y = y - r;
  v[1].position.x = x + r; v[1].position.y = y - r;
  v[2].position.x = x - r; v[2].position.y = y + r;
  v[3].position.x = x + r; v[3].position.y = y + r;
  for (int k = 0; k < 4; k++)
    {
      v[k].color = col;
      v[k].tex_coord.x = v[k].tex_coord.y = 0;
    }
}

static void
draw_vehicles (FtWallDraw *d, const FtWallScene *s, const FtWallView *v, int w, int h)
{
  guint n = s->vehicles->len;
  if (!d->rect_markers)
    ensure_quads (d, n);
  double world = 256.0 * exp2 (v->zoom);
  float r = (float) CLAMP (1.0 + (v->zoom - 12.0) * 0.8, 1.5, 6.0);
  float ox = (float) (w / 2.0 - v->cx * world), oy = (float) (h / 2.0 - v->cy * world);
  float fw = (float) world;
  const FtWallVehicle *vv = (const FtWallVehicle *) s->vehicles->data;
  if (d->rect_markers && d->rect_cap < n)
    {
      d->rect_cap = MAX (n, d->rect_cap * 2);
      d->rects = g_renew (SDL_FRect, d->rects, d->rect_cap);
    }
  /* one pass: each layer's markers go to their own stretch of the array
   * (counted first), then one batch per layer, problems drawn last */
  guint off[FT_WALL_N_LAYERS] = { 0 }, cnt[FT_WALL_N_LAYERS] = { 0 };
  for (guint i = 0; i < n; i++)
    if (vv[i].layer < FT_WALL_N_LAYERS)
      off[vv[i].layer]++;
  for (guint li = 0, sum = 0; li < FT_WALL_N_LAYERS; li++)
    {
      guint c = off[layer_order[li]];
      off[layer_order[li]] = sum;
      sum += c;
    }
  for (guint i = 0; i < n; i++)
    {
      float x = vv[i].mx * fw + ox, y = vv[i].my * fw + oy;
      guint l = vv[i].layer;
      if (l >= FT_WALL_N_LAYERS || x < -r || y < -r || x > w + r || y > h + r)
        continue;
      guint q = off[l] + cnt[l]++;
      if (d->rect_markers)
        d->rects[q] = (SDL_FRect) { x - r, y - r, 2 * r, 2 * r };
      else
        put_quad (d->verts + (gsize) q * 4, x, y, r, layer_rgb[l]);
    }
  for (guint li = 0; li < FT_WALL_N_LAYERS; li++)
    {
      FtWallLayer layer = layer_order[li];
      Rgb c = layer_rgb[layer];
      guint q = cnt[layer];
      if (q == 0)
        continue;
      if (d->rect_markers)
        {
          SDL_SetRenderDrawBlendMode (d->r, SDL_BLENDMODE_NONE);
          SDL_SetRenderDrawColor (d->r, c.r, c.g, c.b, 255);
          SDL_RenderFillRectsF (d->r, d->rects + off[layer], (int) q);
          d->stats.rect_calls++;
        }
      else
        {
          /* the index array repeats the same pattern for every quad */
          SDL_RenderGeometry (d->r, NULL, d->verts + (gsize) off[layer] * 4, (int) q * 4, d->idx, (int) q * 6);
          d->stats.geometry_calls++;
        }
      d->stats.vehicles_drawn += q;
    }

  /* vans: their current leg as a line, then the vans on top (one call) */
  guint nv = s->vans->len;
  if (nv == 0)
    return;
  const FtWallVan *vans = (const FtWallVan *) s->vans->data;
  SDL_SetRenderDrawColor (d->r, van_rgb.r, van_rgb.g, van_rgb.b, 255);
  for (guint i = 0; i < nv; i++)
    if (vans[i].has_target)
      {
        float x0 = vans[i].mx * fw + ox, y0 = vans[i].my * fw + oy;
        float x1 = vans[i].tx * fw + ox, y1 = vans[i].ty * fw + oy;
        for (int k = -1; k <= 1; k++)
          {
            SDL_RenderDrawLineF (d->r, x0 + k, y0, x1 + k, y1);
            SDL_RenderDrawLineF (d->r, x0, y0 + k, x1, y1 + k);
          }
      }
  guint q = 0;
  float vr = r + 4;
  Rgb white = { 255, 255, 255 };
  for (guint i = 0; i < nv; i++)
    {
      float x = vans[i].mx * fw + ox, y = vans[i].my * fw + oy;
      if (x < -vr || y < -vr || x > w + vr || y > h + vr)
        continue;
      ensure_quads (d, q + 4);   /* a van takes up to four quads */
      put_quad (d->verts + q++ * 4, x, y, vr + 1.5f, white);
      put_quad (d->verts + q++ * 4, x, y, vr, van_rgb);
      if (vans[i].has_target)
        {
          float tx = vans[i].tx * fw + ox, ty = vans[i].ty * fw + oy;
          put_quad (d->verts + q++ * 4, tx, ty, r + 2.5f, white);
          put_quad (d->verts + q++ * 4, tx, ty, r + 1.0f, van_rgb);
        }
      d->stats.vans_drawn++;
    }
  if (q)
    {
      SDL_RenderGeometry (d->r, NULL, d->verts, (int) q * 4, d->idx, (int) q * 6);
      d->stats.geometry_calls++;
    }
}

/* ---- cairo overlays -------------------------------------------------------------- */

static cairo_t *
overlay_begin (int w, int h, cairo_surface_t **surf)
{
  *surf = cairo_image_surface_create (CAIRO_FORMAT_RGB24, MAX (w, 1), MAX (h, 1));
  cairo_t *cr = cairo_create (*surf);
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  return cr;
}

/* Uploads the surface into *tex (re-created when the size changed). */
static void
overlay_end (FtWallDraw *d, cairo_t *cr, cairo_surface_t *surf, SDL_Texture **tex, int *tw, int *th)
{
  cairo_destroy (cr);
  cairo_surface_flush (surf);
  int w = cairo_image_surface_get_width (surf), h = cairo_image_surface_get_height (surf);
  if (*tex == NULL || *tw != w || *th != h)
    {
      if (*tex)
        SDL_DestroyTexture (*tex);
      *tex = SDL_CreateTexture (d->r, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING, w, h);
      *tw = w;
      *th = h;
      if (*tex)
        SDL_SetTextureBlendMode (*tex, SDL_BLENDMODE_NONE);
    }
  if (*tex)
    SDL_UpdateTexture (*tex, NULL, cairo_image_surface_get_data (surf), cairo_image_surface_get_stride (surf));
  cairo_surface_destroy (surf);
}

static void
set_rgb (cairo_t *cr, guint32 hex)
{
  cairo_set_source_rgb (cr, ((hex >> 16) & 255) / 255.0, ((hex >> 8) & 255) / 255.0, (hex & 255) / 255.0);
}

static void
text_at (cairo_t *cr, double x, double y, double size, gboolean bold, guint32 rgb, const char *text)
{
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
  set_rgb (cr, rgb);
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, text);
}

static double
text_width (cairo_t *cr, double size, gboolean bold, const char *text)
{
  cairo_text_extents_t e;
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
  cairo_text_extents (cr, text, &e);
  return e.x_advance;
}

static void
format_money (gint64 minor, const char *currency, char *buf, gsize len)
{
  gint64 units = minor / 100;
  char digits[32], grouped[48];
  g_snprintf (digits, sizeof digits, "%" G_GINT64_FORMAT, units < 0 ? -units : units);
  gsize n = strlen (digits), o = 0;
  for (gsize i = 0; i < n; i++)
    {
      if (i && (n - i) % 3 == 0)
        grouped[o++] = ',';
      grouped[o++] = digits[i];
    }
  grouped[o] = '\0';
  g_snprintf (buf, len, "%s%s %s", units < 0 ? "-" : "", grouped, currency);
}

static void
draw_top_bar (FtWallDraw *d, const FtWallScene *s, const FtWallView *v, int w, double k)
{
  cairo_surface_t *surf;
  int h = d->bar_h;
  cairo_t *cr = overlay_begin (w, h, &surf);
  set_rgb (cr, 0x18202c);
  cairo_paint (cr);
  char clock[32];
  ft_wall_format_time (s->t, clock, sizeof clock);
  text_at (cr, 18 * k, 30 * k, 17 * k, TRUE, 0x8fa3bf, "FLEET TWIN");
  text_at (cr, 18 * k + text_width (cr, 17 * k, TRUE, "FLEET TWIN  "), 30 * k, 17 * k, FALSE, 0xffffff, v->title);
  text_at (cr, 18 * k, 70 * k, 36 * k, TRUE, 0xffffff, clock);
  if (s->source_label)
    text_at (cr, 18 * k, 96 * k, 14 * k, FALSE, 0xb8c4d6, s->source_label);
  if (d->footer && *d->footer)
    text_at (cr, 18 * k, 116 * k, 13 * k, FALSE, 0x8fa3bf, d->footer);

  /* KPI tiles, right-aligned */
  char val[4][48];
  const char *lab[4] = { "Service level", "Battery availability", "Open tasks", "Revenue today" };
  if (s->service_level >= 0) g_snprintf (val[0], sizeof val[0], "%.1f %%", s->service_level * 100);
  else g_strlcpy (val[0], "—", sizeof val[0]);
  if (s->battery_available >= 0) g_snprintf (val[1], sizeof val[1], "%.1f %%", s->battery_available * 100);
  else g_strlcpy (val[1], "—", sizeof val[1]);
  if (s->open_tasks >= 0) g_snprintf (val[2], sizeof val[2], "%" G_GINT64_FORMAT, s->open_tasks);
  else g_strlcpy (val[2], "—", sizeof val[2]);
  format_money (s->revenue_today_minor, s->currency, val[3], sizeof val[3]);
  double gap = 10 * k, tw = MIN (250 * k, (w - 640 * k) / 4.0);
  double kx0 = w - 4 * (tw + gap);
  /* legend, left of the KPI tiles */
  double lx = MAX (kx0 - 190 * k, 18 * k + text_width (cr, 36 * k, TRUE, clock) + 30 * k);
  for (guint i = 0; i < FT_WALL_N_LAYERS; i++)
    {
      double y = (44 + i * 19) * k;
      Rgb c = layer_rgb[i];
      cairo_set_source_rgb (cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
      cairo_arc (cr, lx + 6 * k, y - 5 * k, 5.5 * k, 0, 2 * G_PI);
      cairo_fill (cr);
      text_at (cr, lx + 18 * k, y, 13 * k, FALSE, 0xdce3ec, layer_label[i]);
    }
  {
    double y = (44 + 4 * 19) * k;
    cairo_set_source_rgb (cr, van_rgb.r / 255.0, van_rgb.g / 255.0, van_rgb.b / 255.0);
    cairo_rectangle (cr, lx, y - 11 * k, 12 * k, 12 * k);
    cairo_fill (cr);
    text_at (cr, lx + 18 * k, y, 13 * k, FALSE, 0xdce3ec, "van and its next stop");
  }

  if (tw > 60)
    for (int i = 0; i < 4; i++)
      {
        double x = w - (4 - i) * (tw + gap), y = 10 * k, th = h - 20 * k;
        set_rgb (cr, 0x243044);
        cairo_rectangle (cr, x, y, tw, th);
        cairo_fill (cr);
        set_rgb (cr, 0x3d8bfd);
        cairo_rectangle (cr, x, y, 5 * k, th);
        cairo_fill (cr);
        text_at (cr, x + 16 * k, y + 28 * k, 15 * k, FALSE, 0xb8c4d6, lab[i]);
        double size = 40 * k;
        while (size > 12 && text_width (cr, size, TRUE, val[i]) > tw - 26 * k)
          size -= 2;
        text_at (cr, x + 16 * k, y + th - 22 * k, size, TRUE, 0xffffff, val[i]);
      }
  overlay_end (d, cr, surf, &d->top, &d->top_w, &d->top_h);
}

/* The ticker strip: every alert, newest first, in one wide texture that is
 * scrolled by copying a window of it. */
static void
draw_ticker_strip (FtWallDraw *d, const FtWallScene *s, double k)
{
  int h = d->tick_h;
  GString *line = g_string_new (NULL);
  for (guint i = 0; ; i++)
    {
      const FtWallAlert *a = ft_wall_scene_get_alert (s, i);
      if (a == NULL)
        break;
      char t[32];
      ft_wall_format_time (a->t, t, sizeof t);
      g_string_append_printf (line, "%s%s  %s", i ? "      •      " : "", t + 4, a->text);
    }
  if (line->len == 0)
    g_string_assign (line, "No alerts");
  cairo_surface_t *probe = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1, 1);
  cairo_t *pc = cairo_create (probe);
  double tw = text_width (pc, 19 * k, FALSE, line->str);
  cairo_destroy (pc);
  cairo_surface_destroy (probe);
  int w = (int) MIN (ceil (tw) + 40, 16000);
  cairo_surface_t *surf;
  cairo_t *cr = overlay_begin (w, h, &surf);
  set_rgb (cr, 0x111821);
  cairo_paint (cr);
  text_at (cr, 10, h / 2.0 + 7 * k, 19 * k, FALSE, 0xffd27a, line->str);
  overlay_end (d, cr, surf, &d->ticker, &d->ticker_w, &d->ticker_h);
  g_string_free (line, TRUE);

  cr = overlay_begin ((int) (130 * k), h, &surf);
  set_rgb (cr, 0xb3261e);
  cairo_paint (cr);
  text_at (cr, 16 * k, h / 2.0 + 7 * k, 19 * k, TRUE, 0xffffff, "ALERTS");
  overlay_end (d, cr, surf, &d->label, &d->label_w, &d->label_h);
}

static void
draw_notice (FtWallDraw *d, const char *msg, int w, double k)
{
  /* wrap at about 70 characters a line */
  g_auto (GStrv) paras = g_strsplit (msg, "\n", -1);
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  for (guint p = 0; paras[p]; p++)
    {
      const char *s = paras[p];
      while (g_utf8_strlen (s, -1) > 70)
        {
          const char *cut = g_utf8_offset_to_pointer (s, 70), *sp = cut;
          while (sp > s && *sp != ' ')
            sp--;
          if (sp == s)
            sp = cut;
          g_ptr_array_add (lines, g_strndup (s, sp - s));
          s = *sp == ' ' ? sp + 1 : sp;
        }
      g_ptr_array_add (lines, g_strdup (s));
    }
  double size = 20 * k, lh = 28 * k;
  int bw = (int) MIN (w - 40 * k, 1000 * k), bh = (int) (70 * k + lines->len * lh);
  cairo_surface_t *surf;
  cairo_t *cr = overlay_begin (bw, bh, &surf);
  set_rgb (cr, 0xb3261e);
  cairo_paint (cr);
  set_rgb (cr, 0x2a0d0b);
  cairo_rectangle (cr, 4 * k, 4 * k, bw - 8 * k, bh - 8 * k);
  cairo_fill (cr);
  text_at (cr, 24 * k, 40 * k, 22 * k, TRUE, 0xff8a80, "⚠  Problem");
  for (guint i = 0; i < lines->len; i++)
    text_at (cr, 24 * k, 40 * k + (i + 1) * lh, size, FALSE, 0xffffff, lines->pdata[i]);
  overlay_end (d, cr, surf, &d->notice, &d->notice_w, &d->notice_h);
  g_ptr_array_unref (lines);
}

typedef double (*SampleValue) (const FtWallSample *x);
static double sv_service (const FtWallSample *x) { return x->service_level < 0 ? NAN : x->service_level * 100; }
static double sv_battery (const FtWallSample *x) { return x->battery_available < 0 ? NAN : x->battery_available * 100; }
static double sv_tasks (const FtWallSample *x) { return x->open_tasks < 0 ? NAN : x->open_tasks; }
static double sv_lost (const FtWallSample *x) { return x->lost_per_hour; }

static void
draw_chart (cairo_t *cr, const GArray *hist, SampleValue fn, const char *title, const char *unit,
            gboolean percent, double x, double y, double w, double h, double k, guint32 colour)
{
  set_rgb (cr, 0x1d2633);
  cairo_rectangle (cr, x, y, w, h);
  cairo_fill (cr);
  text_at (cr, x + 16 * k, y + 30 * k, 20 * k, TRUE, 0xffffff, title);
  double px = x + 70 * k, py = y + 50 * k, pw = w - 90 * k, ph = h - 90 * k;
  double lo = 0, hi = percent ? 100 : 1;
  guint n = hist->len;
  double last = NAN;
  for (guint i = 0; i < n; i++)
    {
      double v = fn (&g_array_index (hist, FtWallSample, i));
      if (!isnan (v))
        {
          hi = MAX (hi, v);
          last = v;
        }
    }
  if (percent)
    {
      lo = 100;
      for (guint i = 0; i < n; i++)
        {
          double v = fn (&g_array_index (hist, FtWallSample, i));
          if (!isnan (v))
            lo = MIN (lo, v);
        }
      lo = MAX (0, floor (lo / 10) * 10 - 10);
      hi = 100;
    }
  else
    hi = ceil (hi * 1.1 + 1);
  char buf[64];
  if (!isnan (last))
    {
      g_snprintf (buf, sizeof buf, percent ? "%.1f %s" : "%.0f %s", last, unit);
      text_at (cr, x + w - 16 * k - text_width (cr, 20 * k, TRUE, buf), y + 30 * k, 20 * k, TRUE, colour, buf);
    }
  cairo_set_line_width (cr, 1);
  for (int g = 0; g <= 4; g++)
    {
      double gy = py + ph - g * ph / 4;
      set_rgb (cr, 0x2f3b4d);
      cairo_move_to (cr, px, gy);
      cairo_line_to (cr, px + pw, gy);
      cairo_stroke (cr);
      g_snprintf (buf, sizeof buf, "%.0f", lo + g * (hi - lo) / 4);
      text_at (cr, px - 10 * k - text_width (cr, 13 * k, FALSE, buf), gy + 5 * k, 13 * k, FALSE, 0x8fa3bf, buf);
    }
  if (n >= 1)
    {
      FtTime t0 = g_array_index (hist, FtWallSample, 0).t, t1 = g_array_index (hist, FtWallSample, n - 1).t;
      char a[32], b[32];
      ft_wall_format_time (t0, a, sizeof a);
      ft_wall_format_time (t1, b, sizeof b);
      text_at (cr, px, py + ph + 22 * k, 13 * k, FALSE, 0x8fa3bf, a);
      text_at (cr, px + pw - text_width (cr, 13 * k, FALSE, b), py + ph + 22 * k, 13 * k, FALSE, 0x8fa3bf, b);
      double span = MAX ((double) (t1 - t0), 1.0);
      set_rgb (cr, colour);
      cairo_set_line_width (cr, 3 * k);
      gboolean pen = FALSE;
      for (guint i = 0; i < n; i++)
        {
          const FtWallSample *sm = &g_array_index (hist, FtWallSample, i);
          double v = fn (sm);
          if (isnan (v))
            {
              pen = FALSE;
              continue;
            }
          double cx = px + (n == 1 ? pw : (sm->t - t0) / span * pw);
          double cy = py + ph - (CLAMP (v, lo, hi) - lo) / MAX (hi - lo, 1e-9) * ph;
          if (pen)
            cairo_line_to (cr, cx, cy);
          else
            cairo_move_to (cr, cx, cy);
          pen = TRUE;
        }
      cairo_stroke (cr);
    }
  else
    text_at (cr, px + 10 * k, py + ph / 2, 16 * k, FALSE, 0x8fa3bf, "no samples yet");
}

static void
draw_charts (FtWallDraw *d, const FtWallScene *s, int w, int h, double k)
{
  cairo_surface_t *surf;
  cairo_t *cr = overlay_begin (w, h, &surf);
  set_rgb (cr, 0x0f141b);
  cairo_paint (cr);
  double g = 14 * k, cw = (w - 3 * g) / 2, ch = (h - 3 * g) / 2;
  draw_chart (cr, s->history, sv_service, "Service level", "%", TRUE, g, g, cw, ch, k, 0x3d8bfd);
  draw_chart (cr, s->history, sv_battery, "Battery availability", "%", TRUE, 2 * g + cw, g, cw, ch, k, 0x22a046);
  draw_chart (cr, s->history, sv_tasks, "Open tasks", "", FALSE, g, 2 * g + ch, cw, ch, k, 0x8c3cc8);
  draw_chart (cr, s->history, sv_lost, "Lost requests per hour", "/h", FALSE, 2 * g + cw, 2 * g + ch, cw, ch, k,
              0xf0961e);
  overlay_end (d, cr, surf, &d->charts, &d->charts_w, &d->charts_h);
}

/* ---- frame ------------------------------------------------------------------------ */

gboolean
ft_wall_draw_frame (FtWallDraw *d, const FtWallScene *s, const FtWallView *v, int w, int h, GError **error)
{
  g_return_val_if_fail (d != NULL && s != NULL && v != NULL, FALSE);
  memset (&d->stats, 0, sizeof d->stats);
  double k = MAX (0.45, MIN (w / 1920.0, h / 1080.0));
  int bar_h = (int) (128 * k), tick_h = (int) (44 * k);
  gboolean resized = w != d->last_w || h != d->last_h || bar_h != d->bar_h;
  d->bar_h = bar_h;
  d->tick_h = tick_h;

  /* the map texture covers the whole frame: clearing under it would be a
   * second full-frame fill for nothing on a software renderer */
  gboolean covered = v->kind != FT_WALL_VIEW_CHARTS && d->tiles != NULL && SDL_RenderTargetSupported (d->r);
  if (SDL_SetRenderDrawColor (d->r, land_rgb.r, land_rgb.g, land_rgb.b, 255) != 0
      || (!covered && SDL_RenderClear (d->r) != 0))
    {
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_SDL, "cannot draw: %s", SDL_GetError ());
      return FALSE;
    }
  gint64 now = g_get_monotonic_time ();
  gboolean redraw = d->interval_ms == 0 || resized || v->kind != d->last_kind
                    || now - d->last_overlay_us >= (gint64) d->interval_ms * 1000;
  if (v->kind == FT_WALL_VIEW_CHARTS)
    {
      if (redraw || d->charts == NULL)
        draw_charts (d, s, w, h - bar_h - tick_h, k);
      SDL_Rect dst = { 0, bar_h, d->charts_w, d->charts_h };
      if (d->charts)
        SDL_RenderCopy (d->r, d->charts, NULL, &dst);
    }
  else
    {
      gint64 m0 = g_get_monotonic_time ();
      draw_map (d, v, w, h);
      gint64 m1 = g_get_monotonic_time ();
      draw_vehicles (d, s, v, w, h);
      d->stats.map_ms = (m1 - m0) / 1000.0;
      d->stats.vehicles_ms = (g_get_monotonic_time () - m1) / 1000.0;
    }
  gint64 o0 = g_get_monotonic_time ();

  /* KPI tiles */
  if (redraw || d->top == NULL)
    {
      draw_top_bar (d, s, v, w, k);
      d->last_overlay_us = now;
    }
  if (d->top)
    {
      SDL_Rect dst = { 0, 0, d->top_w, d->top_h };
      SDL_RenderCopy (d->r, d->top, NULL, &dst);
    }
  /* ticker */
  if (!d->ticker_valid || d->ticker_serial != s->alert_serial || resized)
    {
      draw_ticker_strip (d, s, k);
      d->ticker_serial = s->alert_serial;
      d->ticker_valid = TRUE;
      d->ticker_px = 0;
    }
  if (d->ticker)
    {
      int label_w = d->label_w;
      if (d->label)
        {
          SDL_Rect lab = { 0, h - tick_h, d->label_w, d->label_h };
          SDL_RenderCopy (d->r, d->label, NULL, &lab);
        }
      int avail = w - label_w;
      SDL_Rect bg = { label_w, h - tick_h, avail, tick_h };
      SDL_SetRenderDrawColor (d->r, 0x11, 0x18, 0x21, 255);
      SDL_RenderFillRect (d->r, &bg);
      int off = 0;
      if (d->ticker_w > avail)
        {
          off = (int) d->ticker_px % (d->ticker_w + 60);
          d->ticker_px += 2.0 * k;
        }
      int cw = MIN (d->ticker_w - off, avail);
      if (cw > 0)
        {
          SDL_Rect src = { off, 0, cw, d->ticker_h }, dst = { label_w, h - tick_h, cw, d->ticker_h };
          SDL_RenderCopy (d->r, d->ticker, &src, &dst);
        }
    }

  /* messages: the draw's own notices, the source's status, an empty scene */
  g_autofree char *notes = ft_wall_draw_dup_notices (d);
  GString *msg = g_string_new (notes);
  if (s->status)
    g_string_append_printf (msg, "%s%s", msg->len ? "\n" : "", s->status);
  if (s->vehicles->len == 0 && v->kind != FT_WALL_VIEW_CHARTS && msg->len == 0)
    g_string_append_printf (msg, "%sNo vehicles to show yet%s%s", msg->len ? "\n" : "",
                            s->source_label ? " from " : "", s->source_label ? s->source_label : "");
  if (msg->len)
    {
      if (d->notice == NULL || g_strcmp0 (d->shown_notice, msg->str) != 0 || resized)
        {
          draw_notice (d, msg->str, w, k);
          g_free (d->shown_notice);
          d->shown_notice = g_strdup (msg->str);
        }
      if (d->notice)
        {
          SDL_Rect dst = { (w - d->notice_w) / 2, (h - d->notice_h) / 2, d->notice_w, d->notice_h };
          SDL_RenderCopy (d->r, d->notice, NULL, &dst);
        }
    }
  g_string_free (msg, TRUE);
  d->stats.tiles_cached = g_hash_table_size (d->tex);
  d->stats.overlay_ms = (g_get_monotonic_time () - o0) / 1000.0;
  d->last_kind = v->kind;
  d->last_w = w;
  d->last_h = h;
  return TRUE;
}

void
ft_wall_draw_get_stats (FtWallDraw *d, FtWallDrawStats *out)
{
  *out = d->stats;
}

/* ---- PNG ------------------------------------------------------------------------------ */

/* libpng rather than cairo's writer: the frames of a video are written by
 * the hundred, so zlib's fastest level (1) rather than cairo's default, and
 * no row filter: libpng's adaptive choice tries all five on every row,
 * which more than doubled the time of a 1280x720 frame for a file no
 * smaller (measured on a Demo City replay frame: 27.5 ms and 213 kB with
 * the adaptive filters, 12.0 ms and 207 kB without). */
gboolean
ft_wall_write_png_raw (const guint8 *pixels, int w, int h, int pitch, const char *path, GError **error)
{
  FILE *f = fopen (path, "wb");
  if (f == NULL)
    {
      int e = errno;
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_EXPORT, "cannot write “%s”: %s", path, g_strerror (e));
      return FALSE;
    }
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct (png) : NULL;
  if (png == NULL || info == NULL)
    {
      png_destroy_write_struct (&png, &info);
      fclose (f);
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_EXPORT, "cannot write “%s”: out of memory", path);
      return FALSE;
    }
  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_write_struct (&png, &info);
      fclose (f);
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_EXPORT, "cannot write “%s” (disk full?)", path);
      return FALSE;
    }
  png_init_io (png, f);
  png_set_IHDR (png, info, (png_uint_32) w, (png_uint_32) h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level (png, 1);
  png_set_filter (png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_write_info (png, info);
  /* ARGB8888 in memory on a little-endian machine is B, G, R, X */
  png_set_bgr (png);
  png_set_filler (png, 0, PNG_FILLER_AFTER);
  for (int y = 0; y < h; y++)
    png_write_row (png, (png_const_bytep) (pixels + (gsize) y * pitch));
  png_write_end (png, info);
  png_destroy_write_struct (&png, &info);
  if (fclose (f) != 0)
    {
      int e = errno;
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_EXPORT, "cannot write “%s”: %s", path, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

gboolean
ft_wall_write_png (const guint8 *pixels, int w, int h, int pitch, const char *path, gboolean force,
                   GError **error)
{
  g_autoptr (FtOutput) out = ft_output_begin (path, FT_OUTPUT_FILE, NULL, force, error);
  if (out == NULL)
    return FALSE;
  if (!ft_wall_write_png_raw (pixels, w, h, pitch, ft_output_get_path (out), error))
    return FALSE;
  return ft_output_commit (g_steal_pointer (&out), error);
}
